// The Oracle B2C Service routes under /services/rest/connect/v1.4 (docs/oracle.md), on the
// producer's HTTP server:
//   POST tasks, GET tasks, GET tasks/{id}             create (answered after Kafka acked),
//                                                     the collection, one task
//   GET/POST tasks/{id}/notes, GET tasks/{id}/notes/{noteId}
//   GET tasks/{id}/fileAttachments                    always empty
//   GET namedIDs/tasks/{priority|taskType|statusWithType.status|statusWithType.statusType}
//   GET metadata-catalog/tasks[/notes]                the request schemas
// and, for every other path under /services/rest/connect, an Oracle-shaped 404 / 405.
// Every error is Oracle's problem JSON (oracle.h).
#pragma once

#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "task_commands.h"

namespace httplib {
class Server;
}

namespace conveyor {

// Registers the routes on `server` (before it starts). The catalogue, command service and
// reader must outlive the server; they are used from its threads. Should an embedded request
// schema be broken (a build defect, which the unit tests catch), the writes answer 500.
void RegisterOracleRoutes(httplib::Server& server, TaskTypeCatalog& catalog,
                          TaskCommandService& commands, TaskReader& reader);

}  // namespace conveyor

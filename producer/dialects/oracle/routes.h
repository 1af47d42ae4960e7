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
//
// Every route is authenticated (the guard). A client sees, changes and annotates only its own
// tasks (another client's task answers 404 OSC-CREST-00013, as a missing one) and lists only
// its own; the tasks it creates are its own. An admin key sees every task, and a task it
// creates is a system task (no client). Events record the caller's Identity() as created_by /
// requested_by, and notes as their created_by.
#pragma once

#include <httplib.h>

#include <functional>

#include "auth/caller.h"
#include "commands/task_commands.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "http/recording_server.h"

namespace conveyor {

// A route handler that needs to know who calls, and the function that turns one into an
// httplib handler: it authenticates the request (answering 401/403 itself, in Oracle's shape)
// and passes the Caller on.
using OracleHandler =
    std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;
using OracleGuard = std::function<httplib::Server::Handler(OracleHandler)>;

// Registers the routes on `server` (before it starts), each through `guard`. The catalogue,
// command service and reader must outlive the server; they are used from its threads. Should
// an embedded request schema be broken (a build defect, which the unit tests catch), the
// writes answer 500.
void RegisterOracleRoutes(RecordingServer& server, TaskTypeCatalog& catalog,
                          TaskCommandService& commands, TaskReader& reader,
                          const OracleGuard& guard);

}  // namespace conveyor

// The Oracle B2C Service dialect under /services/rest/connect/v1.4 (docs/oracle.md):
//   POST tasks, GET tasks, GET tasks/{id}             create (answered after Kafka acked),
//                                                     the collection, one task
//   PATCH tasks/{id} (or POST with X-HTTP-Method-Override: PATCH), DELETE tasks/{id}
//   GET/POST tasks/{id}/notes, GET tasks/{id}/notes/{noteId}
//   GET tasks/{id}/fileAttachments                    always empty
//   GET namedIDs/tasks/{priority|taskType|statusWithType.status|statusWithType.statusType}
//   GET metadata-catalog/tasks[/notes|/patch]         the request schemas
// and, for every other path under /services/rest/connect, an Oracle-shaped 404 / 405.
// Every error is Oracle's problem JSON (codec.h).
//
// Every route needs credentials. A client sees, changes and annotates only its own tasks
// (another client's task answers 404 OSC-CREST-00013, as a missing one) and lists only its
// own; the tasks it creates are its own. An admin key sees every task, and a task it creates
// is a system task (no client). Events record the caller's Identity() as created_by /
// requested_by, and notes as their created_by. Thread-safe (http/dialect.h).
#pragma once

#include <memory>

#include "commands/task_commands.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "http/dialect.h"

namespace conveyor {

class OracleDialect final : public http::Dialect {
 public:
  // Compiles the request schemas; kInternal naming the schema when one is broken (a build
  // defect: the producer refuses to start). The catalogue, command service and reader must
  // outlive the dialect. Links and Location headers start with `public_base_url`
  // ("https://tasks.example.com", no trailing '/'), whatever Host a request names.
  static Result<std::unique_ptr<OracleDialect>> Create(TaskTypeCatalog& catalog,
                                                       TaskCommandService& commands,
                                                       TaskReader& reader,
                                                       std::string public_base_url);
  ~OracleDialect() override;

  std::string_view Name() const override { return "oracle"; }
  std::vector<std::string> Prefixes() const override { return {"/services/rest/"}; }
  std::vector<http::Route> Routes() override;
  http::Answer ErrorAnswer(const http::Request& request, const Error& error) const override;

 private:
  class Impl;
  explicit OracleDialect(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor

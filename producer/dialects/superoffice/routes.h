// The SuperOffice batch-task routes (docs/superoffice.md):
//   agent  POST /api/v1/Agents/Batch/{GetBatchTaskInfo, GetBatchTaskInfosByAssociates,
//          …ByAssociatesAndState, …ByState, …ByNameAndState, …ByNameAndAssociates,
//          GetAllBatchTaskInfosByName[AndState], GetSystemBatchTaskInfosByName[AndState],
//          StartBatchJob, StopBatchJob, UpdateBatchTask, DeleteBatchTask, DeleteBatchTasks}
//   REST   GET /api/v1/BatchTask, GET /api/v1/BatchTask/{id}, GET /api/v1/BatchTask/{state},
//          POST /api/v1/BatchTask (start), POST /api/v1/BatchTask/{id}/Stop,
//          PUT /api/v1/BatchTask/{id} (update), DELETE /api/v1/BatchTask/{id}
// Every route takes $select, SO-TimeZone and Accept (JSON or XML). Agents answer "not found"
// with 200 and null (deletes: 204), REST with 404; a malformed request is 400 naming the
// field.
//
// Reads come from the PostgreSQL projection (TaskReader); the writes (start, stop, update,
// delete) publish command events (TaskCommandService) and answer once Kafka acknowledged them.
// Thread-safe (http/dialect.h).
#pragma once

#include <memory>

#include "commands/task_commands.h"
#include "conveyor/result.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "http/dialect.h"

namespace conveyor::superoffice {

// Every route needs credentials. A client sees and stops only its own tasks (another
// client's answers as not found) and its StartBatchJob tasks are its own; an admin key sees
// every task.
class SuperOfficeDialect final : public http::Dialect {
 public:
  // Compiles the request schemas; kInternal naming the schema when one is broken (a build
  // defect: the producer refuses to start). The catalogue, command service and reader must
  // outlive the dialect.
  static Result<std::unique_ptr<SuperOfficeDialect>> Create(TaskTypeCatalog& catalog,
                                                            TaskCommandService& commands,
                                                            TaskReader& reader);
  ~SuperOfficeDialect() override;

  std::string_view Name() const override { return "superoffice"; }
  std::vector<std::string> Prefixes() const override {
    return {"/api/v1/Agents/", "/api/v1/BatchTask"};
  }
  std::vector<http::Route> Routes() override;
  http::Answer ErrorAnswer(const http::Request& request, const Error& error) const override;

 private:
  struct Impl;
  explicit SuperOfficeDialect(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::superoffice

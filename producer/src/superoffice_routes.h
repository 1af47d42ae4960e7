// The SuperOffice batch-task routes (docs/superoffice.md):
//   agent  POST /api/v1/Agents/Batch/{GetBatchTaskInfo, GetBatchTaskInfosByAssociates,
//          …ByAssociatesAndState, …ByState, …ByNameAndState, …ByNameAndAssociates,
//          GetAllBatchTaskInfosByName[AndState], GetSystemBatchTaskInfosByName[AndState],
//          StartBatchJob, StopBatchJob}
//   REST   GET /api/v1/BatchTask, GET /api/v1/BatchTask/{id}, GET /api/v1/BatchTask/{state},
//          POST /api/v1/BatchTask (start), POST /api/v1/BatchTask/{id}/Stop
// Every route takes $select, SO-TimeZone and Accept (JSON or XML). Agents answer "not found"
// with 200 and null, REST with 404; a malformed request is 400 naming the field.
// UpdateBatchTask and DeleteBatchTask(s) (and REST PUT/DELETE) are not registered yet.
//
// Reads come from the PostgreSQL projection (TaskReader); StartBatchJob and StopBatchJob
// publish command events (TaskCommandService) and answer once Kafka acknowledged them.
// Handlers are thread-safe; the Routes object must outlive the server it is registered on.
#pragma once

#include <memory>

#include "conveyor/result.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "task_commands.h"

namespace httplib {
class Server;
}

namespace conveyor::superoffice {

class Routes {
 public:
  // kInternal when an embedded request schema does not compile (a build defect).
  static Result<std::unique_ptr<Routes>> Create(TaskTypeCatalog& catalog,
                                                TaskCommandService& commands, TaskReader& reader);
  ~Routes();

  void Register(httplib::Server& server);

 private:
  struct Impl;
  explicit Routes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::superoffice

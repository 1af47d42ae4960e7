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
// Handlers are thread-safe; the Routes object must outlive the server it is registered on.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>

#include "auth/caller.h"
#include "commands/task_commands.h"
#include "conveyor/result.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "http/recording_server.h"

namespace conveyor::superoffice {

class Routes {
 public:
  // kInternal when an embedded request schema does not compile (a build defect).
  static Result<std::unique_ptr<Routes>> Create(TaskTypeCatalog& catalog,
                                                TaskCommandService& commands, TaskReader& reader);
  ~Routes();

  // A route handler that needs to know who calls, and the function that turns one into an
  // httplib handler: it authenticates the request (answering 401/403 itself) and passes the
  // Caller on. A client sees and stops only its own tasks (another client's answers as not
  // found) and its StartBatchJob tasks are its own; an admin key sees every task.
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;
  using Guard = std::function<httplib::Server::Handler(Handler)>;

  void Register(RecordingServer& server, const Guard& guard);

 private:
  struct Impl;
  explicit Routes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::superoffice

// What the read endpoints show: a task from the projection with its latest run, and the
// port that finds one (PgTaskReader reads it from PostgreSQL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/pg.h"
#include "conveyor/result.h"
#include "conveyor/run_state.h"
#include "conveyor/task.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct RunView {
  Uuid id;
  RunState state = RunState::kQueued;
  int start_count = 0;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  std::string result;
  std::string worker;
  int attempt = 1;
  int progress_percent = 0;
  std::string progress_description;
  std::optional<std::string> file_name;
  bool cancel_requested = false;
};

struct TaskView {
  Task task;
  std::string type_name;
  std::string cancellation = "CanCancel";  // the type's BatchTaskCancellationBehaviour
  Timestamp modified_at;
  std::string modified_by;
  std::optional<RunView> last_run;
};

// One page of tasks and how many there are in all.
struct TaskPage {
  std::vector<TaskView> tasks;
  std::int64_t total = 0;
};

// Reads never show a deleted task: it is not found, and not listed.
class TaskReader {
 public:
  virtual ~TaskReader() = default;
  // The task with its latest run; std::nullopt when the projection has no such task.
  virtual Result<std::optional<TaskView>> FindTask(const Uuid& id) = 0;
  // The same by the task's integer number (SuperOffice and Oracle ids).
  virtual Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) = 0;
  // Up to `limit` tasks from `offset` on, oldest first (creation time, then number), of one
  // client when `client_id` is given, else of all; `total` counts all that match.
  virtual Result<TaskPage> ListTasks(const std::optional<Uuid>& client_id, std::int64_t offset,
                                     int limit) = 0;
};

class PgTaskReader final : public TaskReader {
 public:
  explicit PgTaskReader(PgPool& pool) : pool_(pool) {}
  Result<std::optional<TaskView>> FindTask(const Uuid& id) override;
  Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) override;
  Result<TaskPage> ListTasks(const std::optional<Uuid>& client_id, std::int64_t offset,
                             int limit) override;

 private:
  Result<std::optional<TaskView>> Find(const std::string& where, const std::string& key);
  PgPool& pool_;
};

}  // namespace conveyor

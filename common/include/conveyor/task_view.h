// What the read endpoints show: a task from the projection with its latest run, and the
// port that finds one or lists several (PgTaskReader reads them from PostgreSQL).
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

// Which tasks a list query (FilterTasks) returns. Every member that is set narrows the list; a
// default-constructed filter matches every task.
struct TaskFilter {
  // Tasks owned by one of these SuperOffice associate ids (0 = system tasks).
  std::optional<std::vector<std::int32_t>> associate_ids;
  // Tasks whose type has this catalogue name (exact, case-sensitive).
  std::optional<std::string> type_name;
  enum class Owner { kAny, kSystem, kUser };  // kSystem: associate id 0; kUser: any other
  Owner owner = Owner::kAny;
  // Tasks whose latest run is in one of these states, plus the tasks that have no run when
  // `or_no_run` is set. std::nullopt: any state. An empty set without `or_no_run` matches
  // nothing.
  std::optional<std::vector<RunState>> run_states;
  bool or_no_run = false;
  // At most this many tasks, the lowest numbers first.
  std::size_t limit = 1000;
};

struct TaskList {
  std::vector<TaskView> tasks;  // ordered by task number
  bool truncated = false;       // more tasks matched than the filter's limit
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
  // The tasks that match `filter`, each with its latest run. With a `client_id`, only that
  // client's tasks (a tenant sees nothing else); std::nullopt lists every client's tasks
  // (operators). kUnavailable when PostgreSQL does not answer.
  virtual Result<TaskList> FilterTasks(const TaskFilter& filter,
                                       const std::optional<Uuid>& client_id) = 0;
};

class PgTaskReader final : public TaskReader {
 public:
  explicit PgTaskReader(PgPool& pool) : pool_(pool) {}
  Result<std::optional<TaskView>> FindTask(const Uuid& id) override;
  Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) override;
  Result<TaskPage> ListTasks(const std::optional<Uuid>& client_id, std::int64_t offset,
                             int limit) override;
  Result<TaskList> FilterTasks(const TaskFilter& filter,
                               const std::optional<Uuid>& client_id) override;

 private:
  Result<std::optional<TaskView>> Find(const std::string& where, const std::string& key);
  PgPool& pool_;
};

}  // namespace conveyor

// What the read endpoints show: a task from the projection with its latest run, and the
// port that finds and lists them (PgTaskReader reads them from PostgreSQL).
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
  std::int64_t type_number = 0;            // the type's integer id (Oracle taskType.id)
  std::string cancellation = "CanCancel";  // the type's BatchTaskCancellationBehaviour
  Timestamp modified_at;
  std::string modified_by;
  std::optional<RunView> last_run;
};

// The task fields a collection query can filter and sort on.
enum class TaskField {
  kNumber,
  kName,
  kCreatedAt,
  kModifiedAt,
  kDueTime,
  kPlannedCompletionTime,
  kPriority,
  kTypeNumber,
  kTypeName,
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kIsNull, kIsNotNull };

// `field op value`. The value is text: a number for kNumber, kPriority and kTypeNumber, an
// RFC 3339 date-time for the times, a pattern with % and _ for kLike (case-insensitive);
// unused for kIsNull / kIsNotNull.
struct TaskCondition {
  TaskField field = TaskField::kNumber;
  CompareOp op = CompareOp::kEq;
  std::string value;
};

// The latest run's state is (negate: is not) one of `states`; std::nullopt stands for a task
// that has no run.
struct RunStateCondition {
  std::vector<std::optional<RunState>> states;
  bool negate = false;
};

struct TaskOrder {
  TaskField field = TaskField::kNumber;
  bool descending = false;
};

// A page of tasks: all conditions hold (AND), sorted by `order` then by number.
struct TaskQuery {
  // Only this client's tasks; std::nullopt: every client's (until authentication lands).
  std::optional<Uuid> client_id;
  std::vector<TaskCondition> conditions;
  std::vector<RunStateCondition> run_states;
  std::vector<TaskOrder> order;
  std::int64_t limit = 1000;
  std::int64_t offset = 0;
  bool count_total = false;
};

// One page of tasks.
struct TaskPage {
  std::vector<TaskView> tasks;
  std::int64_t total = 0;  // how many match in all (QueryTasks: only with count_total)
  bool has_more = false;   // rows exist beyond this page
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
  // A page of tasks as `query` asks (Oracle collections). kInvalidArgument (field q) when a
  // condition's value does not fit its field.
  virtual Result<TaskPage> QueryTasks(const TaskQuery& query) = 0;
  // The task's notes, oldest first.
  virtual Result<std::vector<TaskNote>> ListNotes(const Uuid& task_id) = 0;
};

// Thread-safe: each call takes its own connection from the pool.
class PgTaskReader final : public TaskReader {
 public:
  explicit PgTaskReader(PgPool& pool) : pool_(pool) {}
  Result<std::optional<TaskView>> FindTask(const Uuid& id) override;
  Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) override;
  Result<TaskPage> ListTasks(const std::optional<Uuid>& client_id, std::int64_t offset,
                             int limit) override;
  Result<TaskPage> QueryTasks(const TaskQuery& query) override;
  Result<std::vector<TaskNote>> ListNotes(const Uuid& task_id) override;

 private:
  Result<std::optional<TaskView>> Find(const std::string& where, const std::string& key);
  PgPool& pool_;
};

}  // namespace conveyor

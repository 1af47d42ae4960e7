// What the read endpoints show: a task from the projection with its latest run, and the
// port that finds and lists them (PgTaskReader reads them from PostgreSQL). Every list of
// every dialect is one TaskQuery: TwoSms's paged list (ListQuery) and SuperOffice's filters
// (FilterQuery) are translated into one, Oracle's collection builds its own.
#pragma once

#include <cstdint>
#include <map>
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
  std::optional<Timestamp> due_at;  // the due time a scheduled run was fired for
  Timestamp queued_at;
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

// The end of a run's log (what an exec program wrote on stderr, docs/handlers.md).
struct RunLog {
  std::string tail;        // its last characters, at most the number asked for
  std::int64_t bytes = 0;  // the whole log's length
};

struct TaskView {
  Task task;
  std::string type_name;
  std::int64_t type_number = 0;            // the type's integer id (Oracle taskType.id)
  std::string cancellation = "CanCancel";  // the type's BatchTaskCancellationBehaviour
  Timestamp modified_at;
  std::string modified_by;
  // The latest run that is not a skipped due time (RunState::kSkipped). A task whose create
  // no worker applied yet, and that does not wait for a schedule, shows the run the worker will
  // queue as queued (docs/adr/0006).
  std::optional<RunView> last_run;
  // When a task that runs on a schedule is due next (docs/scheduling.md); std::nullopt when
  // it does not, is disabled, or has no due time left.
  std::optional<Timestamp> next_run_at;
};

// The task fields a query can filter and sort on.
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
  kAssociateId,  // the SuperOffice owner; 0 = a system task
  kDescription,  // SuperOffice's Description
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kIsNull, kIsNotNull, kIn };

// `field op value`. The value is text: a number for kNumber, kPriority, kTypeNumber and
// kAssociateId, an RFC 3339 date-time for the times, a pattern with % and _ for kLike
// (case-insensitive); unused for kIsNull / kIsNotNull. kIn: the field equals one of `values`
// (an empty list matches nothing). kEq on kTypeName is exact (case-sensitive).
struct TaskCondition {
  TaskField field = TaskField::kNumber;
  CompareOp op = CompareOp::kEq;
  std::string value;
  std::vector<std::string> values;  // kIn only
};

// The latest run's state is (negate: is not) one of `states`; std::nullopt stands for a task
// that has no run. An empty list without negate matches nothing.
struct RunStateCondition {
  std::vector<std::optional<RunState>> states;
  bool negate = false;
};

struct TaskOrder {
  TaskField field = TaskField::kNumber;
  bool descending = false;
};

// A page of tasks: all conditions hold (AND), sorted by `order` then by number. Deleted
// tasks are never part of it.
struct TaskQuery {
  // Only this client's tasks (a tenant sees nothing else); std::nullopt: every client's
  // tasks and the system tasks (an admin key).
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
  std::int64_t total = 0;  // how many match in all (only when the query's count_total is set)
  bool has_more = false;   // rows exist beyond this page (for a limited list: it was cut)
};

// SuperOffice's list filters (the Get…BatchTaskInfos… methods). Every member that is set
// narrows the list; a default-constructed filter matches every task. FilterQuery turns it
// into a TaskQuery.
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

// TwoSms's paged list: up to `limit` tasks from `offset` on, oldest first (creation time, then
// number), of one client when `client_id` is given, else of all, with the total counted.
TaskQuery ListQuery(const std::optional<Uuid>& client_id, std::int64_t offset, std::int64_t limit);
// SuperOffice's filter for `client_id` (std::nullopt: every client's tasks), by number; the
// page's has_more says more than filter.limit tasks matched.
TaskQuery FilterQuery(const TaskFilter& filter, const std::optional<Uuid>& client_id);

// A page of a task's notes (TaskReader::ListNotes).
struct NotePage {
  std::vector<TaskNote> notes;
  std::int64_t total = 0;  // the task's notes, all pages
};

// Reads never show a deleted task: it is not found, and not listed.
class TaskReader {
 public:
  virtual ~TaskReader() = default;
  // The task with its latest run; std::nullopt when the projection has no such task.
  virtual Result<std::optional<TaskView>> FindTask(const Uuid& id) = 0;
  // The same by the task's integer number (SuperOffice and Oracle ids).
  virtual Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) = 0;
  // A page of tasks as `query` asks. kInvalidArgument (field q) when a condition's value does
  // not fit its field; kUnavailable when PostgreSQL does not answer.
  virtual Result<TaskPage> QueryTasks(const TaskQuery& query) = 0;
  // A page of the task's notes, oldest first: at most `limit` from `offset` on, and how many
  // the task has. Only that page is read.
  virtual Result<NotePage> ListNotes(const Uuid& task_id, std::int64_t offset,
                                     std::int64_t limit) = 0;
  // One note of the task; std::nullopt when it has none with that id.
  virtual Result<std::optional<TaskNote>> FindNote(const Uuid& task_id, std::int64_t note_id) = 0;
  // The task's runs, skipped due times included, newest first, at most `limit`.
  virtual Result<std::vector<RunView>> ListRuns(const Uuid& task_id, std::size_t limit) = 0;
  // The last `tail_chars` characters of the log of the task's run `run_id`; std::nullopt when
  // the task has no such run.
  virtual Result<std::optional<RunLog>> FindRunLog(const Uuid& task_id, const Uuid& run_id,
                                                   std::size_t tail_chars) = 0;

  // QueryTasks(ListQuery(...)): TwoSms's list.
  Result<TaskPage> ListTasks(const std::optional<Uuid>& client_id, std::int64_t offset,
                             std::int64_t limit) {
    return QueryTasks(ListQuery(client_id, offset, limit));
  }
  // QueryTasks(FilterQuery(...)): SuperOffice's lists.
  Result<TaskPage> FilterTasks(const TaskFilter& filter, const std::optional<Uuid>& client_id) {
    return QueryTasks(FilterQuery(filter, client_id));
  }
};

// The tasks among `ids` as the projection holds them in `tx` (the tasks table: commands a
// producer accepted and no worker applied yet are not shown), by id; a task that was deleted
// or does not exist is absent. For the task-state events (docs/events.md, conveyor.tasks).
std::map<std::string, TaskView> ReadProjectedTasks(pqxx::transaction_base& tx,
                                                   const std::vector<Uuid>& ids);

// Thread-safe: each call takes its own connection from the pool.
class PgTaskReader final : public TaskReader {
 public:
  explicit PgTaskReader(PgPool& pool) : pool_(pool) {}
  Result<std::optional<TaskView>> FindTask(const Uuid& id) override;
  Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) override;
  Result<TaskPage> QueryTasks(const TaskQuery& query) override;
  Result<NotePage> ListNotes(const Uuid& task_id, std::int64_t offset, std::int64_t limit) override;
  Result<std::optional<TaskNote>> FindNote(const Uuid& task_id, std::int64_t note_id) override;
  Result<std::vector<RunView>> ListRuns(const Uuid& task_id, std::size_t limit) override;
  Result<std::optional<RunLog>> FindRunLog(const Uuid& task_id, const Uuid& run_id,
                                           std::size_t tail_chars) override;

 private:
  Result<std::optional<TaskView>> Find(const std::string& where, const std::string& key);
  PgPool& pool_;
};

}  // namespace conveyor

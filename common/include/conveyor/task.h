// The task model shared by every API dialect, the command events and the projection.
//
// A Task is one registered piece of work for a client: the TwoSms account task, the Oracle
// task and the SuperOffice batch task are three views of it. Each task has two public ids:
// a UUID (`id`) and an integer (`number`), both allocated by the producer before the command
// event is published. A task's type (`task_type_id`, the TwoSms TaskID) names the handler
// that runs it. These are plain values; nothing here does I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

// How often a task runs. TwoSms publishes only NONE = 0; Conveyor defines the rest as its
// extension (docs/scheduling.md). NONE runs the task once, at its StartDate or, without one
// (or with one past), as soon as it is accepted; the others repeat from StartDate at its
// local time in the task's time zone, as RFC 5545's FREQ of the same name does.
enum class Frequency : int { kNone = 0, kHourly = 1, kDaily = 2, kWeekly = 3, kMonthly = 4 };

// Which run outcomes produce a notification event on conveyor.notifications. TwoSms
// publishes only NONE = 0; Conveyor's members are bit flags (COMPLETION = SUCCESS | FAILURE).
enum class TaskNotification : int {
  kNone = 0,
  kSuccess = 1,
  kFailure = 2,
  kCompletion = 3,
  kProgress = 4,  // conveyor.run.progress while a run runs (combinable: 5, 6, 7)
};

// What a repeating task does with due times nobody could fire (every worker down across
// several): kOne fires one run for the missed window, kAll fires each, at most
// TaskSchedule::catch_up_limit of them, oldest first (docs/scheduling.md).
enum class CatchUp : int { kOne = 0, kAll = 1 };
// What a due time does while the task's previous run still runs: kSkip records the due time
// as a skipped run, kBufferOne queues one run that starts when the previous one ended.
enum class Overlap : int { kSkip = 0, kBufferOne = 1 };

// Conveyor's scheduling extension of a task (migration 0011): an RFC 5545 recurrence rule
// that repeats the task instead of its Frequency, the IANA time zone its schedule is evaluated
// in, and its catch-up and overlap policies. The defaults are a task without the extension.
struct TaskSchedule {
  std::string recurrence;  // an RRULE value, e.g. "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6"
  std::string time_zone = "UTC";
  CatchUp catch_up = CatchUp::kOne;
  int catch_up_limit = 10;  // kAll: at most this many missed due times fire (1..100)
  Overlap overlap = Overlap::kSkip;

  bool operator==(const TaskSchedule&) const = default;
};
inline constexpr int kMaxCatchUpLimit = 100;

std::string_view CatchUpName(CatchUp c);  // "ONE", "ALL"
std::optional<CatchUp> CatchUpFromName(std::string_view name);
std::string_view OverlapName(Overlap o);  // "SKIP", "BUFFER_ONE"
std::optional<Overlap> OverlapFromName(std::string_view name);

std::string_view FrequencyName(Frequency f);
// Accepts the name ("NONE") or the number as text ("0").
std::optional<Frequency> FrequencyFromName(std::string_view name);
std::optional<Frequency> FrequencyFromNumber(long long n);

std::string NotificationName(TaskNotification n);
std::optional<TaskNotification> NotificationFromName(std::string_view name);
std::optional<TaskNotification> NotificationFromNumber(long long n);

bool NotifiesOnSuccess(TaskNotification n);
bool NotifiesOnFailure(TaskNotification n);
bool NotifiesOnProgress(TaskNotification n);

struct Task {
  Uuid id;
  std::int64_t number = 0;
  Uuid task_type_id;
  std::optional<Uuid> client_id;
  bool enabled = true;
  Frequency frequency = Frequency::kNone;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> finish_date;
  std::string parameters;
  std::string content_type;  // "application/json" or "application/xml"
  TaskNotification notification = TaskNotification::kNone;
  Timestamp created_at;
  std::string created_by;
  // Added with the Oracle dialect; events written before carry none of them (defaults).
  std::string name;             // the task's own name (Oracle name/lookupName)
  std::optional<int> priority;  // 1 Low, 2 Normal, 3 High, 4 Critical (PriorityName)
  std::optional<Timestamp> due_time;
  std::optional<Timestamp> planned_completion_time;
  // Ids of records in the caller's own system that the task refers to, kept as given
  // (Oracle contact, organization, assignedToAccount).
  std::map<std::string, std::int64_t> external_refs;
  // SuperOffice BatchTaskInfo fields (migration 0006). The owner's associate id: 0 means a
  // system task (IsSystemTask). Description and Request are stored as given; events written
  // before these fields existed decode with the defaults.
  std::int32_t associate_id = 0;
  std::string description;
  std::string request;
  // A SuperOffice UpdateBatchTask's Response (migration 0008); std::nullopt: the latest run's
  // result is shown as Response.
  std::optional<std::string> response;
  TaskSchedule schedule;
};

// Whether the task waits for its schedule (docs/scheduling.md): it repeats (Frequency other
// than NONE, or a recurrence rule), or its StartDate is later than `accepted_at`. A task that
// does not runs at once when a worker applies its create, as before scheduling existed.
bool RunsOnSchedule(const Task& task, Timestamp accepted_at);

// Conveyor's fixed task priorities (docs/oracle.md): 1 Low, 2 Normal, 3 High, 4 Critical.
inline constexpr int kMinPriority = 1;
inline constexpr int kMaxPriority = 4;
// "Low" ... "Critical"; empty for a number outside the list.
std::string_view PriorityName(int priority);

// A note on a task (Oracle tasks-notes), written by a conveyor.task.note.add command. Its id
// comes from the producer's task number allocator.
struct TaskNote {
  std::int64_t id = 0;
  Uuid task_id;
  std::string text;
  Timestamp created_at;
  std::string created_by;
};

// What a conveyor.task.update command changes (TwoSms PUT api/v1/admin/tasks/account/{id}):
// every field of the create request is replaced; `enabled` is changed only when given.
// The worker decides what a change of `enabled` does to the task's runs (docs/events.md).
struct TaskUpdate {
  Uuid task_id;
  Uuid task_type_id;
  std::optional<bool> enabled;  // std::nullopt: unchanged
  Frequency frequency = Frequency::kNone;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> finish_date;
  std::string parameters;
  std::string content_type;
  TaskNotification notification = TaskNotification::kNone;
  std::string requested_by;
  // Oracle PATCH: each replaces its field when set (an inner std::nullopt clears it); unset,
  // the field stays as it is. TwoSms PUT sets none of them.
  std::optional<std::string> name;
  std::optional<std::optional<int>> priority;
  std::optional<std::optional<Timestamp>> due_time;
  std::optional<std::optional<Timestamp>> planned_completion_time;
  // TwoSms PUT replaces it (a request without the extension's fields sets the defaults);
  // std::nullopt (Oracle PATCH) leaves it.
  std::optional<TaskSchedule> schedule;
};

// `task` with `update` applied (the id, number, client and creation stay).
Task ApplyUpdate(Task task, const TaskUpdate& update);

// What a conveyor.task.batch-update command changes (SuperOffice UpdateBatchTask and
// PUT /api/v1/BatchTask/{id}: "only State, Description, Response and Request can be
// changed"). A field left std::nullopt is unchanged.
struct BatchTaskUpdate {
  // What the requested State does to the task's runs (docs/superoffice.md).
  enum class RunChange {
    kNone,
    kStop,      // State Failed on a live run: request its cancel (as StopBatchJob)
    kRunAgain,  // State New on a finished task: queue a new run (its id is the event id)
  };
  Uuid task_id;
  std::optional<std::string> description;
  std::optional<std::string> request;
  std::optional<std::string> response;
  RunChange run_change = RunChange::kNone;
  std::string requested_by;
};

// `task` with the fields of `update` applied (a run-again clears the response unless the update
// sets one), as the worker applies it; what it does to the runs is the worker's.
Task ApplyBatchUpdate(Task task, const BatchTaskUpdate& update);

// What a conveyor.task.fire command asks (docs/scheduling.md): one run of the task for the due
// time `due_at`. Schedulers fire a task's due times; "run now" (an API action) fires one at
// once, outside the schedule and its overlap policy.
struct TaskFire {
  Uuid task_id;
  Timestamp due_at;
  bool run_now = false;
  std::string requested_by;  // "scheduler:<worker name>", or the caller of run now
};

std::string_view RunChangeName(BatchTaskUpdate::RunChange change);
std::optional<BatchTaskUpdate::RunChange> RunChangeFromName(std::string_view name);

}  // namespace conveyor

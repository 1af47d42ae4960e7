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
};

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

std::string_view RunChangeName(BatchTaskUpdate::RunChange change);
std::optional<BatchTaskUpdate::RunChange> RunChangeFromName(std::string_view name);

}  // namespace conveyor

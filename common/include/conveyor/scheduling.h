// When a task runs, as the scheduler and the workers decide it (docs/scheduling.md): the
// task-level rules over Schedule (schedule.h), pure functions of the task and the times given.
//
// A task runs on a schedule when it repeats (a Frequency other than NONE, or a recurrence
// rule) or its StartDate lies after the time it was accepted (RunsOnSchedule, task.h). Its
// first due time is fixed when a worker applies its create or an update of it; a scheduler
// fires each due time by publishing a conveyor.task.fire command whose event id (= the run's
// id) is derived from the task and the due time, so that any number of schedulers firing the
// same due time, or one firing it again after a crash, make one run.
#pragma once

#include <optional>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/schedule.h"
#include "conveyor/task.h"
#include "conveyor/uuid.h"

namespace conveyor {

// A repeating task without a StartDate is anchored at `at`, the time its schedule was set
// (accepted, or replaced by an update): StartDate becomes `at`, so that every later decision
// about it reads the same anchor from the task itself.
void AnchorSchedule(Task& task, Timestamp at);

// The schedule the task's fields describe; `anchor` stands for a missing StartDate (the time
// its schedule was set). Errors as Schedule::Create's, naming the API's fields.
ScheduleSpec SpecOf(const Task& task);
Result<Schedule> ScheduleOf(const Task& task, Timestamp anchor);

// The first due time at or after `from` of the schedule as set at `from`; std::nullopt when
// there is none (past FinishDate, or a schedule that does not compile, which the API refused
// before it was accepted).
std::optional<Timestamp> FirstDueTime(const Task& task, Timestamp from);

// What a scheduler does with a task whose earliest unfired due time `next_due` has come
// (next_due <= now): the due times to fire, oldest first, and the next due time after `now`.
// Catch-up ONE fires `next_due` alone (it stays the same however often a crashed scheduler's
// successor decides again); ALL fires the due times in [next_due, now], at most
// catch_up_limit, oldest first; the others are not fired. Due times after FinishDate never
// fire.
struct FirePlan {
  std::vector<Timestamp> due;
  std::optional<Timestamp> next;
};
FirePlan PlanFiring(const Task& task, const Schedule& schedule, Timestamp next_due, Timestamp now);

// What a fired due time does to the task's runs, given the task's overlap policy and its
// runs: kQueue a run; kQueueAfter a run that starts once `live` ended (BUFFER_ONE); kSkip it,
// recorded as a skipped run (SKIP, or BUFFER_ONE with one run buffered already). Run now
// always queues.
enum class FireAction { kQueue, kQueueAfter, kSkip };
FireAction DecideFire(const TaskFire& fire, Overlap overlap, bool live_run, bool buffered_run);

// The id of the conveyor.task.fire event, and of its run, for `task_id` due at `due`: a
// name-based UUID (RFC 9562 version 5) of both, the same wherever and however often it is
// computed.
Uuid FireEventId(const Uuid& task_id, Timestamp due);

}  // namespace conveyor

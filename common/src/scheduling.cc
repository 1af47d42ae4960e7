#include "conveyor/scheduling.h"

#include <algorithm>
#include <string>

namespace conveyor {

void AnchorSchedule(Task& task, Timestamp at) {
  bool repeats = task.frequency != Frequency::kNone || !task.schedule.recurrence.empty();
  if (repeats && !task.start_date) task.start_date = at;
}

ScheduleSpec SpecOf(const Task& t) {
  ScheduleSpec s;
  s.frequency = t.frequency;
  s.recurrence = t.schedule.recurrence;
  s.time_zone = t.schedule.time_zone;
  s.start = t.start_date;
  s.finish = t.finish_date;
  return s;
}

Result<Schedule> ScheduleOf(const Task& task, Timestamp anchor) {
  return Schedule::Create(SpecOf(task), anchor);
}

std::optional<Timestamp> FirstDueTime(const Task& task, Timestamp from) {
  auto schedule = ScheduleOf(task, from);
  if (!schedule) return std::nullopt;
  return schedule->NextAfter(from - std::chrono::microseconds(1));
}

FirePlan PlanFiring(const Task& task, const Schedule& schedule, Timestamp next_due, Timestamp now) {
  FirePlan plan;
  if (task.schedule.catch_up == CatchUp::kAll) {
    plan.due = schedule.Between(next_due - std::chrono::microseconds(1), now,
                                static_cast<std::size_t>(task.schedule.catch_up_limit));
  } else {
    plan.due.push_back(next_due);
  }
  plan.next = schedule.NextAfter(now);
  return plan;
}

FireAction DecideFire(const TaskFire& fire, Overlap overlap, bool live_run, bool buffered_run) {
  if (fire.run_now || !live_run) return FireAction::kQueue;
  if (overlap == Overlap::kBufferOne && !buffered_run) return FireAction::kQueueAfter;
  return FireAction::kSkip;
}

Uuid FireEventId(const Uuid& task_id, Timestamp due) {
  static const Uuid kNamespace = *Uuid::Parse("6f0b1a8e-2f7c-4d1e-9a3b-5c8d7e6f4a21");
  return Uuid::NameBased(kNamespace,
                         task_id.ToString() + "@" + std::to_string(due.time_since_epoch().count()));
}

}  // namespace conveyor

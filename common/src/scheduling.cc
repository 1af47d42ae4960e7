#include "conveyor/scheduling.h"

#include <openssl/sha.h>

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
  // RFC 9562 version 5: SHA-1 of a namespace UUID and the name, 122 bits of it kept.
  static const Uuid kNamespace = *Uuid::Parse("6f0b1a8e-2f7c-4d1e-9a3b-5c8d7e6f4a21");
  const auto& space = kNamespace.bytes();
  std::string name(space.begin(), space.end());
  name += task_id.ToString() + "@" + std::to_string(due.time_since_epoch().count());
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  std::uint8_t bytes[16];
  std::copy(digest, digest + 16, bytes);
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x50);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
  return Uuid::FromBytes(bytes);
}

}  // namespace conveyor

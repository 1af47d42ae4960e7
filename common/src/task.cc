#include "conveyor/task.h"

#include <algorithm>
#include <charconv>

#include "conveyor/task_types.h"

namespace conveyor {

namespace {

constexpr Frequency kFrequencies[] = {Frequency::kNone, Frequency::kHourly, Frequency::kDaily,
                                      Frequency::kWeekly, Frequency::kMonthly};

}  // namespace

std::string_view FrequencyName(Frequency f) {
  switch (f) {
    case Frequency::kNone:
      return "NONE";
    case Frequency::kHourly:
      return "HOURLY";
    case Frequency::kDaily:
      return "DAILY";
    case Frequency::kWeekly:
      return "WEEKLY";
    case Frequency::kMonthly:
      return "MONTHLY";
  }
  return "NONE";
}

std::optional<Frequency> FrequencyFromNumber(long long n) {
  for (auto f : kFrequencies)
    if (static_cast<long long>(f) == n) return f;
  return std::nullopt;
}

std::optional<Frequency> FrequencyFromName(std::string_view name) {
  for (auto f : kFrequencies)
    if (name == FrequencyName(f)) return f;
  long long n = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec == std::errc() && p == name.data() + name.size()) return FrequencyFromNumber(n);
  return std::nullopt;
}

std::string_view CatchUpName(CatchUp c) { return c == CatchUp::kAll ? "ALL" : "ONE"; }

std::optional<CatchUp> CatchUpFromName(std::string_view name) {
  for (auto c : {CatchUp::kOne, CatchUp::kAll})
    if (name == CatchUpName(c)) return c;
  return std::nullopt;
}

std::string_view OverlapName(Overlap o) { return o == Overlap::kBufferOne ? "BUFFER_ONE" : "SKIP"; }

std::optional<Overlap> OverlapFromName(std::string_view name) {
  for (auto o : {Overlap::kSkip, Overlap::kBufferOne})
    if (name == OverlapName(o)) return o;
  return std::nullopt;
}

bool RunsOnSchedule(const Task& t, Timestamp accepted_at) {
  return t.frequency != Frequency::kNone || !t.schedule.recurrence.empty() ||
         (t.start_date && *t.start_date > accepted_at);
}

std::string NotificationName(TaskNotification n) {
  // As .NET writes a [Flags] enum: the outcome part by its name, then ", PROGRESS".
  int v = static_cast<int>(n);
  static constexpr std::string_view kOutcome[] = {"NONE", "SUCCESS", "FAILURE", "COMPLETION"};
  std::string name(kOutcome[v & 3]);
  if (v & 4) return (v & 3) == 0 ? std::string("PROGRESS") : name + ", PROGRESS";
  return name;
}

std::optional<TaskNotification> NotificationFromNumber(long long n) {
  if (n >= 0 && n <= 7) return static_cast<TaskNotification>(n);
  return std::nullopt;
}

std::optional<TaskNotification> NotificationFromName(std::string_view name) {
  long long number = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc() && p == name.data() + name.size()) return NotificationFromNumber(number);
  // One or more names joined by commas ("SUCCESS, PROGRESS"), ORed together.
  static constexpr std::pair<std::string_view, int> kNames[] = {
      {"NONE", 0}, {"SUCCESS", 1}, {"FAILURE", 2}, {"COMPLETION", 3}, {"PROGRESS", 4}};
  int v = 0;
  while (!name.empty()) {
    auto comma = name.find(',');
    auto part = name.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    auto it = std::find_if(std::begin(kNames), std::end(kNames),
                           [&](const auto& e) { return e.first == part; });
    if (it == std::end(kNames)) return std::nullopt;
    v |= it->second;
    if (comma == std::string_view::npos) break;
    name.remove_prefix(comma + 1);
  }
  return static_cast<TaskNotification>(v);
}

bool NotifiesOnSuccess(TaskNotification n) { return (static_cast<int>(n) & 1) != 0; }
bool NotifiesOnFailure(TaskNotification n) { return (static_cast<int>(n) & 2) != 0; }
bool NotifiesOnProgress(TaskNotification n) { return (static_cast<int>(n) & 4) != 0; }

Task ApplyUpdate(Task t, const TaskUpdate& u) {
  t.task_type_id = u.task_type_id;
  if (u.enabled) t.enabled = *u.enabled;
  t.frequency = u.frequency;
  t.start_date = u.start_date;
  t.finish_date = u.finish_date;
  t.parameters = u.parameters;
  t.content_type = u.content_type;
  t.notification = u.notification;
  if (u.name) t.name = *u.name;
  if (u.priority) t.priority = *u.priority;
  if (u.due_time) t.due_time = *u.due_time;
  if (u.planned_completion_time) t.planned_completion_time = *u.planned_completion_time;
  if (u.schedule) t.schedule = *u.schedule;
  return t;
}

Task ApplyBatchUpdate(Task t, const BatchTaskUpdate& u) {
  if (u.description) t.description = *u.description;
  if (u.request) t.request = *u.request;
  if (u.response)
    t.response = *u.response;
  else if (u.run_change == BatchTaskUpdate::RunChange::kRunAgain)
    t.response.reset();
  return t;
}

std::string_view RunChangeName(BatchTaskUpdate::RunChange change) {
  switch (change) {
    case BatchTaskUpdate::RunChange::kNone:
      return "none";
    case BatchTaskUpdate::RunChange::kStop:
      return "stop";
    case BatchTaskUpdate::RunChange::kRunAgain:
      return "run_again";
  }
  return "none";
}

std::optional<BatchTaskUpdate::RunChange> RunChangeFromName(std::string_view name) {
  for (auto c : {BatchTaskUpdate::RunChange::kNone, BatchTaskUpdate::RunChange::kStop,
                 BatchTaskUpdate::RunChange::kRunAgain})
    if (RunChangeName(c) == name) return c;
  return std::nullopt;
}

std::string_view PriorityName(int priority) {
  static constexpr std::string_view kNames[] = {"Low", "Normal", "High", "Critical"};
  if (priority < kMinPriority || priority > kMaxPriority) return {};
  return kNames[priority - kMinPriority];
}

Uuid NoopTaskTypeId() { return *Uuid::Parse("00000000-0000-0000-0000-000000000001"); }

bool TaskType::GrantedTo(const std::optional<Uuid>& client) const {
  if (clients.empty() || !client) return true;
  return std::find(clients.begin(), clients.end(), *client) != clients.end();
}

}  // namespace conveyor

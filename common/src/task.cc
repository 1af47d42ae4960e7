#include "conveyor/task.h"

#include <charconv>

#include "conveyor/task_types.h"

namespace conveyor {

std::string_view FrequencyName(Frequency f) {
  switch (f) {
    case Frequency::kNone:
      return "NONE";
  }
  return "NONE";
}

std::optional<Frequency> FrequencyFromNumber(long long n) {
  if (n == 0) return Frequency::kNone;
  return std::nullopt;
}

std::optional<Frequency> FrequencyFromName(std::string_view name) {
  if (name == "NONE") return Frequency::kNone;
  long long n = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec == std::errc() && p == name.data() + name.size()) return FrequencyFromNumber(n);
  return std::nullopt;
}

std::string_view NotificationName(TaskNotification n) {
  switch (n) {
    case TaskNotification::kNone:
      return "NONE";
    case TaskNotification::kSuccess:
      return "SUCCESS";
    case TaskNotification::kFailure:
      return "FAILURE";
    case TaskNotification::kCompletion:
      return "COMPLETION";
  }
  return "NONE";
}

std::optional<TaskNotification> NotificationFromNumber(long long n) {
  if (n >= 0 && n <= 3) return static_cast<TaskNotification>(n);
  return std::nullopt;
}

std::optional<TaskNotification> NotificationFromName(std::string_view name) {
  for (int i = 0; i <= 3; ++i) {
    auto n = static_cast<TaskNotification>(i);
    if (name == NotificationName(n)) return n;
  }
  long long n = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec == std::errc() && p == name.data() + name.size()) return NotificationFromNumber(n);
  return std::nullopt;
}

bool NotifiesOnSuccess(TaskNotification n) { return (static_cast<int>(n) & 1) != 0; }
bool NotifiesOnFailure(TaskNotification n) { return (static_cast<int>(n) & 2) != 0; }

Uuid NoopTaskTypeId() { return *Uuid::Parse("00000000-0000-0000-0000-000000000001"); }

}  // namespace conveyor

#include "progress_view.h"

#include <algorithm>

#include "conveyor/time_format.h"

namespace conveyor::cli {
namespace {

std::string StringOr(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

TaskProgress ProgressOf(const nlohmann::json& info) {
  TaskProgress p;
  if (info.contains("Id") && info["Id"].is_number_integer()) p.id = info["Id"].get<std::int64_t>();
  p.name = StringOr(info, "Name");
  p.state = StringOr(info, "State");
  if (info.contains("ProgressPercent") && info["ProgressPercent"].is_number())
    p.percent = std::clamp(info["ProgressPercent"].get<int>(), 0, 100);
  p.text = IsFinal(p.state) ? StringOr(info, "Result") : StringOr(info, "ProgressDescription");
  if (auto started = StringOr(info, "LastStarted"); !started.empty())
    if (auto t = ParseDateTime(started)) p.started_at = *t;
  return p;
}

bool IsSuccess(const std::string& state) {
  return state == "Succeeded" || state == "SucceededManualCleanup";
}

bool IsFinal(const std::string& state) { return IsSuccess(state) || state == "Failed"; }

std::string Bar(int percent, int width) {
  int inner = std::max(width - 2, 1);
  int filled = std::clamp(percent, 0, 100) * inner / 100;
  return "[" + std::string(filled, '#') + std::string(inner - filled, '-') + "]";
}

std::string Elapsed(std::chrono::seconds s) {
  auto total = std::max<long long>(s.count(), 0);
  char text[32];
  if (total < 60)
    std::snprintf(text, sizeof text, "%llds", total);
  else if (total < 3600)
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total / 60 % 60);
  return text;
}

std::string ProgressView::Line(const TaskProgress& t, Timestamp now) {
  std::string elapsed = "-";
  if (auto frozen = done_.find(t.id); frozen != done_.end()) {
    elapsed = Elapsed(frozen->second);
  } else if (t.started_at) {
    auto e = std::chrono::duration_cast<std::chrono::seconds>(now - *t.started_at);
    if (IsFinal(t.state)) done_[t.id] = e;
    elapsed = Elapsed(e);
  }
  char head[96];
  std::snprintf(head, sizeof head, "%-8lld %-10.10s %-10.10s ", static_cast<long long>(t.id),
                t.name.c_str(), t.state.c_str());
  char tail[32];
  std::snprintf(tail, sizeof tail, " %3d%% %7s ", t.percent, elapsed.c_str());
  std::string line = head + Bar(t.percent, 22) + tail + t.text;
  if (static_cast<int>(line.size()) > width_) line.resize(static_cast<std::size_t>(width_));
  return line;
}

std::string ProgressView::Update(const std::vector<TaskProgress>& tasks, Timestamp now) {
  std::string out;
  if (terminal_) {
    if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "A";
    for (const auto& t : tasks) out += "\r\x1b[2K" + Line(t, now) + "\n";
    drawn_ = static_cast<int>(tasks.size());
    return out;
  }
  for (const auto& t : tasks) {
    // A plain line says what changed, not the clock: it is written when the state, percent
    // or text moved.
    std::string key = t.state + '\x1f' + std::to_string(t.percent) + '\x1f' + t.text;
    auto& last = last_[t.id];
    if (last == key) continue;
    last = key;
    out += Line(t, now) + "\n";
  }
  return out;
}

}  // namespace conveyor::cli

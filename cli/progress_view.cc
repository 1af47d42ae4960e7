#include "progress_view.h"

#include <algorithm>

#include "conveyor/time_format.h"

namespace conveyor::cli {

std::string TextOf(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

TaskProgress ProgressOf(const nlohmann::json& info) {
  TaskProgress p;
  if (info.contains("Id") && info["Id"].is_number_integer()) p.id = info["Id"].get<std::int64_t>();
  p.name = TextOf(info, "Name");
  p.state = TextOf(info, "State");
  if (info.contains("ProgressPercent") && info["ProgressPercent"].is_number())
    p.percent = static_cast<int>(std::clamp(info["ProgressPercent"].get<double>(), 0.0, 100.0));
  p.text = IsFinal(p.state) ? TextOf(info, "Result") : TextOf(info, "ProgressDescription");
  if (auto started = TextOf(info, "LastStarted"); !started.empty())
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

std::string Printable(const std::string& text, std::size_t columns) {
  std::string out;
  std::size_t shown = 0;
  for (unsigned char c : text) {
    bool continuation = (c & 0xC0) == 0x80;
    if (!continuation && columns > 0 && shown == columns) break;
    if (!continuation) ++shown;
    out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
  }
  return out;
}

std::string ProgressView::ElapsedOf(const TaskProgress& t, Timestamp now) {
  auto ran = [&] { return std::chrono::duration_cast<std::chrono::seconds>(now - *t.started_at); };
  if (auto seen = ran_.find(t.id); seen != ran_.end())
    return seen->second ? Elapsed(*seen->second) : "-";
  if (IsFinal(t.state)) {
    // Final when first read: how long it ran is not in a BatchTaskInfo.
    bool watched = last_.contains(t.id);
    ran_[t.id] = watched && t.started_at ? std::optional(ran()) : std::nullopt;
    return ElapsedOf(t, now);
  }
  return t.started_at ? Elapsed(ran()) : "-";
}

std::string ProgressView::Line(const TaskProgress& t, const std::string& elapsed) const {
  char head[96];
  std::snprintf(head, sizeof head, "%-8lld %-10.10s %-10.10s ", static_cast<long long>(t.id),
                t.name.c_str(), t.state.c_str());
  char tail[32];
  std::snprintf(tail, sizeof tail, " %3d%% %7s ", t.percent, elapsed.c_str());
  auto columns = terminal_ ? static_cast<std::size_t>(std::max(width_ - 1, 20)) : 0;
  return Printable(head + Bar(t.percent, 22) + tail + t.text, columns);
}

std::string ProgressView::Update(const std::vector<TaskProgress>& tasks, Timestamp now) {
  std::string out;
  if (terminal_) {
    if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "A";
    for (const auto& t : tasks) {
      out += "\r\x1b[2K" + Line(t, ElapsedOf(t, now)) + "\n";
      last_[t.id] = t.state;
    }
    out += "\x1b[J";  // whatever a longer block drew below
    drawn_ = static_cast<int>(tasks.size());
    return out;
  }
  for (const auto& t : tasks) {
    // A plain line says what changed, not the clock: it is written when the state, percent
    // or text moved.
    std::string key = t.state + '\x1f' + std::to_string(t.percent) + '\x1f' + t.text;
    auto elapsed = ElapsedOf(t, now);
    auto& last = last_[t.id];
    if (last == key) continue;
    last = key;
    out += Line(t, elapsed) + "\n";
  }
  return out;
}

}  // namespace conveyor::cli

#include "proc_stats.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace conveyor::bench {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fields of /proc/PID/stat after "(comm)", which may itself hold spaces or parentheses.
std::vector<std::string> StatFields(const std::string& stat) {
  std::vector<std::string> out;
  auto close = stat.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream in(stat.substr(close + 1));
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

std::optional<ProcessSample> SampleOne(int pid) {
  std::string dir = "/proc/" + std::to_string(pid);
  auto stat = StatFields(ReadFile(dir + "/stat"));
  // After the comm: state(0) ppid(1) ... utime(11) stime(12).
  if (stat.size() < 13 || stat[0] == "Z") return std::nullopt;
  ProcessSample s;
  s.pid = pid;
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_seconds = (std::stod(stat[11]) + std::stod(stat[12])) / ticks;
  std::istringstream status(ReadFile(dir + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) s.vm_hwm_kb = std::stol(line.substr(6));
  auto cmdline = ReadFile(dir + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  while (!cmdline.empty() && cmdline.back() == ' ') cmdline.pop_back();
  s.command = cmdline.rfind("postgres: ", 0) == 0 ? cmdline : ReadFile(dir + "/comm");
  while (!s.command.empty() && s.command.back() == '\n') s.command.pop_back();
  return s;
}

}  // namespace

Result<std::vector<ProcessSample>> Sample(const WatchedProcess& p) {
  auto self = SampleOne(p.pid);
  if (!self)
    return Fail(ErrorCode::kNotFound, "process " + std::to_string(p.pid) + " is not running",
                p.name);
  std::vector<ProcessSample> out{*self};
  if (!p.tree) return out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = entry.path().filename().string();
    int pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc()) continue;
    auto stat = StatFields(ReadFile("/proc/" + name + "/stat"));
    if (stat.size() < 2 || stat[1] != std::to_string(p.pid)) continue;
    if (auto child = SampleOne(pid)) out.push_back(*child);
  }
  return out;
}

MachineCpu SampleMachine() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string label;
  in >> label;
  if (label != "cpu") return {};
  // user nice system idle iowait irq softirq steal
  std::vector<double> v;
  for (double x; v.size() < 8 && in >> x;) v.push_back(x);
  if (v.size() < 8) return {};
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  MachineCpu m;
  m.busy_seconds = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticks;
  m.total_seconds = m.busy_seconds + (v[3] + v[4]) / ticks;
  return m;
}

Result<WatchedProcess> ParseWatched(const std::string& text, bool tree, const std::string& flag) {
  auto eq = text.find('=');
  WatchedProcess p;
  p.tree = tree;
  if (eq == std::string::npos || eq == 0)
    return Fail(ErrorCode::kInvalidArgument, "'" + text + "' is not name=pid", flag);
  p.name = text.substr(0, eq);
  auto digits = std::string_view(text).substr(eq + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p.pid);
  if (ec != std::errc() || end != digits.data() + digits.size() || p.pid <= 0)
    return Fail(ErrorCode::kInvalidArgument, "'" + text + "': the pid is not a number", flag);
  return p;
}

}  // namespace conveyor::bench

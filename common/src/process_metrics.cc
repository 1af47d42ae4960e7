#include "conveyor/process_metrics.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace conveyor::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> SplitOnSpaces(std::string_view text) {
  std::vector<std::string_view> words;
  while (true) {
    std::size_t start = text.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) return words;
    text.remove_prefix(start);
    std::size_t end = std::min(text.find_first_of(" \t\n"), text.size());
    words.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
}

// The line of `text` that starts with `prefix`, without the prefix.
std::optional<std::string_view> LineAfter(std::string_view text, std::string_view prefix) {
  while (!text.empty()) {
    std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    if (line.starts_with(prefix)) return line.substr(prefix.size());
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return std::nullopt;
}

// /proc files report a size of 0, so they are read as streams; empty when unreadable.
std::string ReadProcFile(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<ProcessStat> ReadOwnStat() {
  return ParseProcessStat(ReadProcFile("/proc/self/stat"));
}

double TicksPerSecond() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

double CpuSeconds() {
  auto stat = ReadOwnStat();
  return stat ? stat->cpu_ticks / TicksPerSecond() : kNaN;
}

double ResidentMemoryBytes() {
  auto stat = ReadOwnStat();
  return stat ? stat->resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE)) : kNaN;
}

double VirtualMemoryBytes() {
  auto stat = ReadOwnStat();
  return stat ? stat->virtual_memory_bytes : kNaN;
}

double StartTimeSeconds() {
  auto stat = ReadOwnStat();
  auto boot = ParseBootTime(ReadProcFile("/proc/stat"));
  return stat && boot ? *boot + stat->start_ticks_after_boot / TicksPerSecond() : kNaN;
}

// Counts the directory iterator's own descriptor too, as the official clients do.
double OpenFds() {
  std::error_code error;
  std::filesystem::directory_iterator fds("/proc/self/fd", error);
  if (error) return kNaN;
  double count = 0;
  for (auto it = std::filesystem::begin(fds); it != std::filesystem::end(fds);
       it.increment(error)) {
    if (error) return kNaN;
    ++count;
  }
  return count;
}

double MaxFds() { return ParseMaxOpenFiles(ReadProcFile("/proc/self/limits")).value_or(kNaN); }

}  // namespace

std::optional<ProcessStat> ParseProcessStat(std::string_view stat) {
  // "pid (comm) state ppid ..."; comm may hold anything, so the fields start after the last ')'.
  std::size_t comm_end = stat.rfind(')');
  if (comm_end == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> fields = SplitOnSpaces(stat.substr(comm_end + 1));
  // fields[0] is proc(5)'s field 3 (state): field n is fields[n - 3].
  if (fields.size() < 22) return std::nullopt;
  auto utime = ParseNumber(fields[11]);
  auto stime = ParseNumber(fields[12]);
  auto starttime = ParseNumber(fields[19]);
  auto vsize = ParseNumber(fields[20]);
  auto rss = ParseNumber(fields[21]);
  if (!utime || !stime || !starttime || !vsize || !rss) return std::nullopt;
  return ProcessStat{*utime + *stime, *starttime, *vsize, *rss};
}

std::optional<double> ParseBootTime(std::string_view proc_stat) {
  auto rest = LineAfter(proc_stat, "btime ");
  if (!rest) return std::nullopt;
  std::vector<std::string_view> words = SplitOnSpaces(*rest);
  if (words.size() != 1) return std::nullopt;
  return ParseNumber(words[0]);
}

std::optional<double> ParseMaxOpenFiles(std::string_view limits) {
  // "Max open files            1024                 1048576              files"
  auto rest = LineAfter(limits, "Max open files ");
  if (!rest) return std::nullopt;
  std::vector<std::string_view> words = SplitOnSpaces(*rest);
  if (words.empty()) return std::nullopt;
  if (words[0] == "unlimited") return std::numeric_limits<double>::infinity();
  return ParseNumber(words[0]);
}

void RegisterProcessMetrics(Registry& registry) {
  registry
      .AddCallbackCounter("process_cpu_seconds_total",
                          "Total user and system CPU time spent in seconds.")
      .Add({}, CpuSeconds);
  registry.AddCallbackGauge("process_open_fds", "Number of open file descriptors.")
      .Add({}, OpenFds);
  registry.AddCallbackGauge("process_max_fds", "Maximum number of open file descriptors.")
      .Add({}, MaxFds);
  registry.AddCallbackGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
      .Add({}, VirtualMemoryBytes);
  registry.AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.")
      .Add({}, ResidentMemoryBytes);
  registry
      .AddCallbackGauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.")
      .Add({}, StartTimeSeconds);
}

}  // namespace conveyor::metrics

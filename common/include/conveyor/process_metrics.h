// The standard process metrics, named and described as the official Prometheus clients
// (client_golang, client_java) name them, read from /proc at scrape time:
//
//   process_cpu_seconds_total      counter  user + system CPU time      /proc/self/stat
//   process_resident_memory_bytes  gauge    resident set size           /proc/self/stat
//   process_virtual_memory_bytes   gauge    virtual memory size         /proc/self/stat
//   process_start_time_seconds     gauge    start time, Unix seconds    /proc/self/stat, /proc/stat
//   process_open_fds               gauge    open file descriptors       /proc/self/fd
//   process_max_fds                gauge    the soft limit on them      /proc/self/limits
//
// RegisterProcessMetrics adds them to a Registry as callback families; a value that cannot be
// read (no /proc, say) renders as NaN. The parsers below are what the callbacks use, exposed so
// that tests can give them text from elsewhere. Everything here is thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "conveyor/metrics.h"

namespace conveyor::metrics {

// Throws std::invalid_argument when the registry holds one of these names already.
void RegisterProcessMetrics(Registry& registry);

// The fields of /proc/<pid>/stat (proc(5)) the process metrics use, in the kernel's units.
struct ProcessStat {
  double cpu_ticks = 0;               // utime + stime, in clock ticks
  double start_ticks_after_boot = 0;  // starttime, in clock ticks since boot
  double virtual_memory_bytes = 0;    // vsize
  double resident_pages = 0;          // rss
};

// Parses the one line of /proc/<pid>/stat; nullopt when it is not such a line. The command
// name in parentheses may hold spaces and parentheses itself.
std::optional<ProcessStat> ParseProcessStat(std::string_view stat);

// The boot time in Unix seconds: the `btime` line of /proc/stat; nullopt without one.
std::optional<double> ParseBootTime(std::string_view proc_stat);

// The soft limit of the `Max open files` line of /proc/<pid>/limits (+Inf for "unlimited");
// nullopt without such a line.
std::optional<double> ParseMaxOpenFiles(std::string_view limits);

}  // namespace conveyor::metrics

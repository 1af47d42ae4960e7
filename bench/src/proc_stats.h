// Figures about running processes read from /proc, for the benchmark report: peak resident
// set (VmHWM) and CPU time. Linux only. Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "conveyor/result.h"

namespace conveyor::bench {

// A process the report covers. With `tree`, its live children count too (PostgreSQL: the
// postmaster and its backends), each listed on its own.
struct WatchedProcess {
  std::string name;
  int pid = 0;
  bool tree = false;
};

struct ProcessSample {
  int pid = 0;
  std::string command;     // /proc/PID/comm, or the PostgreSQL process title from cmdline
  long vm_hwm_kb = 0;      // peak resident set size since the process started
  double cpu_seconds = 0;  // user + system time since the process started
};

// The process and, when `tree`, its live direct children. kNotFound when the process is gone.
Result<std::vector<ProcessSample>> Sample(const WatchedProcess& p);

// CPU seconds the whole machine spent busy (all processes, user + system + interrupts) and
// in all, since boot, from /proc/stat. Zeros when it cannot be read.
struct MachineCpu {
  double busy_seconds = 0;
  double total_seconds = 0;
};
MachineCpu SampleMachine();

// Parses "name=pid"; kInvalidArgument naming `flag` when it is not that.
Result<WatchedProcess> ParseWatched(const std::string& text, bool tree, const std::string& flag);

}  // namespace conveyor::bench

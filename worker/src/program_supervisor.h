// The process that stands between the worker and an exec handler's program: one per run.
//
// The worker forks it (a copy of itself that never allocates and never execs); it forks the
// program, and between the two forks applies what the operator configured:
//   - the program's resource limits (setrlimit, soft and hard alike);
//   - the user it runs as (supplementary groups, gid, uid), with no way back to more privilege
//     (PR_SET_NO_NEW_PRIVS);
//   - a process group of the program's own, no signal blocked or ignored, SIGKILL when the
//     supervisor dies (PR_SET_PDEATHSIG).
// When the worker dies, the supervisor is told (PR_SET_PDEATHSIG) and kills everything as at
// the end of a run.
// It is a child subreaper (PR_SET_CHILD_SUBREAPER): every process the program leaves behind,
// even one that left the program's process group or session (setsid), becomes its child once
// its own parent is gone. When the program ends it kills its process group and every child of
// its own, reaps them all, reports the program's wait status and exits. So a run leaves no
// process behind, and the worker never waits for a process it did not start.
//
// The worker talks to it with two signals (kStopProgram: SIGTERM to the program's process
// group; kKillProgram: SIGKILL to it) and reads its reports (SupervisorReport) from a pipe.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conveyor/result.h"

namespace conveyor {

// Makes the calling process non-dumpable (PR_SET_DUMPABLE 0): processes of its own user, the
// programs it runs among them, can no longer read its environment (which holds the database
// password) or memory through /proc, nor attach a debugger; no core dump is written. The
// worker calls it at start; its supervisors inherit it.
Status MakeNonDumpable();

// Who a program runs as: a user of this machine, resolved once when the handler is built.
struct ProgramUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // its supplementary groups
};

// The user named `name` from the user database, with its groups. Fails naming the user when
// there is none, or when the worker cannot switch to it (it is neither root nor that user).
Result<ProgramUser> ProgramUserNamed(const std::string& name);

// What the supervisor reports, in this order: kStarted (value: the program's pid) or kFailed
// (stage, value: errno); then, after kStarted, kEnded (value: the program's wait status).
struct SupervisorReport {
  enum Kind : int { kStarted = 1, kFailed, kEnded };
  enum Stage : int { kNone = 0, kFork, kWorkingDirectory, kLimits, kUser, kExec };
  Kind kind = kFailed;
  Stage stage = kNone;
  int value = 0;
};

// The step that failed, as a run's failure names it: "setting its resource limits".
std::string_view StageName(SupervisorReport::Stage stage);

// The signals the worker sends to the supervisor.
constexpr int kStopProgram = SIGTERM;  // forwarded to the program's process group
constexpr int kKillProgram = SIGUSR1;  // SIGKILL to the program's process group

// Everything the supervisor needs, prepared before the fork: after it, it allocates nothing.
struct SupervisorPlan {
  const char* program = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* working_directory = nullptr;            // nullptr: the worker's
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // the program's ends of its pipes
  int report_fd = -1;                                 // where SupervisorReports go
  std::array<std::pair<int, rlim_t>, 4> limits{};     // (RLIMIT_*, value)
  std::size_t limit_count = 0;
  const ProgramUser* user = nullptr;  // nullptr: the worker's own
  pid_t worker = 0;                   // the worker's pid (getpid() before the fork)
};

// Runs the supervisor. Call it only in the child of a fork() of the worker: it uses system
// calls and async-signal-safe functions only (signal-safety(7)), as a child of a
// multithreaded process must. Never returns.
[[noreturn]] void RunSupervisor(const SupervisorPlan& plan);

}  // namespace conveyor

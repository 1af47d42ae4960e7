// The `exec` handler: runs a program the operator named in the worker's configuration file,
// once per run, and turns what it does into the run's outcome. The contract with the program
// (stdin, the stdout line protocol, exit statuses, environment, stderr, signals) is in
// docs/handlers.md; in short:
//   - the task's Parameters are written to its stdin, which is then closed;
//   - stdout lines `progress <percent> [description]`, `result <text>`, `file <name>` report;
//   - exit status 0 succeeds, 75 (EX_TEMPFAIL) fails retryably, anything else fails;
//   - stderr is kept on the run, its last `log_limit_bytes`;
//   - on cancel or timeout the program's process group gets SIGTERM, then SIGKILL after the
//     grace period. When the program ends, whatever it left in its process group is killed.
//
// Each Run starts one process (posix_spawn, its own process group, a minimal environment)
// and blocks its executor thread until that process and every other member of its process
// group that is this process's child are reaped. Run is thread-safe.
//
// Constructing an ExecHandler changes two things for the whole calling process: it becomes a
// child subreaper (Linux PR_SET_CHILD_SUBREAPER), so that the orphaned children of programs
// are reparented to it and reaped by Run rather than left as zombies; and SIGPIPE is ignored,
// so that a program which exits without reading its stdin cannot kill the worker (programs
// get SIGPIPE back at its default). A program that leaves its process group on purpose
// (setsid, setpgid) is beyond the worker's reach.
#pragma once

#include <string>

#include "handler_settings.h"
#include "handlers.h"

namespace conveyor {

class ExecHandler final : public Handler {
 public:
  ExecHandler(std::string name, ExecHandlerSettings settings);
  HandlerResult Run(const HandlerContext& context) override;

  // The exit status that asks for a retry (sysexits.h EX_TEMPFAIL).
  static constexpr int kRetryableExitStatus = 75;

 private:
  std::string name_;
  ExecHandlerSettings settings_;
};

}  // namespace conveyor

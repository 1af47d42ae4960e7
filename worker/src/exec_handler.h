// The `exec` handler: runs a program the operator named in the worker's configuration file,
// once per run, and turns what it does into the run's outcome. The contract with the program
// (stdin, the stdout line protocol, exit statuses, environment, stderr, signals) is in
// docs/handlers.md; in short:
//   - the task's Parameters are written to its stdin, which is then closed;
//   - stdout lines `progress <percent> [description]`, `result <text>`, `file <name>` report;
//   - exit status 0 succeeds, 75 (EX_TEMPFAIL) fails retryably, anything else fails;
//   - stderr is kept on the run, its last `log_limit_bytes`;
//   - on cancel or timeout the program's process group gets SIGTERM, then SIGKILL after the
//     grace period. When the program ends, every process it left behind is killed.
//
// Each Run forks a supervisor (program_supervisor.h) that starts the program in a process
// group of its own, with a minimal environment, the configured user and resource limits, and
// that kills and reaps every process the program leaves behind, even one that called setsid.
// Run blocks its executor thread until the supervisor has ended. A task type without a timeout
// gets the handler's `timeout`. Run is thread-safe.
//
// Constructing an ExecHandler ignores SIGPIPE for the whole calling process, so that a program
// which exits without reading its stdin cannot kill the worker (programs get SIGPIPE back at
// its default).
#pragma once

#include <optional>
#include <string>

#include "handler_settings.h"
#include "handlers.h"
#include "program_supervisor.h"

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
  Result<std::optional<ProgramUser>> user_ = std::optional<ProgramUser>();  // or why not
};

}  // namespace conveyor

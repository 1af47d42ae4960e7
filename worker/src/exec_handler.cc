#include "exec_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "conveyor/logging.h"
#include "exec_protocol.h"
#include "program_supervisor.h"

namespace conveyor {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr auto kPollInterval = std::chrono::milliseconds(50);
// After the program ended: how long to read what is left in its pipes when something outside
// its process group still holds them open.
constexpr auto kDrainLimit = std::chrono::seconds(1);

// A file descriptor closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    Reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~Fd() { Reset(); }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return Fail(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// The failure a run of the program ends with.
std::unexpected<HandlerFailure> Failure(std::string message, bool retryable,
                                        std::string run_log = {}) {
  return std::unexpected(HandlerFailure{std::move(message), retryable, std::move(run_log)});
}

// The program's environment: minimal, then the operator's variables, then the run's.
std::vector<std::string> EnvironmentOf(const ExecHandlerSettings& settings,
                                       const std::string& handler, const HandlerContext& context) {
  std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"LANG", "C.UTF-8"}};
  for (const auto& [k, v] : settings.environment) env[k] = v;
  env["CONVEYOR_HANDLER"] = handler;
  env["CONVEYOR_TASK_ID"] = context.task.id.ToString();
  env["CONVEYOR_TASK_NUMBER"] = std::to_string(context.task.number);
  // From the task's record, never its Parameters: empty for a system task.
  env["CONVEYOR_CLIENT_ID"] = context.task.client_id ? context.task.client_id->ToString() : "";
  env["CONVEYOR_RUN_ID"] = context.run_id.ToString();
  env["CONVEYOR_ATTEMPT"] = std::to_string(context.attempt);
  env["CONVEYOR_START_COUNT"] = std::to_string(context.start_count);
  env["CONVEYOR_CONTENT_TYPE"] = context.task.content_type;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// A started program: its supervisor's pid (program_supervisor.h), the program's own pid, which
// is also its process group's id, the worker's ends of its stdin, stdout and stderr
// (non-blocking) and the supervisor's report pipe.
struct Child {
  pid_t supervisor = -1;
  pid_t program = -1;
  Fd stdin_fd, stdout_fd, stderr_fd, reports;
};

// Reads one report from the supervisor; nothing when it ended without one.
std::optional<SupervisorReport> ReadReport(const Fd& reports) {
  SupervisorReport report;
  ssize_t got;
  while ((got = read(reports.get(), &report, sizeof report)) < 0 && errno == EINTR) {
  }
  if (got != sizeof report) return std::nullopt;
  return report;
}

// argv or envp for execve: pointers into `strings`, then a null pointer.
std::vector<char*> PointersTo(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The configured limits as (RLIMIT_*, value) pairs.
void AddLimits(const ProgramLimits& limits, SupervisorPlan& plan) {
  std::pair<int, std::optional<std::uint64_t>> all[] = {{RLIMIT_CPU, limits.cpu_seconds},
                                                        {RLIMIT_AS, limits.memory_bytes},
                                                        {RLIMIT_NOFILE, limits.open_files},
                                                        {RLIMIT_NPROC, limits.processes}};
  for (const auto& [resource, value] : all)
    if (value) plan.limits[plan.limit_count++] = {resource, static_cast<rlim_t>(*value)};
}

// Why the program could not be started, as its run's failure says.
std::unexpected<HandlerFailure> StartFailure(const ExecHandlerSettings& settings,
                                             const SupervisorReport& report) {
  const std::string& program = settings.command.front();
  std::string where;
  if (report.stage == SupervisorReport::kWorkingDirectory)
    where = " (working directory '" + settings.working_directory + "')";
  else if (report.stage != SupervisorReport::kExec)
    where = " (" + std::string(StageName(report.stage)) +
            (report.stage == SupervisorReport::kUser ? " '" + settings.user + "'" : "") + ")";
  return Failure(
      "exec: cannot start '" + program + "'" + where + ": " + std::strerror(report.value),
      report.value == EAGAIN || report.value == ENOMEM);
}

// Forks the program's supervisor, which starts the program with `env` as `settings` and
// `user` say, and waits until it did. A failure to start says why, retryable when the system
// was short of resources.
std::expected<Child, HandlerFailure> Spawn(const ExecHandlerSettings& settings,
                                           const ProgramUser* user, std::vector<std::string> env) {
  std::vector<std::string> args = settings.command;
  auto argv = PointersTo(args);
  auto envp = PointersTo(env);
  auto in = MakePipe();
  auto out = MakePipe();
  auto err = MakePipe();
  auto reports = MakePipe();
  if (!in || !out || !err || !reports) return Failure("exec: cannot create pipes", true);
  SupervisorPlan plan;
  plan.program = settings.command.front().c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  if (!settings.working_directory.empty())
    plan.working_directory = settings.working_directory.c_str();
  plan.stdin_fd = in->read.get();
  plan.stdout_fd = out->write.get();
  plan.stderr_fd = err->write.get();
  plan.report_fd = reports->write.get();
  AddLimits(settings.limits, plan);
  plan.user = user;
  plan.worker = getpid();

  Child child;
  child.supervisor = _Fork();  // no fork handlers: the child runs RunSupervisor only
  if (child.supervisor == 0) RunSupervisor(plan);
  if (child.supervisor < 0) {
    int error = errno;
    return Failure(std::string("exec: cannot start a process: ") + std::strerror(error),
                   error == EAGAIN || error == ENOMEM);
  }
  setpgid(child.supervisor, child.supervisor);
  reports->write.Reset();  // the supervisor's copy is the only one left
  child.reports = std::move(reports->read);
  auto first = ReadReport(child.reports);
  if (!first || first->kind != SupervisorReport::kStarted) {
    while (waitpid(child.supervisor, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (!first) return Failure("exec: the program's supervisor ended before starting it", true);
    return StartFailure(settings, *first);
  }
  child.program = first->value;
  child.stdin_fd = std::move(in->write);
  child.stdout_fd = std::move(out->read);
  child.stderr_fd = std::move(err->read);
  for (int fd : {child.stdin_fd.get(), child.stdout_fd.get(), child.stderr_fd.get()})
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return child;  // the child's ends of the pipes close with `in`, `out` and `err`
}

// What the program said: its stdout lines by the protocol (progress goes to the run's
// reporter at once), and its stderr, bounded, with the worker's own remarks.
class ProgramOutput {
 public:
  ProgramOutput(ProgressReporter& progress, std::size_t log_limit)
      : progress_(progress), log_(log_limit), lines_(kMaxLine) {}

  void Stdout(std::string_view bytes) {
    lines_.Feed(bytes, [this](std::string_view line) { OnLine(line); });
  }
  void StdoutEnded() {
    lines_.Finish([this](std::string_view line) { OnLine(line); });
  }
  void Stderr(std::string_view bytes) { log_.Append(bytes); }

  const std::string& result() const { return result_; }
  const std::optional<std::string>& file_name() const { return file_name_; }
  BoundedLog& log() { return log_; }

 private:
  void OnLine(std::string_view line) {
    ExecLine l = ParseExecLine(line);
    switch (l.kind) {
      case ExecLine::Kind::kProgress:
        progress_.Report(l.percent, SafeText(l.text));
        break;
      case ExecLine::Kind::kResult:
        result_ = SafeText(l.text);
        break;
      case ExecLine::Kind::kFile:
        file_name_ = SafeText(l.text);
        break;
      case ExecLine::Kind::kMalformed:
        log_.Append("[conveyor: stdout line ignored, " + l.problem + ": " + l.text + "]\n");
        break;
      case ExecLine::Kind::kOther:
        break;
    }
  }

  ProgressReporter& progress_;
  BoundedLog log_;
  LineSplitter lines_;
  std::string result_;
  std::optional<std::string> file_name_;
};

// Moves bytes between the worker and the program's pipes: the parameters to its stdin (then
// closed), its stdout and stderr to a ProgramOutput. Closes each pipe at its end.
class ProgramPipes {
 public:
  ProgramPipes(Child& child, const std::string& parameters, ProgramOutput& output)
      : child_(child), parameters_(parameters), output_(output) {
    if (parameters_.empty()) child_.stdin_fd.Reset();
  }

  // One poll round of at most `timeout`, with at most one read per pipe (so a program that
  // writes without pause cannot keep the caller from noticing a cancel).
  void PollOnce(std::chrono::milliseconds timeout) {
    std::vector<pollfd> fds;
    if (child_.stdin_fd.open()) fds.push_back({child_.stdin_fd.get(), POLLOUT, 0});
    if (child_.stdout_fd.open()) fds.push_back({child_.stdout_fd.get(), POLLIN, 0});
    if (child_.stderr_fd.open()) fds.push_back({child_.stderr_fd.get(), POLLIN, 0});
    int n = poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (n <= 0) return;
    for (const auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == child_.stdin_fd.get())
        WriteSome(p.revents);
      else if (p.fd == child_.stdout_fd.get())
        ReadSome(child_.stdout_fd, true);
      else if (p.fd == child_.stderr_fd.get())
        ReadSome(child_.stderr_fd, false);
    }
  }

  void CloseStdin() { child_.stdin_fd.Reset(); }
  bool OutputOpen() const { return child_.stdout_fd.open() || child_.stderr_fd.open(); }
  bool StdoutOpen() const { return child_.stdout_fd.open(); }

 private:
  void WriteSome(short revents) {
    if (revents & (POLLERR | POLLHUP)) {
      child_.stdin_fd.Reset();  // the program closed its stdin without reading it all
      return;
    }
    ssize_t w =
        write(child_.stdin_fd.get(), parameters_.data() + written_, parameters_.size() - written_);
    if (w > 0) written_ += static_cast<std::size_t>(w);
    if ((w < 0 && errno != EAGAIN && errno != EINTR) || written_ == parameters_.size())
      child_.stdin_fd.Reset();
  }

  void ReadSome(Fd& fd, bool is_stdout) {
    ssize_t n = read(fd.get(), buffer_.data(), buffer_.size());
    if (n > 0) {
      std::string_view bytes(buffer_.data(), static_cast<std::size_t>(n));
      if (is_stdout)
        output_.Stdout(bytes);
      else
        output_.Stderr(bytes);
      return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    fd.Reset();
    if (is_stdout) output_.StdoutEnded();
  }

  Child& child_;
  const std::string& parameters_;
  ProgramOutput& output_;
  std::size_t written_ = 0;
  std::array<char, 65536> buffer_;
};

// How supervising the program went.
struct Supervision {
  bool lost = false;        // something else in this process reaped the supervisor
  bool term_sent = false;   // stopped on cancel or timeout: SIGTERM, then maybe SIGKILL
  bool kill_sent = false;   // still running `grace` after SIGTERM
  std::string stop_reason;  // why it was stopped
};

// When the run must stop: its cancellation, or `deadline`, and why.
struct StopRule {
  std::chrono::steady_clock::time_point deadline;
  std::string timed_out = "timed out";  // the reason given at the deadline
};

// The rule that stops a run: the task type's timeout when it has one, else the handler's.
StopRule StopRuleFor(const HandlerContext& context, const ExecHandlerSettings& settings) {
  if (context.deadline != std::chrono::steady_clock::time_point::max()) return {context.deadline};
  return {std::chrono::steady_clock::now() + settings.timeout,
          "timed out: the task type sets no timeout and the handler's timeout_ms is " +
              std::to_string(settings.timeout.count())};
}

// Runs until the supervisor exits (the program ended and nothing of it is left), moving the
// pipes' bytes, and stops the program's process group on cancel or at the deadline: SIGTERM,
// SIGKILL `grace` later (both by way of the supervisor).
Supervision Supervise(const Child& child, ProgramPipes& pipes, const HandlerContext& context,
                      const StopRule& stop, std::chrono::milliseconds grace) {
  auto log = logging::Get("worker");
  Supervision s;
  std::chrono::steady_clock::time_point term_sent_at;
  while (true) {
    pipes.PollOnce(kPollInterval);
    siginfo_t info{};
    int waited =
        waitid(P_PID, static_cast<id_t>(child.supervisor), &info, WEXITED | WNOHANG | WNOWAIT);
    if (waited == 0 && info.si_pid == child.supervisor) return s;
    if (waited < 0 && errno == ECHILD) {
      s.lost = true;
      return s;
    }
    auto now = std::chrono::steady_clock::now();
    if (!s.term_sent && (context.cancel.cancelled() || now >= stop.deadline)) {
      s.stop_reason = context.cancel.cancelled()
                          ? std::string(CancelReasonName(context.cancel.reason()))
                          : stop.timed_out;
      log->info("task={} run={}: {}; SIGTERM to process group {}", context.task.id.ToString(),
                context.run_id.ToString(), s.stop_reason, child.program);
      kill(child.supervisor, kStopProgram);
      s.term_sent = true;
      term_sent_at = now;
    }
    if (s.term_sent && !s.kill_sent && now >= term_sent_at + grace) {
      log->warn("task={} run={}: process group {} still running {} ms after SIGTERM; SIGKILL",
                context.task.id.ToString(), context.run_id.ToString(), child.program,
                grace.count());
      kill(child.supervisor, kKillProgram);
      s.kill_sent = true;
    }
  }
}

// How the program ended: its wait status, or why that is not known.
struct Ending {
  std::optional<int> status;
  std::string unknown_because;
};

// After the supervisor ended: reaps it, takes the program's wait status from its last report,
// and reads what is left in the pipes (for at most kDrainLimit when something still holds
// them open).
Ending Reap(Child& child, ProgramPipes& pipes, ProgramOutput& output, bool lost) {
  Ending ending;
  int supervisor_status = 0;
  while (!lost && waitpid(child.supervisor, &supervisor_status, 0) < 0 && errno == EINTR) {
  }
  auto report = ReadReport(child.reports);
  if (report && report->kind == SupervisorReport::kEnded)
    ending.status = report->value;
  else if (lost)
    ending.unknown_because =
        "the exit status of its supervisor was taken by another waitpid() in the worker process";
  else
    ending.unknown_because = "its supervisor ended without a report (" +
                             (WIFSIGNALED(supervisor_status)
                                  ? "killed by " + SignalName(WTERMSIG(supervisor_status))
                                  : "status " + std::to_string(WEXITSTATUS(supervisor_status))) +
                             ")";
  pipes.CloseStdin();
  auto drain_until = std::chrono::steady_clock::now() + kDrainLimit;
  while (pipes.OutputOpen() && std::chrono::steady_clock::now() < drain_until)
    pipes.PollOnce(kPollInterval);
  if (pipes.StdoutOpen()) output.StdoutEnded();
  if (pipes.OutputOpen())
    output.log().Append("[conveyor: a process kept the program's output open; stopped reading]\n");
  return ending;
}

// The run's outcome from how the program ended and what it said.
HandlerResult Outcome(const std::string& handler, const Ending& ending, const Supervision& s,
                      ProgramOutput& output, std::chrono::milliseconds grace) {
  std::string run_log = output.log().Text();
  if (!ending.status)
    return Failure(handler + ": the program's outcome is unknown: " + ending.unknown_because, false,
                   std::move(run_log));
  int status = *ending.status;
  std::string how = WIFSIGNALED(status)
                        ? "killed by " + SignalName(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (s.term_sent)
    return Failure(handler + ": stopped (" + s.stop_reason + "): " +
                       (s.kill_sent ? "still running " + std::to_string(grace.count()) +
                                          " ms after SIGTERM, killed with SIGKILL"
                                    : "SIGTERM sent, " + how),
                   false, std::move(run_log));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return HandlerOutput{output.result().empty() ? how : output.result(), output.file_name(),
                         std::move(run_log)};
  std::string detail = !output.result().empty() ? output.result() : output.log().LastLine();
  bool retryable = WIFEXITED(status) && WEXITSTATUS(status) == ExecHandler::kRetryableExitStatus;
  return Failure(handler + ": " + how + (retryable ? " (temporary failure)" : "") +
                     (detail.empty() ? "" : ": " + detail),
                 retryable, std::move(run_log));
}

}  // namespace

ExecHandler::ExecHandler(std::string name, ExecHandlerSettings settings)
    : name_(std::move(name)), settings_(std::move(settings)) {
  signal(SIGPIPE, SIG_IGN);
  if (!settings_.user.empty()) {
    auto user = ProgramUserNamed(settings_.user);
    if (user)
      user_ = std::move(*user);
    else
      user_ = std::unexpected(user.error());
  }
}

// Spawn, supervise, reap: each step is a function above.
HandlerResult ExecHandler::Run(const HandlerContext& context) {
  if (settings_.command.empty()) return Failure("exec " + name_ + ": no command configured", false);
  if (!user_) return Failure("exec " + name_ + ": " + user_.error().message, false);
  const ProgramUser* user = *user_ ? &**user_ : nullptr;
  auto child = Spawn(settings_, user, EnvironmentOf(settings_, name_, context));
  if (!child) return std::unexpected(child.error());
  logging::Get("worker")->debug("task={} run={}: started {} (pid {})", context.task.id.ToString(),
                                context.run_id.ToString(), settings_.command.front(),
                                child->program);
  ProgramOutput output(context.progress, settings_.log_limit_bytes);
  ProgramPipes pipes(*child, context.task.parameters, output);
  Supervision supervision =
      Supervise(*child, pipes, context, StopRuleFor(context, settings_), settings_.grace);
  Ending ending = Reap(*child, pipes, output, supervision.lost);
  return Outcome(name_, ending, supervision, output, settings_.grace);
}

}  // namespace conveyor

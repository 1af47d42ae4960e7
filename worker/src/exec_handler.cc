#include "exec_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "conveyor/logging.h"
#include "exec_protocol.h"

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

// posix_spawn's attributes and file actions, destroyed with it.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

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
  env["CONVEYOR_RUN_ID"] = context.run_id.ToString();
  env["CONVEYOR_ATTEMPT"] = std::to_string(context.attempt);
  env["CONVEYOR_START_COUNT"] = std::to_string(context.start_count);
  env["CONVEYOR_CONTENT_TYPE"] = context.task.content_type;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// A started program: its pid, which is also its process group's id, and the worker's ends of
// its stdin, stdout and stderr (non-blocking).
struct Child {
  pid_t pid = -1;
  Fd stdin_fd, stdout_fd, stderr_fd;
};

// Starts the program in a process group of its own, with `env` and no signal blocked or
// ignored. A failure to start says why, retryable when the system was short of resources.
std::expected<Child, HandlerFailure> Spawn(const ExecHandlerSettings& settings,
                                           std::vector<std::string> env) {
  std::vector<std::string> args = settings.command;
  std::vector<char*> envp, argv;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  auto in = MakePipe();
  auto out = MakePipe();
  auto err = MakePipe();
  if (!in || !out || !err) return Failure("exec: cannot create pipes", true);

  Child child;
  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in->read.get(), 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out->write.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err->write.get(), 2);
  if (!settings.working_directory.empty())
    posix_spawn_file_actions_addchdir_np(&setup.actions, settings.working_directory.c_str());
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  // Its own process group; no signal blocked or ignored (the worker blocks SIGTERM in all its
  // threads and a blocked mask survives exec).
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string& program = settings.command.front();
  int rc = posix_spawn(&child.pid, program.c_str(), &setup.actions, &setup.attr, argv.data(),
                       envp.data());
  if (rc != 0) {
    std::string where = settings.working_directory.empty()
                            ? std::string()
                            : " (working directory '" + settings.working_directory + "')";
    return Failure("exec: cannot start '" + program + "'" + where + ": " + std::strerror(rc),
                   rc == EAGAIN || rc == ENOMEM);
  }
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
  bool lost = false;        // something else in this process reaped the program
  bool term_sent = false;   // stopped on cancel or timeout: SIGTERM, then maybe SIGKILL
  bool kill_sent = false;   // still running `grace` after SIGTERM
  std::string stop_reason;  // why it was stopped
};

// Runs until the program (the process group's leader) exits, moving its pipes' bytes, and
// stops its process group on cancel or at the deadline: SIGTERM, SIGKILL `grace` later.
Supervision Supervise(const Child& child, ProgramPipes& pipes, const HandlerContext& context,
                      std::chrono::milliseconds grace) {
  auto log = logging::Get("worker");
  Supervision s;
  std::chrono::steady_clock::time_point term_sent_at;
  while (true) {
    pipes.PollOnce(kPollInterval);
    siginfo_t info{};
    int waited = waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (waited == 0 && info.si_pid == child.pid) return s;
    if (waited < 0 && errno == ECHILD) {
      s.lost = true;
      return s;
    }
    auto now = std::chrono::steady_clock::now();
    if (!s.term_sent && (context.cancel.cancelled() || now >= context.deadline)) {
      s.stop_reason = context.cancel.cancelled()
                          ? std::string(CancelReasonName(context.cancel.reason()))
                          : "timed out";
      log->info("task={} run={}: {}; SIGTERM to process group {}", context.task.id.ToString(),
                context.run_id.ToString(), s.stop_reason, child.pid);
      kill(-child.pid, SIGTERM);
      s.term_sent = true;
      term_sent_at = now;
    }
    if (s.term_sent && !s.kill_sent && now >= term_sent_at + grace) {
      log->warn("task={} run={}: process group {} still running {} ms after SIGTERM; SIGKILL",
                context.task.id.ToString(), context.run_id.ToString(), child.pid, grace.count());
      kill(-child.pid, SIGKILL);
      s.kill_sent = true;
    }
  }
}

// After the program ended: kills what is left of its process group, reaps every member that
// is this process's child, and reads what is left in the pipes (for at most kDrainLimit when
// something outside the group holds them open). Returns the program's wait status (0 when it
// was lost).
int Reap(const Child& child, ProgramPipes& pipes, ProgramOutput& output, bool lost) {
  // The leader is a zombie, so its pid (the group's id) cannot be reused yet: kill what is left
  // of the group, then reap. (When it was reaped elsewhere its pid may be reused already, so
  // nothing is signalled.)
  int status = 0;
  if (!lost) kill(-child.pid, SIGKILL);
  while (!lost) {
    int st = 0;
    pid_t reaped = waitpid(-child.pid, &st, 0);
    if (reaped == child.pid) status = st;
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped < 0) break;  // ECHILD: none left
  }
  pipes.CloseStdin();
  auto drain_until = std::chrono::steady_clock::now() + kDrainLimit;
  while (pipes.OutputOpen() && std::chrono::steady_clock::now() < drain_until)
    pipes.PollOnce(kPollInterval);
  if (pipes.StdoutOpen()) output.StdoutEnded();
  if (pipes.OutputOpen())
    output.log().Append(
        "[conveyor: a process outside the program's process group kept its output open; "
        "stopped reading]\n");
  return status;
}

// The run's outcome from how the program ended and what it said.
HandlerResult Outcome(const std::string& handler, int status, const Supervision& s,
                      ProgramOutput& output, std::chrono::milliseconds grace) {
  std::string run_log = output.log().Text();
  std::string how = WIFSIGNALED(status)
                        ? "killed by " + SignalName(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (s.lost)
    return Failure(handler +
                       ": the program's exit status was taken by another waitpid() in the "
                       "worker process; its outcome is unknown",
                   false, std::move(run_log));
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
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    logging::Get("worker")->warn(
        "exec handler {}: cannot become a child subreaper ({}); orphaned children of programs "
        "are left to init",
        name_, std::strerror(errno));
}

// Spawn, supervise, reap: each step is a function above.
HandlerResult ExecHandler::Run(const HandlerContext& context) {
  if (settings_.command.empty()) return Failure("exec " + name_ + ": no command configured", false);
  auto child = Spawn(settings_, EnvironmentOf(settings_, name_, context));
  if (!child) return std::unexpected(child.error());
  logging::Get("worker")->debug("task={} run={}: started {} (pid {})", context.task.id.ToString(),
                                context.run_id.ToString(), settings_.command.front(), child->pid);
  ProgramOutput output(context.progress, settings_.log_limit_bytes);
  ProgramPipes pipes(*child, context.task.parameters, output);
  Supervision supervision = Supervise(*child, pipes, context, settings_.grace);
  int status = Reap(*child, pipes, output, supervision.lost);
  return Outcome(name_, status, supervision, output, settings_.grace);
}

}  // namespace conveyor

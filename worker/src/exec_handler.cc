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

HandlerResult ExecHandler::Run(const HandlerContext& context) {
  auto log = logging::Get("worker");
  const std::string task_id = context.task.id.ToString();
  auto failure = [](std::string message, bool retryable, std::string run_log = {}) {
    return std::unexpected(HandlerFailure{std::move(message), retryable, std::move(run_log)});
  };
  if (settings_.command.empty()) return failure("exec " + name_ + ": no command configured", false);
  const std::string& program = settings_.command.front();

  // The environment: minimal, then the operator's variables, then the run's.
  std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                            {"LANG", "C.UTF-8"}};
  for (const auto& [k, v] : settings_.environment) env[k] = v;
  env["CONVEYOR_HANDLER"] = name_;
  env["CONVEYOR_TASK_ID"] = task_id;
  env["CONVEYOR_TASK_NUMBER"] = std::to_string(context.task.number);
  env["CONVEYOR_RUN_ID"] = context.run_id.ToString();
  env["CONVEYOR_ATTEMPT"] = std::to_string(context.attempt);
  env["CONVEYOR_START_COUNT"] = std::to_string(context.start_count);
  env["CONVEYOR_CONTENT_TYPE"] = context.task.content_type;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = settings_.command;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  auto in = MakePipe();
  auto out = MakePipe();
  auto err = MakePipe();
  if (!in || !out || !err) return failure("exec: cannot create pipes", true);

  pid_t pid = -1;
  {
    SpawnSetup setup;
    posix_spawn_file_actions_adddup2(&setup.actions, in->read.get(), 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out->write.get(), 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err->write.get(), 2);
    if (!settings_.working_directory.empty())
      posix_spawn_file_actions_addchdir_np(&setup.actions, settings_.working_directory.c_str());
    posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
    // Its own process group; no signal blocked or ignored (the worker blocks SIGTERM in all
    // its threads and a blocked mask survives exec).
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setpgroup(&setup.attr, 0);
    posix_spawnattr_setsigmask(&setup.attr, &none);
    posix_spawnattr_setsigdefault(&setup.attr, &all);
    posix_spawnattr_setflags(
        &setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc =
        posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
    if (rc != 0) {
      std::string where = settings_.working_directory.empty()
                              ? std::string()
                              : " (working directory '" + settings_.working_directory + "')";
      return failure("exec: cannot start '" + program + "'" + where + ": " + std::strerror(rc),
                     rc == EAGAIN || rc == ENOMEM);
    }
  }
  in->read.Reset();
  out->write.Reset();
  err->write.Reset();
  for (int fd : {in->write.get(), out->read.get(), err->read.get()})
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  log->debug("task={} run={}: started {} (pid {})", task_id, context.run_id.ToString(), program,
             pid);

  Fd stdin_fd = std::move(in->write), stdout_fd = std::move(out->read),
     stderr_fd = std::move(err->read);
  const std::string& parameters = context.task.parameters;
  std::size_t written = 0;
  if (parameters.empty()) stdin_fd.Reset();

  BoundedLog stderr_log(settings_.log_limit_bytes);
  LineSplitter lines(kMaxLine);
  std::string result;
  std::optional<std::string> file_name;
  auto on_line = [&](std::string_view line) {
    ExecLine l = ParseExecLine(line);
    switch (l.kind) {
      case ExecLine::Kind::kProgress:
        context.progress.Report(l.percent, SafeText(l.text));
        break;
      case ExecLine::Kind::kResult:
        result = SafeText(l.text);
        break;
      case ExecLine::Kind::kFile:
        file_name = SafeText(l.text);
        break;
      case ExecLine::Kind::kMalformed:
        stderr_log.Append("[conveyor: stdout line ignored, " + l.problem + ": " + l.text + "]\n");
        break;
      case ExecLine::Kind::kOther:
        break;
    }
  };
  std::array<char, 65536> buffer;
  // One read of what is there (one per poll round, so a program that writes without pause
  // cannot keep the loop from noticing a cancel); closes `fd` at end of stream or on error.
  auto read_some = [&](Fd& fd, bool is_stdout) {
    ssize_t n = read(fd.get(), buffer.data(), buffer.size());
    if (n > 0) {
      std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
      if (is_stdout)
        lines.Feed(bytes, on_line);
      else
        stderr_log.Append(bytes);
      return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    fd.Reset();
    if (is_stdout) lines.Finish(on_line);
  };
  auto poll_once = [&](std::chrono::milliseconds timeout) {
    std::vector<pollfd> fds;
    if (stdin_fd.open()) fds.push_back({stdin_fd.get(), POLLOUT, 0});
    if (stdout_fd.open()) fds.push_back({stdout_fd.get(), POLLIN, 0});
    if (stderr_fd.open()) fds.push_back({stderr_fd.get(), POLLIN, 0});
    int n = poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (n <= 0) return;
    for (const auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == stdin_fd.get()) {
        if (p.revents & (POLLERR | POLLHUP)) {
          stdin_fd.Reset();  // the program closed its stdin without reading it all
          continue;
        }
        ssize_t w = write(stdin_fd.get(), parameters.data() + written, parameters.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == parameters.size())
          stdin_fd.Reset();
      } else if (p.fd == stdout_fd.get()) {
        read_some(stdout_fd, true);
      } else if (p.fd == stderr_fd.get()) {
        read_some(stderr_fd, false);
      }
    }
  };

  // Runs until the program (the process group's leader) exits, signalling it on cancel.
  std::optional<std::chrono::steady_clock::time_point> term_sent;
  bool kill_sent = false;
  std::string stop_reason;
  bool lost = false;  // something else in this process reaped the program
  while (true) {
    poll_once(kPollInterval);
    siginfo_t info{};
    int waited = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (waited == 0 && info.si_pid == pid) break;
    if (waited < 0 && errno == ECHILD) {
      lost = true;
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (!term_sent && (context.cancel.cancelled() || now >= context.deadline)) {
      stop_reason = context.cancel.cancelled()
                        ? std::string(CancelReasonName(context.cancel.reason()))
                        : "timed out";
      log->info("task={} run={}: {}; SIGTERM to process group {}", task_id,
                context.run_id.ToString(), stop_reason, pid);
      kill(-pid, SIGTERM);
      term_sent = now;
    }
    if (term_sent && !kill_sent && now >= *term_sent + settings_.grace) {
      log->warn("task={} run={}: process group {} still running {} ms after SIGTERM; SIGKILL",
                task_id, context.run_id.ToString(), pid, settings_.grace.count());
      kill(-pid, SIGKILL);
      kill_sent = true;
    }
  }
  // The leader is a zombie, so its pid (the group's id) cannot be reused yet: kill what is left
  // of the group, then reap every member that is this process's child. (When it was reaped
  // elsewhere its pid may be reused already, so nothing is signalled.)
  int status = 0;
  if (!lost) kill(-pid, SIGKILL);
  while (!lost) {
    int st = 0;
    pid_t reaped = waitpid(-pid, &st, 0);
    if (reaped == pid) status = st;
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped < 0) break;  // ECHILD: none left
  }
  stdin_fd.Reset();
  auto drain_until = std::chrono::steady_clock::now() + kDrainLimit;
  while ((stdout_fd.open() || stderr_fd.open()) && std::chrono::steady_clock::now() < drain_until)
    poll_once(kPollInterval);
  if (stdout_fd.open()) lines.Finish(on_line);
  if (stdout_fd.open() || stderr_fd.open())
    stderr_log.Append(
        "[conveyor: a process outside the program's process group kept its output open; "
        "stopped reading]\n");

  std::string run_log = stderr_log.Text();
  std::string how = WIFSIGNALED(status)
                        ? "killed by " + SignalName(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (lost)
    return failure(name_ +
                       ": the program's exit status was taken by another waitpid() in the "
                       "worker process; its outcome is unknown",
                   false, std::move(run_log));
  if (term_sent)
    return failure(name_ + ": stopped (" + stop_reason + "): " +
                       (kill_sent ? "still running " + std::to_string(settings_.grace.count()) +
                                        " ms after SIGTERM, killed with SIGKILL"
                                  : "SIGTERM sent, " + how),
                   false, std::move(run_log));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return HandlerOutput{result.empty() ? how : result, file_name, std::move(run_log)};
  std::string detail = !result.empty() ? result : stderr_log.LastLine();
  bool retryable = WIFEXITED(status) && WEXITSTATUS(status) == kRetryableExitStatus;
  return failure(name_ + ": " + how + (retryable ? " (temporary failure)" : "") +
                     (detail.empty() ? "" : ": " + detail),
                 retryable, std::move(run_log));
}

}  // namespace conveyor

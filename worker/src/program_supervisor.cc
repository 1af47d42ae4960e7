#include "program_supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace conveyor {

Status MakeNonDumpable() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return Fail(ErrorCode::kUnavailable,
                std::string("cannot make the process non-dumpable: ") + std::strerror(errno));
  return {};
}

Result<ProgramUser> ProgramUserNamed(const std::string& name) {
  passwd entry{}, *found = nullptr;
  std::vector<char> buffer(16384);
  int rc = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || !found)
    return Fail(ErrorCode::kInvalidArgument,
                "user '" + name + "' " +
                    (rc ? std::string("cannot be looked up: ") + std::strerror(rc)
                        : std::string("does not exist on this machine")));
  ProgramUser user{name, entry.pw_uid, entry.pw_gid, {}};
  int count = 64;
  user.groups.resize(static_cast<std::size_t>(count));
  if (getgrouplist(name.c_str(), entry.pw_gid, user.groups.data(), &count) < 0) {
    user.groups.resize(static_cast<std::size_t>(count));
    getgrouplist(name.c_str(), entry.pw_gid, user.groups.data(), &count);
  }
  user.groups.resize(static_cast<std::size_t>(count));
  if (geteuid() != 0 && geteuid() != user.uid)
    return Fail(ErrorCode::kInvalidArgument, "running programs as user '" + name +
                                                 "' needs a worker that runs as root (it runs "
                                                 "as uid " +
                                                 std::to_string(geteuid()) + ")");
  return user;
}

std::string_view StageName(SupervisorReport::Stage stage) {
  switch (stage) {
    case SupervisorReport::kFork:
      return "starting a process";
    case SupervisorReport::kWorkingDirectory:
      return "changing to its working directory";
    case SupervisorReport::kLimits:
      return "setting its resource limits";
    case SupervisorReport::kUser:
      return "switching to its user";
    case SupervisorReport::kExec:
    case SupervisorReport::kNone:
      break;
  }
  return "executing it";
}

namespace {

// Everything below runs in a child of fork(): system calls and async-signal-safe functions
// only, no allocation, no locks.

// The descriptor that reports go to once the supervisor set its descriptors up.
constexpr int kReportFd = 3;

void Report(int fd, SupervisorReport report) {
  while (write(fd, &report, sizeof report) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void FailAt(int fd, SupervisorReport::Stage stage, int error) {
  Report(fd, {SupervisorReport::kFailed, stage, error});
  _exit(127);
}

// Keeps the program's three pipe ends as 0, 1, 2 and the report pipe as kReportFd (closed on
// exec); closes every other descriptor the worker had open. Exits at once when it cannot (the
// worker then reads no report: the supervisor ended before starting the program).
void KeepOnlyOwnDescriptors(const SupervisorPlan& plan) {
  int fds[] = {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd, plan.report_fd};
  for (int& fd : fds) {
    fd = fcntl(fd, F_DUPFD, kReportFd + 1);  // out of 0..3's way first
    if (fd < 0) _exit(127);
  }
  for (int i = 0; i < 4; ++i)
    if (dup2(fds[i], i) != i) _exit(127);
  if (syscall(SYS_close_range, kReportFd + 1, ~0U, 0) != 0) _exit(127);
  fcntl(kReportFd, F_SETFD, FD_CLOEXEC);
}

// Every signal back at its default action, none blocked.
void ResetSignals() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// In the program's process, before exec: its group, directory, limits and user. A failure is
// written to `fd` (closed on a successful exec, so its reader sees end of file).
[[noreturn]] void ExecProgram(const SupervisorPlan& plan, int fd, pid_t supervisor) {
  ResetSignals();
  setpgid(0, 0);
  if (plan.working_directory && chdir(plan.working_directory) != 0)
    FailAt(fd, SupervisorReport::kWorkingDirectory, errno);
  for (std::size_t i = 0; i < plan.limit_count; ++i) {
    rlimit limit{plan.limits[i].second, plan.limits[i].second};
    if (setrlimit(static_cast<__rlimit_resource>(plan.limits[i].first), &limit) != 0)
      FailAt(fd, SupervisorReport::kLimits, errno);
  }
  const ProgramUser* u = plan.user;
  if (u && (u->uid != geteuid() || u->gid != getegid())) {
    // Raw system calls: this thread is the process's only one, so no other needs the change.
    if (syscall(SYS_setgroups, u->groups.size(), u->groups.data()) != 0 ||
        syscall(SYS_setresgid, u->gid, u->gid, u->gid) != 0 ||
        syscall(SYS_setresuid, u->uid, u->uid, u->uid) != 0)
      FailAt(fd, SupervisorReport::kUser, errno);
  }
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);         // after the user switch, which clears it
  if (getppid() != supervisor) _exit(127);  // the supervisor is gone already
  execve(plan.program, plan.argv, plan.envp);
  FailAt(fd, SupervisorReport::kExec, errno);
}

// The parent of `pid` as /proc says (its stat line: "pid (comm) state ppid ..."); 0 when the
// process is gone or the line cannot be read.
pid_t ParentOf(const char* pid_text) {
  char path[64] = "/proc/";
  std::size_t n = 6;
  for (const char* c = pid_text; *c && n < sizeof path - 6; ++c) path[n++] = *c;
  for (const char* c = "/stat"; *c; ++c) path[n++] = *c;
  path[n] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char line[512];
  ssize_t got = read(fd, line, sizeof line - 1);
  close(fd);
  if (got <= 0) return 0;
  const char* end = nullptr;  // the last ')': a command name may hold one itself
  for (ssize_t i = 0; i < got; ++i)
    if (line[i] == ')') end = line + i;
  if (!end || end + 4 >= line + got) return 0;
  pid_t parent = 0;
  for (const char* c = end + 4; c < line + got && *c >= '0' && *c <= '9'; ++c)
    parent = parent * 10 + (*c - '0');
  return parent;
}

// SIGKILL to every process whose parent is this one, found by a walk of /proc.
void KillOwnChildren() {
  int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  pid_t self = getpid();
  alignas(dirent64) char buffer[8192];
  long got;
  while ((got = syscall(SYS_getdents64, dir, buffer, sizeof buffer)) > 0) {
    for (long offset = 0; offset < got;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
      offset += entry->d_reclen;
      if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
      if (ParentOf(entry->d_name) != self) continue;
      pid_t pid = 0;
      for (const char* c = entry->d_name; *c; ++c) pid = pid * 10 + (*c - '0');
      kill(pid, SIGKILL);
    }
  }
  close(dir);
}

// `sig` to the program and its process group (the program itself too: it may have left the
// group).
void Signal(pid_t program, int sig) {
  kill(program, sig);
  kill(-program, sig);
}

// Waits until the program ends, passing on the worker's stop and kill requests. Leaves it
// unreaped: while its zombie holds its pid and group id, no other process can get them.
void WaitForProgram(pid_t program, const sigset_t& watched) {
  while (true) {
    siginfo_t info{};
    int waited = waitid(P_PID, static_cast<id_t>(program), &info, WEXITED | WNOHANG | WNOWAIT);
    if (waited == 0 && info.si_pid == program) return;
    if (waited < 0 && errno != EINTR) return;  // cannot happen: it is this process's child
    int sig = sigwaitinfo(&watched, nullptr);
    if (sig == kStopProgram) Signal(program, SIGTERM);
    if (sig == kKillProgram) Signal(program, SIGKILL);
  }
}

// Kills what is left of the program's process group while the program's zombie still holds the
// group id, reaps the program, then kills every process that became this one's child until
// none is left, reaping them all. Returns the program's wait status.
int KillAndReapTheRest(pid_t program) {
  kill(-program, SIGKILL);
  int status = 0;
  while (waitpid(program, &status, 0) < 0 && errno == EINTR) {
  }
  while (true) {
    KillOwnChildren();
    if (waitpid(-1, nullptr, 0) < 0 && errno == ECHILD) return status;
  }
}

}  // namespace

void RunSupervisor(const SupervisorPlan& plan) {
  KeepOnlyOwnDescriptors(plan);
  ResetSignals();
  setpgid(0, 0);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // When the worker dies: kill the program and everything it left, as at a kill request.
  prctl(PR_SET_PDEATHSIG, kKillProgram);
  if (getppid() != plan.worker) _exit(127);  // the worker is gone already
  sigset_t watched;
  sigemptyset(&watched);
  for (int sig : {kStopProgram, kKillProgram, SIGCHLD}) sigaddset(&watched, sig);
  sigprocmask(SIG_BLOCK, &watched, nullptr);

  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) FailAt(kReportFd, SupervisorReport::kFork, errno);
  pid_t self = getpid();
  pid_t program = _Fork();
  if (program < 0) FailAt(kReportFd, SupervisorReport::kFork, errno);
  if (program == 0) ExecProgram(plan, exec_pipe[1], self);
  close(exec_pipe[1]);
  setpgid(program, program);  // here too: no signal may reach the group before it exists
  close(0);
  close(1);
  close(2);
  SupervisorReport failed;
  ssize_t got;
  while ((got = read(exec_pipe[0], &failed, sizeof failed)) < 0 && errno == EINTR) {
  }
  if (got == sizeof failed) {
    Report(kReportFd, failed);
    KillAndReapTheRest(program);
    _exit(0);
  }
  Report(kReportFd, {SupervisorReport::kStarted, SupervisorReport::kNone, program});
  WaitForProgram(program, watched);
  int status = KillAndReapTheRest(program);
  Report(kReportFd, {SupervisorReport::kEnded, SupervisorReport::kNone, status});
  _exit(0);
}

}  // namespace conveyor

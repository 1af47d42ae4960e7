// The exec handler against real programs (tests/integration/worker/programs/, run by /bin/bash):
// the stdout protocol, exit statuses, the bounded stderr log, timeouts, cancellation, and
// that no process is left behind (label: integration).
#include "src/exec_handler.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/wait.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

class RecordingProgress final : public ProgressReporter {
 public:
  void Report(int percent, std::string description) override {
    std::lock_guard lock(mu_);
    steps_.emplace_back(percent, std::move(description));
  }
  std::vector<std::pair<int, std::string>> steps() {
    std::lock_guard lock(mu_);
    return steps_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<int, std::string>> steps_;
};

// True when no process with that pid exists any more (not even as a zombie).
bool Gone(pid_t pid) { return kill(pid, 0) == -1 && errno == ESRCH; }

class ExecHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/conveyor-exec-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    task_.id = Uuid::Random();
    task_.number = 4242;
    task_.content_type = "application/json";
    task_.parameters = R"({"size": 3})";
    task_.client_id = Uuid::Random();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string Program(const std::string& name) {
    return std::string(CONVEYOR_SOURCE_DIR) + "/tests/integration/worker/programs/" + name;
  }

  ExecHandlerSettings Settings(const std::string& program, std::vector<std::string> args = {}) {
    ExecHandlerSettings s;
    s.command = {"/bin/bash", Program(program)};
    for (auto& a : args) s.command.push_back(std::move(a));
    s.environment["PID_DIR"] = dir_;
    s.grace = 2000ms;
    return s;
  }

  HandlerResult Run(ExecHandler& handler, std::chrono::steady_clock::time_point deadline =
                                              std::chrono::steady_clock::time_point::max()) {
    HandlerContext context{task_, run_id_, 1, 2, progress_, token_, deadline};
    return handler.Run(context);
  }

  // The pid the program wrote to $PID_DIR/<name>, once it is there; -1 after 10 s.
  pid_t PidFrom(const std::string& name) {
    pid_t pid = -1;
    testing::PollUntil(
        [&] {
          std::ifstream in(dir_ + "/" + name);
          return static_cast<bool>(in >> pid);
        },
        10s);
    return pid;
  }

  std::string dir_;
  Task task_;
  Uuid run_id_ = Uuid::Random();
  RecordingProgress progress_;
  CancellationToken token_;
};

TEST_F(ExecHandlerTest, SuccessReportsProgressResultFileAndSeesParametersAndEnvironment) {
  setenv("CONVEYOR_TEST_SECRET", "from the worker's environment", 1);
  auto settings = Settings("report.sh");
  settings.environment["GREETING"] = "hello there";
  settings.working_directory = dir_;
  ExecHandler handler("report", settings);
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message << "\n" << r.error().log;
  EXPECT_EQ(r->result, R"(got {"size": 3})");
  EXPECT_EQ(r->file_name, "out-4242.txt");
  EXPECT_EQ(progress_.steps(),
            (std::vector<std::pair<int, std::string>>{{50, "half way"}, {100, "all done"}}));
  const std::string& log = r->log;
  EXPECT_NE(log.find("task=" + task_.id.ToString() + " number=4242 run=" + run_id_.ToString()),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("attempt=2 start=1 type=application/json"), std::string::npos) << log;
  EXPECT_NE(log.find("handler=report greeting=hello there pwd=" + dir_ +
                     " path=/usr/local/bin:/usr/bin:/bin"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("secret=unset client=" + task_.client_id->ToString()), std::string::npos)
      << log;
  EXPECT_EQ(log.find("not a protocol line"), std::string::npos) << log;
}

TEST_F(ExecHandlerTest, NonZeroExitFailsWithoutRetryAndSaysWhy) {
  ExecHandler handler("failing", Settings("exit-with.sh", {"3"}));
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message, "failing: exited with status 3: something went wrong (status 3)");
  EXPECT_NE(r.error().log.find("something went wrong"), std::string::npos);
}

TEST_F(ExecHandlerTest, ExitStatus75IsARetryableFailure) {
  ExecHandler handler("flaky", Settings("exit-with.sh", {"75"}));
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("exited with status 75 (temporary failure)"), std::string::npos)
      << r.error().message;
}

TEST_F(ExecHandlerTest, EndedBySignalFailsNamingTheSignal) {
  ExecHandler handler("crash", Settings("crash.sh"));
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message, "crash: killed by SIGSEGV");
}

TEST_F(ExecHandlerTest, StderrIsKeptUpToTheLimitWithItsTailAndSaysItWasCut) {
  auto settings = Settings("flood-stderr.sh");
  settings.log_limit_bytes = 1000;
  ExecHandler handler("flood", settings);
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->result, "flooded");
  EXPECT_LE(r->log.size(), 1000u + 100u);
  EXPECT_TRUE(r->log.starts_with("[conveyor: the first ")) << r->log.substr(0, 100);
  EXPECT_NE(r->log.find("bytes were cut"), std::string::npos);
  EXPECT_TRUE(r->log.ends_with("the last line\n"));
}

TEST_F(ExecHandlerTest, ProgramThatCannotBeStartedFailsClearly) {
  ExecHandlerSettings s;
  s.command = {"/nonexistent/conveyor-program"};
  ExecHandler handler("missing", s);
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message,
            "exec: cannot start '/nonexistent/conveyor-program': No such file or directory");
}

TEST_F(ExecHandlerTest, MissingWorkingDirectoryIsNamed) {
  auto s = Settings("report.sh");
  s.working_directory = dir_ + "/not-there";
  ExecHandler handler("nowhere", s);
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("working directory '" + dir_ + "/not-there'"), std::string::npos)
      << r.error().message;
}

TEST_F(ExecHandlerTest, ProgramThatDoesNotReadItsLargeStdinStillSucceeds) {
  task_.parameters = std::string(1 << 20, 'p');
  ExecHandler handler("deaf", Settings("ignore-stdin.sh"));
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->result, "did not read stdin");
}

TEST_F(ExecHandlerTest, ChildLeftRunningWhenTheProgramEndsIsKilledAndReaped) {
  ExecHandler handler("litter", Settings("leave-child.sh"));
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  pid_t child = PidFrom("child");
  ASSERT_GT(child, 0);
  // Run returns only once every process of the program's group is killed and reaped, so no
  // waiting is needed (init here reaps orphans only now and then: polling would hide a
  // zombie that Run left to it).
  EXPECT_TRUE(Gone(child)) << "child " << child;
}

TEST_F(ExecHandlerTest, TimeoutTerminatesThenKillsAProgramThatIgnoresSigterm) {
  auto settings = Settings("child-and-wait.sh");
  settings.environment["IGNORE_TERM"] = "1";
  settings.grace = 300ms;
  ExecHandler handler("stubborn", settings);
  auto started = std::chrono::steady_clock::now();
  auto r = Run(handler, started + 1s);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "stubborn: stopped (timed out): still running 300 ms after SIGTERM, killed with "
            "SIGKILL");
  EXPECT_LT(took, 10s);
  pid_t leader = PidFrom("leader"), child = PidFrom("child");
  ASSERT_GT(leader, 0);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(Gone(leader)) << "leader " << leader;  // reaped before Run returned
  EXPECT_TRUE(Gone(child)) << "child " << child;
}

TEST_F(ExecHandlerTest, CancelOfAProgramWithAChildLeavesNoProcessBehind) {
  ExecHandler handler("waiter", Settings("child-and-wait.sh"));
  pid_t leader = -1, child = -1;
  std::thread canceller([&] {
    leader = PidFrom("leader");
    child = PidFrom("child");
    token_.Cancel(CancelReason::kStopRequested);
  });
  auto r = Run(handler);
  canceller.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "waiter: stopped (stop requested): SIGTERM sent, killed by SIGTERM");
  EXPECT_EQ(progress_.steps().front().first, 10);
  ASSERT_GT(leader, 0);
  ASSERT_GT(child, 0);
  // Killed and reaped before Run returned: not even a zombie is left.
  EXPECT_TRUE(Gone(leader)) << "leader " << leader;
  EXPECT_TRUE(Gone(child)) << "child " << child;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(ExecHandlerTest, CancelStopsAProgramThatWritesToStdoutWithoutPause) {
  ExecHandler handler("chatty", Settings("flood-stdout.sh"));
  std::thread canceller([&] {
    PidFrom("leader");
    token_.Cancel(CancelReason::kStopRequested);
  });
  auto started = std::chrono::steady_clock::now();
  auto r = Run(handler);
  canceller.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(r.error().message, "chatty: stopped (stop requested): SIGTERM sent, killed by SIGTERM");
}

TEST_F(ExecHandlerTest, ADescendantThatLeftTheSessionIsKilledAndReapedWhenTheProgramEnds) {
  ExecHandler handler("daemonizer", Settings("escape-session.sh"));
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->result, "left a daemon behind");
  pid_t escaped = PidFrom("escaped");
  ASSERT_GT(escaped, 0);
  EXPECT_TRUE(Gone(escaped)) << "escaped " << escaped;  // killed and reaped before Run returned
}

TEST_F(ExecHandlerTest, ConfiguredResourceLimitsApplyToTheProgram) {
  auto settings = Settings("limits.sh");
  settings.limits.cpu_seconds = 7;
  settings.limits.open_files = 64;
  settings.limits.memory_bytes = 1024ull * 1024 * 1024;
  settings.limits.processes = 500;
  ExecHandler handler("limited", settings);
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message << "\n" << r.error().log;
  EXPECT_EQ(r->result, "cpu=7 files=64 memory=1048576 processes=500");
}

TEST_F(ExecHandlerTest, AProgramPastItsCpuLimitIsKilled) {
  auto settings = Settings("spin.sh");
  settings.limits.cpu_seconds = 1;
  ExecHandler handler("spinner", settings);
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "spinner: killed by SIGKILL");
}

TEST_F(ExecHandlerTest, ALimitThatCannotBeSetFailsTheStartNamingTheStep) {
  auto settings = Settings("limits.sh");
  settings.limits.open_files = 1ull << 40;  // above the system's nr_open: setrlimit refuses it
  ExecHandler handler("greedy", settings);
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "exec: cannot start '/bin/bash' (setting its resource limits): Operation not "
            "permitted");
}

TEST_F(ExecHandlerTest, ATaskTypeWithoutTimeoutGetsTheHandlersTimeout) {
  auto settings = Settings("child-and-wait.sh");
  settings.timeout = 500ms;
  ExecHandler handler("patient", settings);
  auto r = Run(handler);  // no deadline from the task type
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "patient: stopped (timed out: the task type sets no timeout and the handler's "
            "timeout_ms is 500): SIGTERM sent, killed by SIGTERM");
  pid_t child = PidFrom("child");
  ASSERT_GT(child, 0);
  EXPECT_TRUE(Gone(child)) << "child " << child;
}

TEST_F(ExecHandlerTest, AnUnknownUserFailsEachRunNamingTheUser) {
  auto settings = Settings("report.sh");
  settings.user = "conveyor-no-such-user";
  ExecHandler handler("nobody-home", settings);
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "exec nobody-home: user 'conveyor-no-such-user' does not exist on this machine");
}

TEST_F(ExecHandlerTest, CancelReachesAProgramThatLeftItsProcessGroup) {
  ExecHandlerSettings settings;
  settings.command = {"/usr/bin/python3", Program("leave-group.py")};
  settings.environment["PID_DIR"] = dir_;
  settings.grace = 2000ms;
  ExecHandler handler("mover", settings);
  pid_t leader = -1;
  std::thread canceller([&] {
    leader = PidFrom("leader");
    token_.Cancel(CancelReason::kStopRequested);
  });
  auto r = Run(handler);
  canceller.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "mover: stopped (stop requested): SIGTERM sent, killed by SIGTERM");
  ASSERT_GT(leader, 0);
  EXPECT_TRUE(Gone(leader)) << "leader " << leader;
}

TEST_F(ExecHandlerTest, WhenTheWorkerDiesItsProgramsAndWhatTheyLeftAreKilled) {
  // A worker of its own (a child of this test) runs a program that leaves a daemon behind and
  // waits; the worker is then killed with SIGKILL.
  pid_t worker = fork();
  if (worker == 0) {
    ExecHandler handler("orphaned", Settings("daemon-and-wait.sh"));
    Run(handler);
    _exit(0);
  }
  ASSERT_GT(worker, 0);
  pid_t escaped = PidFrom("escaped");
  ASSERT_GT(escaped, 0);
  kill(worker, SIGKILL);
  waitpid(worker, nullptr, 0);
  // The supervisor, told of its worker's death, kills and reaps; init then reaps it.
  EXPECT_TRUE(testing::PollUntil([&] { return Gone(escaped); }, 10s)) << "escaped " << escaped;
}

// A program copied where the user `nobody` can read and run it.
std::string ProgramForNobody(const std::string& dir, const std::string& source) {
  std::filesystem::permissions(dir, std::filesystem::perms(0755));
  auto copy = dir + "/" + std::filesystem::path(source).filename().string();
  std::filesystem::copy_file(source, copy);
  std::filesystem::permissions(copy, std::filesystem::perms(0755));
  return copy;
}

TEST_F(ExecHandlerTest, AProgramRunAsAnotherUserCannotReadTheWorkersEnvironment) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  setenv("CONVEYOR_TEST_SECRET", "the worker's database password", 1);
  auto settings = Settings("identity.sh");
  settings.command[1] = ProgramForNobody(dir_, Program("identity.sh"));
  settings.working_directory = dir_;
  settings.environment["WORKER_PID"] = std::to_string(getpid());
  {
    ExecHandler as_worker("as-worker", settings);
    auto r = Run(as_worker);
    ASSERT_TRUE(r.has_value()) << r.error().message << "\n" << r.error().log;
    EXPECT_EQ(r->result, "uid=0 parent=read worker=read") << "without a user, as the worker";
  }
  settings.user = "nobody";
  ExecHandler as_nobody("as-nobody", settings);
  auto r = Run(as_nobody);
  ASSERT_TRUE(r.has_value()) << r.error().message << "\n" << r.error().log;
  EXPECT_EQ(r->result, "uid=" + std::to_string(ProgramUserNamed("nobody")->uid) +
                           " parent=denied worker=denied");
}

// Whether a process of the user `nobody` can read the environment of another process of that
// user, which calls MakeNonDumpable or not first.
bool NobodyCanReadTheEnvironmentOfNobody(bool non_dumpable) {
  uid_t nobody = ProgramUserNamed("nobody")->uid;
  int ready[2];
  if (pipe(ready) != 0) return false;
  pid_t target = fork();
  if (target == 0) {
    // Changing the uid makes a process non-dumpable (fs.suid_dumpable); make it dumpable
    // again, as a worker started as that user is.
    if (setresuid(nobody, nobody, nobody) != 0 || prctl(PR_SET_DUMPABLE, 1) != 0) _exit(1);
    if (non_dumpable && !MakeNonDumpable()) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char byte;
  bool readable = false;
  if (read(ready[0], &byte, 1) == 1) {
    pid_t reader = fork();
    if (reader == 0) {
      if (setresuid(nobody, nobody, nobody) != 0) _exit(2);
      std::string path = "/proc/" + std::to_string(target) + "/environ";
      _exit(open(path.c_str(), O_RDONLY) >= 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(reader, &status, 0);
    readable = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  kill(target, SIGKILL);
  waitpid(target, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  return readable;
}

TEST(NonDumpable, ProgramsOfTheWorkersOwnUserCannotReadItsEnvironment) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  EXPECT_TRUE(NobodyCanReadTheEnvironmentOfNobody(false)) << "the control: dumpable, readable";
  EXPECT_FALSE(NobodyCanReadTheEnvironmentOfNobody(true));
}

}  // namespace
}  // namespace conveyor

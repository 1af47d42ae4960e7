// End to end (label: e2e) for the `conveyor` command line: the binary against the producer
// and a worker on the real broker and PostgreSQL, as a person would run it: submit, watch
// (plain, and under a pseudo-terminal with `script`, where the bars are drawn in place), get,
// list, types, stop, retry, and its errors: one line and a non-zero exit status.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Ran {
  int status = -1;  // the exit status
  std::string out;  // stdout and stderr together
};

class CommandLine : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    producer_ = StartProducer(testing::KafkaBrokers());
    worker_ = StartWorker("e2e-cli");
  }

  // The CLI's address and the e2e client's credentials, as .stack/env would give them.
  std::string Env() const {
    return "CONVEYOR_HTTP_URL=http://127.0.0.1:" + std::to_string(port_) + " CONVEYOR_CLIENT_ID='" +
           client_id_ + "' CONVEYOR_CLIENT_SECRET='" + client_secret_ + "' CONVEYOR_ADMIN_KEY= ";
  }

  static Ran Shell(const std::string& command) {
    Ran r;
    if (FILE* f = popen((command + " 2>&1").c_str(), "r")) {
      char buf[4096];
      while (std::size_t n = fread(buf, 1, sizeof buf, f)) r.out.append(buf, n);
      int st = pclose(f);
      r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return r;
  }

  Ran Cli(const std::string& args) { return Shell(Env() + CONVEYOR_CLI_BIN + " " + args); }

  // A sleep task submitted through the CLI: its Id.
  std::int64_t SubmitSleep(int seconds, int steps) {
    auto r = Cli("submit sleep -p '{\"seconds\": " + std::to_string(seconds) +
                 ", \"steps\": " + std::to_string(steps) + "}'");
    EXPECT_EQ(r.status, 0) << r.out;
    return std::atoll(r.out.c_str());
  }

  json Task(std::int64_t id) {
    auto r = Cli("get --json " + std::to_string(id));
    return r.status == 0 ? json::parse(r.out, nullptr, false) : json();
  }

  std::unique_ptr<testing::ChildProcess> producer_, worker_;
};

TEST_F(CommandLine, SubmitThenWatchShowsProgressUntilSucceededAndGetAndListShowTheTask) {
  auto id = SubmitSleep(1, 4);
  ASSERT_GT(id, 0);

  auto watched = Cli("watch --plain " + std::to_string(id));
  EXPECT_EQ(watched.status, 0) << watched.out;
  EXPECT_NE(watched.out.find("Succeeded"), std::string::npos) << watched.out;
  EXPECT_NE(watched.out.find("[####################] 100%"), std::string::npos) << watched.out;
  EXPECT_EQ(watched.out.find('\x1b'), std::string::npos) << "plain lines draw nothing";

  auto got = Cli("get " + std::to_string(id));
  EXPECT_EQ(got.status, 0) << got.out;
  EXPECT_TRUE(std::regex_search(got.out,
                                std::regex(std::to_string(id) + R"( +sleep +Succeeded +100% +1 )")))
      << got.out;

  auto listed = Cli("list --json");
  ASSERT_EQ(listed.status, 0) << listed.out;
  auto all = json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(all.is_array()) << listed.out;
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const json& t) { return t["Id"] == id; }));
}

TEST_F(CommandLine, WatchOnAPseudoTerminalRedrawsItsBarsInPlace) {
  auto id = SubmitSleep(2, 8);
  ASSERT_GT(id, 0);
  // script(1) gives the CLI a pseudo-terminal; -e passes its exit status on.
  auto r = Shell("TERM=xterm script -qec \"" + Env() + CONVEYOR_CLI_BIN + " watch " +
                 std::to_string(id) + "\" /dev/null");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\x1b[1A"), std::string::npos) << "the cursor goes back up to redraw";
  EXPECT_NE(r.out.find("\r\x1b[2K"), std::string::npos) << "each line is cleared and redrawn";
  EXPECT_NE(r.out.find("Started"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Succeeded"), std::string::npos) << r.out;
}

TEST_F(CommandLine, StopEndsARunningTaskAndWatchThenExitsNonZero) {
  auto id = SubmitSleep(60, 60);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(testing::PollUntil([&] { return Task(id)["State"] == "Started"; }, 60s)) << Task(id);

  auto stopped = Cli("stop " + std::to_string(id));
  EXPECT_EQ(stopped.status, 0) << stopped.out;
  EXPECT_EQ(stopped.out, std::to_string(id) + " stop requested\n");

  auto watched = Cli("watch --plain --timeout 60 " + std::to_string(id));
  EXPECT_EQ(watched.status, 1) << "a stopped task did not succeed:\n" << watched.out;
  EXPECT_NE(watched.out.find("Failed"), std::string::npos) << watched.out;

  auto again = Cli("stop " + std::to_string(id));
  EXPECT_EQ(again.status, 1);
  EXPECT_EQ(again.out, std::to_string(id) + " not stopped: its run is over\n");
}

TEST_F(CommandLine, RetryRunsAFinishedTaskAgain) {
  auto id = SubmitSleep(0, 1);
  ASSERT_GT(id, 0);
  ASSERT_EQ(Cli("watch --plain --timeout 60 " + std::to_string(id)).status, 0);
  auto first_start = Task(id)["LastStarted"];

  auto retried = Cli("retry " + std::to_string(id));
  EXPECT_EQ(retried.status, 0) << retried.out;
  auto watched = Cli("watch --plain --timeout 60 " + std::to_string(id));
  EXPECT_EQ(watched.status, 0) << watched.out;
  EXPECT_NE(Task(id)["LastStarted"], first_start) << "a second run started: " << Task(id);
}

TEST_F(CommandLine, SubmitFromAFileAndTypesListTheCatalogue) {
  auto file = testing::UniqueName("/tmp/conveyor-cli-") + ".json";
  {
    std::ofstream f(file);
    f << R"([{"Name": "noop"}, {"Name": "sleep", "ParameterObject": {"seconds": 0}}])";
  }
  auto r = Cli("submit --file " + file + " --watch --plain");
  std::remove(file.c_str());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^[0-9]+\n[0-9]+\n)"))) << "two Ids first:\n"
                                                                            << r.out;
  std::ptrdiff_t succeeded = 0;
  for (auto it = r.out.find("Succeeded"); it != std::string::npos;
       it = r.out.find("Succeeded", it + 1))
    ++succeeded;
  EXPECT_EQ(succeeded, 2) << "each task's last line says it succeeded:\n" << r.out;

  auto types = Cli("types");
  EXPECT_EQ(types.status, 0) << types.out;
  EXPECT_NE(types.out.find("00000000-0000-0000-0000-000000000002 sleep"), std::string::npos)
      << types.out;
}

TEST_F(CommandLine, ErrorsAreOneLineNamingTheProblemWithANonZeroExitStatus) {
  auto missing = Cli("get 99999999");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(std::count(missing.out.begin(), missing.out.end(), '\n'), 1) << missing.out;
  EXPECT_EQ(missing.out.rfind("conveyor: GET /api/v1/BatchTask/99999999: 404 ", 0), 0u)
      << missing.out;

  auto unknown_type = Cli("submit no-such-type");
  EXPECT_EQ(unknown_type.status, 1);
  EXPECT_NE(unknown_type.out.find("400"), std::string::npos) << unknown_type.out;

  auto wrong_secret =
      Shell(Env() + "CONVEYOR_CLIENT_SECRET=wrong-secret-0000 " + CONVEYOR_CLI_BIN + " list");
  EXPECT_EQ(wrong_secret.status, 1);
  EXPECT_NE(wrong_secret.out.find("401"), std::string::npos) << wrong_secret.out;

  auto nobody =
      Shell(std::string("CONVEYOR_CLIENT_ID= CONVEYOR_ADMIN_KEY= ") + CONVEYOR_CLI_BIN + " list");
  EXPECT_EQ(nobody.status, 1);
  EXPECT_NE(nobody.out.find("no credentials"), std::string::npos) << nobody.out;

  auto no_server = Shell("CONVEYOR_HTTP_URL=http://127.0.0.1:1 CONVEYOR_ADMIN_KEY=k " +
                         std::string(CONVEYOR_CLI_BIN) + " list");
  EXPECT_EQ(no_server.status, 1);
  EXPECT_NE(no_server.out.find("no answer from http://127.0.0.1:1"), std::string::npos)
      << no_server.out;
}

}  // namespace
}  // namespace conveyor

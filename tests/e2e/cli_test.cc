// End to end (label: e2e) for the `conveyor` command line: the binary against the producer
// and a worker on the real broker and PostgreSQL, as a person would run it: submit, watch
// (plain, and under a pseudo-terminal with `script`, where the bars are drawn in place), get,
// list, types, stop, retry, and its errors: one line and a non-zero exit status.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "conveyor/dead_letter.h"
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

  // The subcommands that read Kafka get the brokers and topics as .stack/env gives them.
  Ran Kafka(const std::string& args) {
    return Shell("CONVEYOR_KAFKA_BROKERS=" + testing::KafkaBrokers() +
                 " CONVEYOR_DLQ_TOPIC=" + dlq_ + " CONVEYOR_NOTIFICATIONS_TOPIC=" + notifications_ +
                 " " + CONVEYOR_CLI_BIN + " " + args);
  }

  // A sleep task submitted through the CLI: its Id.
  std::int64_t SubmitSleep(int seconds, int steps) {
    auto r = Cli("submit sleep -p '{\"seconds\": " + std::to_string(seconds) +
                 ", \"steps\": " + std::to_string(steps) + "}'");
    EXPECT_EQ(r.status, 0) << r.out;
    return std::atoll(r.out.c_str());
  }

  json Task(std::int64_t id) {
    auto r = Cli("get --json " + std::to_string(id));
    auto list = r.status == 0 ? json::parse(r.out, nullptr, false) : json();
    return list.is_array() && list.size() == 1 ? list[0] : json();
  }

  // The CLI on a pseudo-terminal (script(1); -e passes its exit status on).
  Ran OnTerminal(const std::string& args) {
    return Shell("TERM=xterm script -qec \"" + Env() + CONVEYOR_CLI_BIN + " " + args +
                 "\" /dev/null </dev/null");
  }

  std::unique_ptr<testing::ChildProcess> producer_, worker_;
};

TEST_F(CommandLine, SubmitThenWatchShowsProgressUntilSucceededAndGetAndListShowTheTask) {
  auto id = SubmitSleep(1, 4);
  ASSERT_GT(id, 0);

  // --plain on a terminal: lines, nothing redrawn.
  auto watched = OnTerminal("watch --plain " + std::to_string(id));
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
  auto r = OnTerminal("watch " + std::to_string(id));
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
  std::map<std::string, std::string> last_line;  // by the Id that starts it
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (auto space = line.find(' '); space != std::string::npos)
      last_line[line.substr(0, space)] = line;
  ASSERT_EQ(last_line.size(), 2u) << r.out;
  for (const auto& [id, line] : last_line)
    EXPECT_NE(line.find(" Succeeded "), std::string::npos) << "task " << id << ": " << line;

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
  EXPECT_EQ(unknown_type.out.rfind("conveyor: POST /api/v1/BatchTask: 400 Name: 'no-such-type' is "
                                   "not a registered task type; registered: ",
                                   0),
            0u)
      << unknown_type.out;
  EXPECT_EQ(std::count(unknown_type.out.begin(), unknown_type.out.end(), '\n'), 1);

  auto wrong_secret =
      Shell(Env() + "CONVEYOR_CLIENT_SECRET=wrong-secret-0000 " + CONVEYOR_CLI_BIN + " list");
  EXPECT_EQ(wrong_secret.status, 1);
  EXPECT_EQ(wrong_secret.out.rfind("conveyor: GET /api/v1/BatchTask: 401 ", 0), 0u)
      << wrong_secret.out;
  EXPECT_EQ(std::count(wrong_secret.out.begin(), wrong_secret.out.end(), '\n'), 1);

  auto usage = Cli("watch");
  EXPECT_EQ(usage.status, 2) << usage.out;
  EXPECT_EQ(usage.out.rfind("conveyor: ", 0), 0u) << usage.out;

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

TEST_F(CommandLine, TailPrintsNotificationsAndGivesUpAfterItsTimeout) {
  auto id = CreateTask(SeedRequest());  // Notification 1: the final event goes out
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker_->Log();

  auto tailed = Kafka("tail --from-beginning --count 1 --timeout 60");
  EXPECT_EQ(tailed.status, 0) << tailed.out;
  EXPECT_TRUE(std::regex_search(
      tailed.out,
      std::regex("^[0-9T:.-]+Z  conveyor\\.run\\.succeeded  task " + id + "  succeeded  ")))
      << tailed.out;

  // The topic holds one event: five are never reached. (The count read before the deadline
  // depends on how soon the consumer joined, so it is not asserted.)
  auto waiting = Kafka("tail --from-beginning --count 5 --timeout 3");
  EXPECT_EQ(waiting.status, 1) << waiting.out;
  EXPECT_TRUE(std::regex_search(waiting.out, std::regex("conveyor: [01] of 5 events after 3 s")))
      << waiting.out;

  auto missing_topic = Shell("CONVEYOR_KAFKA_BROKERS=" + testing::KafkaBrokers() + " " +
                             CONVEYOR_CLI_BIN + " tail --notifications-topic no.such.topic.e2e");
  EXPECT_EQ(missing_topic.status, 1) << missing_topic.out;
  EXPECT_NE(missing_topic.out.find("no.such.topic.e2e does not exist"), std::string::npos)
      << missing_topic.out;
}

// The dead-letter topic through the CLI: a create held back from the workers (published by a
// producer on a topic no worker reads) is put in the DLQ as a worker would have; `dlq list`
// shows it beside a poison message the worker dead-lettered, and `dlq replay` sends it to the
// commands topic, where the worker applies and runs it.
class CommandLineDlq : public CommandLine {
 protected:
  void SetUp() override {
    testing::E2eTest::SetUp();
    producer_ = StartProducerHoldingCommands();
    worker_ = StartWorker("e2e-cli-dlq");
  }
};

TEST_F(CommandLineDlq, ListShowsWhyAndReplayPutsACommandBackWhereItCameFrom) {
  auto id = DeadLetterAHeldCreate("held back by the test").first;
  ASSERT_FALSE(id.empty());
  KafkaSettings s;
  s.brokers = testing::KafkaBrokers();
  auto raw = KafkaProducer::Create(s, "e2e-cli-dlq", 10s);
  ASSERT_TRUE(raw.has_value());
  ASSERT_TRUE((*raw)->Publish({commands_, "poison", "not json {", {}}).has_value());
  ASSERT_TRUE(testing::PollUntil([&] { return testing::MessageCount(dlq_) >= 2; }, 60s))
      << worker_->Log();

  auto listed = Kafka("dlq list");
  EXPECT_EQ(listed.status, 0) << listed.out;
  EXPECT_NE(listed.out.find("0:0  conveyor.task.create  " + id + "  from " + commands_ + "[0]@0"),
            std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find("held back by the test"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("0:1  (not an event)"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("the message is not a JSON document"), std::string::npos) << listed.out;
  auto listed_json = Kafka("dlq list --json");
  EXPECT_EQ(listed_json.status, 0) << listed_json.out;
  auto as_json = json::parse(listed_json.out, nullptr, false);
  ASSERT_TRUE(as_json.is_array()) << listed_json.out;
  EXPECT_EQ(as_json.size(), 2u);

  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE id = '" + id + "'"), 0)
      << "held back: no worker saw the create yet";
  // All or nothing: one message not found, none published.
  auto half = Kafka("dlq replay 0:0 0:99");
  EXPECT_EQ(half.status, 1);
  EXPECT_EQ(half.out, "conveyor: no message at " + dlq_ + "[0]@99\n");

  auto replayed = Kafka("dlq replay 0:0");
  EXPECT_EQ(replayed.status, 0) << replayed.out;
  EXPECT_EQ(replayed.out.rfind("replayed " + dlq_ + "[0]@0 to " + commands_ + "[", 0), 0u)
      << replayed.out;
  EXPECT_TRUE(CountBecomes(
      "SELECT count(*) FROM runs WHERE state = 'succeeded' AND task_id = '" + id + "'", 1))
      << worker_->Log();

  auto missing = Kafka("dlq replay 0:99");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("no message at " + dlq_ + "[0]@99"), std::string::npos) << missing.out;
  auto bad = Kafka("dlq replay first");
  EXPECT_EQ(bad.status, 2) << "a command line it cannot parse";
  EXPECT_NE(bad.out.find("is not OFFSET or PARTITION:OFFSET"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace conveyor

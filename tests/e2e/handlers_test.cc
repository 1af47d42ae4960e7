// End to end (label: e2e) for the handlers a worker's configuration file offers: a worker
// started with --config, task types registered through the API naming its handlers, tasks
// submitted, watched and stopped, with real processes, broker and PostgreSQL.
#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class Handlers : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    char dir[] = "/tmp/conveyor-e2e-handlers-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a configuration file offering `handlers` and returns the --config flag.
  std::string ConfigFlag(const json& handlers) {
    std::string path = dir_ + "/worker-config.json";
    std::ofstream(path) << json{{"handlers", handlers}}.dump(2);
    return "--config=" + path;
  }

  // Registers a task type running `handler`; returns its ID (the TaskID of its tasks).
  std::string RegisterType(const std::string& name, const std::string& handler) {
    auto r = Http(AdminAuth())
                 .Post("/api/v1/admin/tasktypes", json{{"Name", name}, {"Handler", handler}}.dump(),
                       "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r || r->status != 200) return "";
    return json::parse(r->body)["ResponseData"]["Detail"]["ID"].get<std::string>();
  }

  std::string CreateOfType(const std::string& type, const json& parameters, int notification) {
    return CreateTask({{"TaskID", type},
                       {"Frequency", 0},
                       {"Parameters", parameters.dump()},
                       {"ContentType", "application/json"},
                       {"Notification", notification}});
  }

  std::string RunField(const std::string& task_id, const std::string& column) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT " + column + "::text FROM runs WHERE task_id = $1", task_id);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }

  long long TaskNumber(const std::string& task_id) {
    long long number = -1;
    testing::PollUntil(
        [&] {
          pqxx::connection conn(db_.url());
          pqxx::read_transaction tx(conn);
          auto r = tx.exec_params("SELECT number FROM tasks WHERE id = $1", task_id);
          if (!r.empty()) number = r[0][0].as<long long>();
          return !r.empty();
        },
        60s);
    return number;
  }

  json SuperOffice(const std::string& path, const json& body) {
    auto c = Http();
    auto r = c.Post(path, body.dump(), "application/json");
    if (!r || r->status != 200) return json("HTTP error");
    return json::parse(r->body, nullptr, false);
  }

  // The pid a program wrote to <dir_>/<name>; -1 when it did not within 60 s.
  pid_t PidFrom(const std::string& name) {
    pid_t pid = -1;
    testing::PollUntil(
        [&] {
          std::ifstream in(dir_ + "/" + name);
          return static_cast<bool>(in >> pid);
        },
        60s);
    return pid;
  }

  static bool Gone(pid_t pid) { return kill(pid, 0) == -1 && errno == ESRCH; }

  std::string dir_;
};

TEST_F(Handlers, StopBatchJobCancelsTheRunningExecTaskAndNoProcessIsLeftBehind) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker(
      "e2e-exec",
      {ConfigFlag({{"waiter",
                    {{"kind", "exec"},
                     {"command",
                      {"/bin/bash", std::string(CONVEYOR_SOURCE_DIR) +
                                        "/tests/integration/worker/programs/child-and-wait.sh"}},
                     {"environment", {{"PID_DIR", dir_}}},
                     {"grace_ms", 5000}}}})});
  auto type = RegisterType("wait for a child", "waiter");
  ASSERT_FALSE(type.empty());
  auto id = CreateOfType(type, json::object(), /*FAILURE=*/2);
  ASSERT_FALSE(id.empty());
  long long number = TaskNumber(id);
  ASSERT_GT(number, 0);

  // Its progress is visible from the API while it runs.
  json info;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        info = SuperOffice("/api/v1/Agents/Batch/GetBatchTaskInfo", json{{"Id", number}});
        return info.is_object() && info["State"] == "Started" && info["ProgressPercent"] == 10;
      },
      60s))
      << info.dump() << worker->Log();
  EXPECT_EQ(info["ProgressDescription"], "waiting for the child");
  pid_t leader = PidFrom("leader"), child = PidFrom("child");
  ASSERT_GT(leader, 0);
  ASSERT_GT(child, 0);
  ASSERT_FALSE(Gone(leader));
  ASSERT_FALSE(Gone(child));

  EXPECT_EQ(SuperOffice("/api/v1/Agents/Batch/StopBatchJob", json{{"Id", number}}), true);
  ASSERT_EQ(WaitForStatus(id, "Cancelled"), "Cancelled") << worker->Log();
  EXPECT_EQ(RunField(id, "state"), "cancelled");
  EXPECT_EQ(RunField(id, "result"),
            "cancelled: waiter: stopped (stop requested): SIGTERM sent, killed by SIGTERM");
  EXPECT_TRUE(testing::PollUntil([&] { return Gone(leader) && Gone(child); }, 10s))
      << "leader " << leader << " child " << child;
  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(notes[0].value)->type, "conveyor.run.cancelled");
}

TEST_F(Handlers, ExampleExecProgramSucceedsWithItsResultAndStderrAsTheRunLog) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker(
      "e2e-primes", {ConfigFlag({{"count-primes",
                                  {{"kind", "exec"},
                                   {"command",
                                    {"/usr/bin/python3", std::string(CONVEYOR_SOURCE_DIR) +
                                                             "/examples/handlers/count-primes.py"}},
                                   {"concurrency", 1}}}})});
  auto type = RegisterType("count primes", "count-primes");
  ASSERT_FALSE(type.empty());
  auto id = CreateOfType(type, {{"limit", 100000}}, 1);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();
  EXPECT_EQ(RunField(id, "result"), "9592 primes below 100000");
  EXPECT_EQ(RunField(id, "progress_percent"), "100");
  EXPECT_NE(RunField(id, "log").find("counting primes below 100000"), std::string::npos);

  // The log through the API (GET {id}/runs/{runId}/log), as the web console shows it.
  auto runs = Http(ClientAuth()).Get("/api/v2/admin/tasks/account/" + id + "/runs");
  ASSERT_TRUE(runs && runs->status == 200) << (runs ? runs->body : "no answer");
  auto run_id = json::parse(runs->body)["ResponseData"]["Detail"][0]["RunID"].get<std::string>();
  auto log =
      Http(ClientAuth()).Get("/api/v2/admin/tasks/account/" + id + "/runs/" + run_id + "/log");
  ASSERT_TRUE(log && log->status == 200) << (log ? log->body : "no answer");
  auto detail = json::parse(log->body)["ResponseData"]["Detail"];
  EXPECT_EQ(detail["Tail"], RunField(id, "log"));
  EXPECT_EQ(detail["Bytes"], RunField(id, "log").size());
}

TEST_F(Handlers, TaskWhoseHandlerTheWorkerDoesNotOfferFailsSayingSo) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-missing");
  auto type = RegisterType("not here", "not-offered");
  ASSERT_FALSE(type.empty());
  auto id = CreateOfType(type, json::object(), 2);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Failed"), "Failed") << worker->Log();
  EXPECT_EQ(RunField(id, "result"), "no handler 'not-offered' on worker e2e-missing");
  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(notes[0].value)->type, "conveyor.run.failed");
}

TEST_F(Handlers, BadConfigurationFileStopsTheWorkerWithStatusTwoNamingFileAndField) {
  std::string flag = ConfigFlag({{"resize", {{"kind", "exec"}, {"command", {"python3"}}}}});
  auto worker = StartWorker("e2e-badconfig", {flag});
  int status = worker->Stop(0, 30s);  // no signal: waits for it to exit by itself
  ASSERT_TRUE(WIFEXITED(status)) << worker->Log();
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(worker->Log().find(dir_ + "/worker-config.json: at /handlers/resize/command/0: the "
                                      "program must be an absolute path"),
            std::string::npos)
      << worker->Log();
}

}  // namespace
}  // namespace conveyor

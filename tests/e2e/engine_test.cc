// End to end (label: e2e) for the execution engine: long tasks, backpressure, a worker killed
// mid-run, progress and draining, with real processes, broker and PostgreSQL.
#include <signal.h>
#include <sys/wait.h>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kSleepType[] = "00000000-0000-0000-0000-000000000002";

class Engine : public testing::E2eTest {
 protected:
  // A task of the built-in sleep type.
  std::string CreateSleep(double seconds, int steps, int notification = 1) {
    json body = {{"TaskID", kSleepType},
                 {"Frequency", 0},
                 {"Parameters", json{{"seconds", seconds}, {"steps", steps}}.dump()},
                 {"ContentType", "application/json"},
                 {"Notification", notification}};
    return CreateTask(body);
  }

  std::string RunField(const std::string& task_id, const std::string& column) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT " + column + "::text FROM runs WHERE task_id = $1", task_id);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }

  std::string TaskNumber(const std::string& task_id) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT number::text FROM tasks WHERE id = $1", task_id);
    return r.empty() ? "" : r[0][0].c_str();
  }

  json SuperOffice(const std::string& path, const json& body) {
    auto c = Http();
    auto r = c.Post(path, body.dump(), "application/json");
    if (!r || r->status != 200) return json("HTTP error");
    return json::parse(r->body, nullptr, false);
  }

  // Group timings short enough for a test: a dead member is noticed within seconds.
  static std::vector<std::string> QuickGroup() {
    return {"--kafka-property=session.timeout.ms=6000",
            "--kafka-property=heartbeat.interval.ms=1000"};
  }
};

TEST_F(Engine, TaskLongerThanMaxPollIntervalCausesNoRebalanceAndRunsOnce) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto flags = QuickGroup();
  flags.push_back("--kafka-property=max.poll.interval.ms=7000");
  auto worker = StartWorker("e2e-long", flags);
  auto id = CreateSleep(12, 4);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();
  EXPECT_EQ(RunField(id, "start_count"), "1");
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 1);
  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
  EXPECT_EQ(notes.size(), 1u);
  // One assignment, never taken away, and librdkafka never said the poll interval passed.
  auto log = worker->Log();
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("assigned"), 1u) << log;
  EXPECT_EQ(count("revoked"), 0u) << log;
  EXPECT_EQ(count("lost"), 0u) << log;
  EXPECT_EQ(count("maximum poll interval"), 0u) << log;
}

TEST_F(Engine, PoolOfOneWithManyQueuedEventsPausesResumesAndRunsEachOnce) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-pool", {"--concurrency=1", "--max-held=2"});
  constexpr int kTasks = 20;
  for (int i = 0; i < kTasks; ++i) ASSERT_FALSE(CreateSleep(0.05, 1, 0).empty());
  ASSERT_TRUE(testing::PollUntil(
      [&] { return Count("SELECT count(*) FROM runs WHERE state = 'succeeded'") == kTasks; }, 90s))
      << worker->Log();
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), kTasks);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE start_count = 1"), kTasks);
  auto log = worker->Log();
  EXPECT_NE(log.find("paused"), std::string::npos) << log;
  EXPECT_NE(log.find("resumed"), std::string::npos) << log;
}

TEST_F(Engine, WorkerKilledMidRunIsReplacedAndTheRunFinishesOnceWithStartCountTwo) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto flags = QuickGroup();
  flags.push_back("--heartbeat-ms=500");
  flags.push_back("--stale-after-ms=3000");
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> workers;
  workers["e2e-a"] = StartWorker("e2e-a", flags);
  workers["e2e-b"] = StartWorker("e2e-b", flags);
  auto id = CreateSleep(8, 8);
  ASSERT_FALSE(id.empty());
  std::string owner;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        owner = RunField(id, "CASE WHEN state = 'started' THEN worker END");
        return !owner.empty();
      },
      60s));
  ASSERT_TRUE(workers.contains(owner)) << owner;
  workers[owner]->Stop(SIGKILL);
  std::string survivor = owner == "e2e-a" ? "e2e-b" : "e2e-a";

  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << workers[survivor]->Log();
  EXPECT_EQ(RunField(id, "start_count"), "2");
  EXPECT_EQ(RunField(id, "worker"), survivor);
  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return all.size() > 1; }, 5s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(notes[0].value)->data["start_count"], 2);
}

TEST_F(Engine, ProgressOfARunningSleepTaskIsVisibleFromTheApiBeforeItEnds) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-progress");
  auto id = CreateSleep(4, 8, 0);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return !TaskNumber(id).empty(); }, 60s));
  json info;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        info = SuperOffice("/api/v1/Agents/Batch/GetBatchTaskInfo",
                           json{{"Id", std::stoll(TaskNumber(id))}});
        return info.is_object() && info["State"] == "Started" && info["ProgressPercent"] > 0 &&
               info["ProgressPercent"] < 100;
      },
      60s))
      << info.dump() << worker->Log();
  EXPECT_NE(info["ProgressDescription"].get<std::string>().find(" of 8"), std::string::npos)
      << info.dump();
  EXPECT_EQ(info["StartCount"], 1);
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
  info = SuperOffice("/api/v1/Agents/Batch/GetBatchTaskInfo",
                     json{{"Id", std::stoll(TaskNumber(id))}});
  EXPECT_EQ(info["State"], "Succeeded");
  EXPECT_EQ(info["ProgressPercent"], 100);
}

TEST_F(Engine, StopBatchJobCancelsTheRunningTaskAndTheRunEndsCancelledNotified) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-stop");
  auto id = CreateSleep(60, 60, /*FAILURE=*/2);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return RunField(id, "state") == "started"; }, 60s));
  auto stopped =
      SuperOffice("/api/v1/Agents/Batch/StopBatchJob", json{{"Id", std::stoll(TaskNumber(id))}});
  EXPECT_EQ(stopped, true);
  ASSERT_EQ(WaitForStatus(id, "Cancelled"), "Cancelled") << worker->Log();
  EXPECT_EQ(RunField(id, "state"), "cancelled");
  auto info = SuperOffice("/api/v1/Agents/Batch/GetBatchTaskInfo",
                          json{{"Id", std::stoll(TaskNumber(id))}});
  EXPECT_EQ(info["State"], "Failed");
  EXPECT_NE(info["Result"].get<std::string>().find("cancelled"), std::string::npos);
  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(notes[0].value)->type, "conveyor.run.cancelled");
  // A finished task has nothing left to stop.
  EXPECT_EQ(
      SuperOffice("/api/v1/Agents/Batch/StopBatchJob", json{{"Id", std::stoll(TaskNumber(id))}}),
      false);
}

TEST_F(Engine, StopBatchJobOfACannotCancelTypeIsRefusedAndUnknownIdIsNull) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-cannot");
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(
        "INSERT INTO task_types (id, name, handler, cancellation) VALUES "
        "('6b1f3c2e-0000-4000-8000-000000000001', 'uninterruptible', 'sleep', 'CannotCancel')");
    tx.commit();
  }
  json body = {{"TaskID", "6b1f3c2e-0000-4000-8000-000000000001"},
               {"Frequency", 0},
               {"Parameters", R"({"seconds": 2, "steps": 2})"},
               {"ContentType", "application/json"}};
  auto id = CreateTask(body);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return !TaskNumber(id).empty(); }, 60s));
  auto c = Http();
  auto r = c.Post("/api/v1/Agents/Batch/StopBatchJob",
                  json{{"Id", std::stoll(TaskNumber(id))}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto err = json::parse(r->body);
  EXPECT_NE(err["Error"].get<std::string>().find("CannotCancel"), std::string::npos) << r->body;
  EXPECT_EQ(SuperOffice("/api/v1/Agents/Batch/GetBatchTaskInfo", json{{"Id", 999999999}}), nullptr);
  auto bad = c.Post("/api/v1/Agents/Batch/GetBatchTaskInfo", R"({"Id": "x"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["Field"], "Id");
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
}

TEST_F(Engine, SigtermLetsTheRunningRunFinishThenExitsZero) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-drain");
  auto id = CreateSleep(2, 2, 0);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return RunField(id, "state") == "started"; }, 60s));
  int status = worker->Stop(SIGTERM, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << worker->Log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << worker->Log();
  EXPECT_EQ(RunField(id, "state"), "succeeded");
}

TEST_F(Engine, SigtermAfterTheGraceCancelsAndReleasesTheRunForTheNextWorker) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto first = StartWorker("e2e-first", {"--shutdown-grace-ms=300"});
  auto id = CreateSleep(30, 30, 0);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return RunField(id, "state") == "started"; }, 60s));
  int status = first->Stop(SIGTERM, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << first->Log();
  EXPECT_EQ(WEXITSTATUS(status), 3) << first->Log();
  EXPECT_EQ(RunField(id, "state"), "started");
  EXPECT_EQ(RunField(id, "heartbeat_at"), "");  // released: no owner to wait for

  auto second = StartWorker("e2e-second", {"--shutdown-grace-ms=300"});
  ASSERT_TRUE(testing::PollUntil([&] { return RunField(id, "worker") == "e2e-second"; }, 60s))
      << second->Log();
  EXPECT_EQ(RunField(id, "start_count"), "2");
}

}  // namespace
}  // namespace conveyor

namespace conveyor {
namespace {

class TaskTypes : public testing::E2eTest {
 protected:
  httplib::Result Register(const json& body) {
    return Http(AdminAuth()).Post("/api/v1/admin/tasktypes", body.dump(), "application/json");
  }
};

TEST_F(TaskTypes, RegisteredTypeTimesOutIsRetriedAndEndsFailedAfterItsLastAttemptNotified) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-types");
  auto r = Register({{"Name", "short nap"},
                     {"Handler", "sleep"},
                     {"TimeoutSeconds", 1},
                     {"MaxAttempts", 2},
                     {"RetryBackoffMs", 100}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto type = json::parse(r->body)["ResponseData"]["Detail"];
  EXPECT_EQ(type["MaxAttempts"], 2);
  EXPECT_EQ(type["BuiltIn"], false);

  auto id = CreateTask({{"TaskID", type["ID"]},
                        {"Frequency", 0},
                        {"Parameters", R"({"seconds": 30})"},
                        {"ContentType", "application/json"},
                        {"Notification", "FAILURE"}});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Failed"), "Failed") << worker->Log();
  auto detail = GetTask(id)["ResponseData"]["Detail"];
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE attempt = 2 AND start_count = 2 AND result = "
                  "'failed after 2 attempts: timed out after 1 s'"),
            1)
      << worker->Log();
  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return all.size() > 1; }, 5s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(notes[0].value)->type, "conveyor.run.failed");
}

TEST_F(TaskTypes, BadOrDuplicateRegistrationIsRefusedNamingTheField) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto bad = Register({{"Name", "x"}, {"Handler", "Not A Handler!"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json::parse(bad->body)["Error"]["ErrorReason"].get<std::string>().find("Handler"),
            std::string::npos)
      << bad->body;
  ASSERT_EQ(Register({{"Name", "twice"}, {"Handler", "noop"}})->status, 200);
  auto again = Register({{"Name", "twice"}, {"Handler", "noop"}});
  ASSERT_TRUE(again);
  EXPECT_NE(again->status, 200);
  EXPECT_NE(json::parse(again->body)["Error"]["ErrorReason"].get<std::string>().find("twice"),
            std::string::npos)
      << again->body;
  auto c = Http();
  auto list = c.Get("/api/v1/admin/tasktypes");
  ASSERT_TRUE(list);
  auto listed = json::parse(list->body);
  auto names = json::array();
  for (const auto& t : listed["ResponseData"]["Detail"]) names.push_back(t["Name"]);
  EXPECT_EQ(names, json({"noop", "sleep", "twice"}));
}

}  // namespace
}  // namespace conveyor

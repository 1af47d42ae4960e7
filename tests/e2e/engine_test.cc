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

TEST_F(Engine, ProgressOfARunningSleepTaskIsRecordedBeforeItEnds) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-progress");
  auto id = CreateSleep(4, 8, 0);
  ASSERT_FALSE(id.empty());
  std::string seen;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        seen = RunField(id,
                        "CASE WHEN state = 'started' AND progress_percent BETWEEN 1 AND 99 "
                        "THEN progress_percent || ' ' || progress_description END");
        return !seen.empty();
      },
      60s))
      << worker->Log();
  EXPECT_NE(seen.find(" of 8"), std::string::npos) << seen;
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
  EXPECT_EQ(RunField(id, "progress_percent"), "100");
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

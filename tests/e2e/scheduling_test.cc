// End to end (label: e2e) for scheduled and recurring tasks (docs/scheduling.md): TwoSms tasks
// with a StartDate a few seconds ahead, a recurrence of a few seconds and a FinishDate run
// exactly their due times, none early and none late by more than the bounds below, with one
// notification each; the same with a worker killed with SIGKILL in the middle; Enabled false
// stops further runs; bad schedules are refused naming the field.
#include "conveyor/time_format.h"
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kAccountTasks[] = "/api/v2/admin/tasks/account";
// A run starts at most this long after its due time on an idle local stack (a scheduler pass
// waits up to its idle poll of 1 s; then Kafka, the worker's poll and the start).
constexpr auto kLateBound = 2500ms;
// The interval of the recurring task whose every due time must run: longer than kLateBound, so
// that a run within the bound has ended before the next due time and the SKIP overlap policy
// cannot apply (a noop run ends within milliseconds of its start).
constexpr auto kInterval = 3s;

class Scheduling : public testing::E2eTest {
 protected:
  static std::vector<std::string> QuickGroup() {
    return {"--kafka-property=session.timeout.ms=6000",
            "--kafka-property=heartbeat.interval.ms=1000", "--heartbeat-ms=500",
            "--stale-after-ms=3000"};
  }

  // The next whole second at least `ahead` from now.
  static Timestamp WholeSecondAhead(std::chrono::seconds ahead) {
    auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() + ahead);
    return Timestamp(
        std::chrono::duration_cast<std::chrono::microseconds>((t + 1s).time_since_epoch()));
  }

  json Recurring(Timestamp start, Timestamp finish, const std::string& rule) {
    auto body = SeedRequest();
    body["StartDate"] = FormatRfc3339(start);
    body["FinishDate"] = FormatRfc3339(finish);
    body["Recurrence"] = rule;
    body["Notification"] = "SUCCESS";
    return body;
  }

  struct RunRow {
    Timestamp due, started;
    std::string state;
  };
  std::vector<RunRow> Runs(const std::string& task_id) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    std::vector<RunRow> out;
    for (const auto& r :
         tx.exec_params("SELECT (extract(epoch from due_at) * 1e6)::bigint, "
                        "(extract(epoch from started_at) * 1e6)::bigint, state FROM runs "
                        "WHERE task_id = $1 ORDER BY due_at",
                        task_id)) {
      RunRow row;
      row.due = Timestamp(std::chrono::microseconds(r[0].as<long long>(0)));
      row.started = Timestamp(std::chrono::microseconds(r[1].as<long long>(0)));
      row.state = r[2].c_str();
      out.push_back(row);
    }
    return out;
  }

  // Waits until the schedule has no next due time, each of its `due_times` has a finished run
  // and no run is unfinished.
  // (The schedule is done once the last fire command is out, before that command's run
  // exists: without the count, a loaded machine could see the last run started afterwards.)
  void WaitUntilTheScheduleIsDone(const std::string& id, int due_times) {
    EXPECT_TRUE(testing::PollUntil(
        [&] {
          return Count("SELECT count(*) FROM schedules WHERE task_id = '" + id +
                       "' AND next_due_at IS NULL") == 1 &&
                 Count("SELECT count(*) FROM runs WHERE task_id = '" + id +
                       "' AND finished_at IS NOT NULL") >= due_times &&
                 Count("SELECT count(*) FROM runs WHERE task_id = '" + id +
                       "' AND finished_at IS NULL") == 0;
        },
        60s, 100ms));
  }

  // Each due time once, in order, none early, none later than `late`. With `skips_allowed`, a
  // due time that came while the previous run was not final yet may be a skipped run (the
  // SKIP overlap policy: after a SIGKILL the killed worker's run stays live until the
  // partition's next owner has run it again).
  void ExpectExactlyTheDueTimes(const std::string& id, Timestamp start, std::chrono::seconds every,
                                int count, std::chrono::milliseconds late,
                                bool skips_allowed = false) {
    auto runs = Runs(id);
    ASSERT_EQ(runs.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      SCOPED_TRACE("run " + std::to_string(i));
      EXPECT_EQ(runs[i].due, start + every * i);
      if (skips_allowed && runs[i].state == "skipped") {
        EXPECT_GT(i, 0);
        continue;
      }
      EXPECT_EQ(runs[i].state, "succeeded");
      EXPECT_GE(runs[i].started, runs[i].due) << "started early";
      EXPECT_LE(runs[i].started - runs[i].due, late) << "started late";
    }
  }

  std::size_t SucceededNotificationsOf(const std::string& id, std::size_t expected) {
    testing::TopicReader reader(notifications_);
    auto notes = reader.ReadUntil(
        [&](const auto& all) {
          std::size_t n = 0;
          for (const auto& m : all) n += m.key == id;
          return n >= expected;
        },
        20s);
    std::size_t n = 0;
    for (const auto& m : notes) n += m.key == id;
    return n;
  }
};

TEST_F(Scheduling, RecurringTaskRunsEachDueTimeBetweenStartAndFinishOnceAndNotifiesEach) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto a = StartWorker("e2e-sched-a");
  auto b = StartWorker("e2e-sched-b");
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheWorkersConsume());
  auto start = WholeSecondAhead(3s);
  auto id = CreateTask(Recurring(start, start + 4 * kInterval,
                                 "FREQ=SECONDLY;INTERVAL=" + std::to_string(kInterval.count())));
  ASSERT_FALSE(id.empty());
  auto before = GetTask(id)["ResponseData"]["Detail"];
  EXPECT_EQ(before["Status"], "Scheduled") << before.dump();
  EXPECT_EQ(before["NextRunOn"], FormatDotNet(start)) << before.dump();
  WaitUntilTheScheduleIsDone(id, 5);
  ExpectExactlyTheDueTimes(id, start, kInterval, 5, kLateBound);
  EXPECT_EQ(SucceededNotificationsOf(id, 5), 5u);
  auto runs = Http().Get((std::string(kAccountTasks) + "/" + id + "/runs").c_str());
  ASSERT_TRUE(runs);
  EXPECT_EQ(json::parse(runs->body)["ResponseData"]["Detail"].size(), 5u) << runs->body;
}

TEST_F(Scheduling, WorkerKilledWithSigkillInTheMiddleStillLeavesExactlyOneRunPerDueTime) {
  auto producer = StartProducer(testing::KafkaBrokers());
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> workers;
  workers["e2e-sk-a"] = StartWorker("e2e-sk-a", QuickGroup());
  workers["e2e-sk-b"] = StartWorker("e2e-sk-b", QuickGroup());
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheWorkersConsume());
  auto start = WholeSecondAhead(4s);
  auto id = CreateTask(Recurring(start, start + 16s, "FREQ=SECONDLY;INTERVAL=2"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return Runs(id).size() >= 2; }, 30s));
  workers["e2e-sk-a"]->Stop(SIGKILL);
  WaitUntilTheScheduleIsDone(id, 9);
  // A due time whose fire command was on the killed worker's partition waits for the group to
  // move it (session timeout 6 s), so the bound here is looser.
  ExpectExactlyTheDueTimes(id, start, 2s, 9, 12s, /*skips_allowed=*/true);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE type = 'conveyor.task.fire'"), 9);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'succeeded' AND task_id = '" + id +
                  "' AND due_at >= '" + FormatRfc3339(start + 14s) + "'"),
            2)
      << "the due times after the group moved the partition ran";
}

TEST_F(Scheduling, EnabledFalseStopsFurtherRunsAndTrueResumesWithoutReplayingMissedOnes) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-sched-pause");
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheWorkersConsume());
  auto start = WholeSecondAhead(2s);
  auto body = Recurring(start, start + 600s, "FREQ=SECONDLY");
  auto id = CreateTask(body);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::PollUntil([&] { return Runs(id).size() >= 2; }, 30s));
  body["Enabled"] = false;
  auto path = std::string(kAccountTasks) + "/" + id;
  auto put = Http().Put(path.c_str(), body.dump(), "application/json");
  ASSERT_TRUE(put && put->status == 200) << (put ? put->body : "no answer");
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        return Count("SELECT count(*) FROM schedules WHERE task_id = '" + id +
                     "' AND next_due_at IS NULL") == 1;
      },
      30s));
  auto paused = Runs(id).size();
  // A marker due three seconds later: once it ran, three due times of the paused task passed.
  auto marker = SeedRequest();
  marker["StartDate"] = FormatRfc3339(WholeSecondAhead(3s));
  auto marker_id = CreateTask(marker);
  ASSERT_EQ(WaitForStatus(marker_id, "Succeeded"), "Succeeded");
  EXPECT_EQ(Runs(id).size(), paused) << "a paused task ran";
  EXPECT_TRUE(GetTask(id)["ResponseData"]["Detail"]["NextRunOn"].is_null());
  body["Enabled"] = true;
  put = Http().Put(path.c_str(), body.dump(), "application/json");
  ASSERT_TRUE(put && put->status == 200);
  ASSERT_TRUE(testing::PollUntil([&] { return Runs(id).size() >= paused + 1; }, 30s));
  // Resumed from now: the due times missed while paused were not fired.
  auto runs = Runs(id);
  EXPECT_GE(runs[paused].due - runs[paused - 1].due, 3s);
}

TEST_F(Scheduling, FutureStartDateWaitsForItsTimeThenRunsOnce) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-sched-once");
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheWorkersConsume());
  auto start = WholeSecondAhead(2s);
  auto body = SeedRequest();
  body["StartDate"] = FormatRfc3339(start);
  auto id = CreateTask(body);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(GetTask(id)["ResponseData"]["Detail"]["Status"], "Scheduled");
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
  auto runs = Runs(id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_GE(runs[0].started, start);
  EXPECT_LE(runs[0].started - start, kLateBound);
}

TEST_F(Scheduling, RunNowStartsOneRunAtOnceAndLeavesTheScheduleAsItWas) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-sched-now");
  auto tomorrow = WholeSecondAhead(24h);
  auto body = SeedRequest();
  body["StartDate"] = FormatRfc3339(tomorrow);
  body["FinishDate"] = nullptr;
  body["Frequency"] = "DAILY";
  auto id = CreateTask(body);
  ASSERT_FALSE(id.empty());
  auto path = std::string(kAccountTasks) + "/" + id;
  auto run = Http().Post((path + "/run").c_str(), "", "application/json");
  ASSERT_TRUE(run && run->status == 200) << (run ? run->body : "no answer");
  auto run_id = json::parse(run->body)["ResponseData"]["Detail"]["RunID"].get<std::string>();
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
  auto detail = GetTask(id)["ResponseData"]["Detail"];
  EXPECT_EQ(detail["NextRunOn"], FormatDotNet(tomorrow)) << detail.dump();
  auto runs = json::parse(Http().Get((path + "/runs").c_str())->body)["ResponseData"]["Detail"];
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["RunID"], run_id);
}

TEST_F(Scheduling, BadSchedulesAreRefusedNamingTheFieldAndNothingIsCreated) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto start = WholeSecondAhead(60s);
  struct Case {
    std::string field;
    json value;
    std::string says;
  };
  std::vector<Case> cases = {
      {"Frequency", 9, "Frequency: is not a Frequency"},
      {"Recurrence", "FREQ=SOMETIMES", "Recurrence:"},
      {"TimeZone", "Mars/Olympus_Mons", "TimeZone:"},
      {"CatchUpLimit", 500, "CatchUpLimit: must be a whole number from 1 to 100"},
      {"Overlap", "QUEUE_ALL", "Overlap: is not an Overlap"},
  };
  for (const auto& c : cases) {
    auto body = Recurring(start, start + 3600s, "FREQ=HOURLY");
    body[c.field] = c.value;
    if (c.field == "Frequency") body.erase("Recurrence");
    auto r = Post(body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << c.field << ": " << r->body;
    EXPECT_NE(r->body.find(c.says), std::string::npos) << c.field << ": " << r->body;
  }
  auto none_in_window = Recurring(start, start + 3600s, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30");
  auto r = Post(none_in_window);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("Recurrence"), std::string::npos) << r->body;
  EXPECT_EQ(Count("SELECT count(*) FROM accepted_tasks"), 0);
}

}  // namespace
}  // namespace conveyor

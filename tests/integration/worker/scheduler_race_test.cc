// Exactly once by construction, on the real PostgreSQL (label: integration;
// docs/scheduling.md): several schedulers racing over the same due schedules, and a scheduler
// that published and then died before recording, still make one run per due time once a
// worker's store applied everything they published.
#include <gtest/gtest.h>

#include <thread>

#include "conveyor/cloud_event.h"
#include "conveyor/pg.h"
#include "conveyor/run_state.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "src/pg_schedule_store.h"
#include "src/pg_task_store.h"
#include "support/commands.h"
#include "support/fakes.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

class SchedulerRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }

  // Creates `n` tasks repeating every second from `start`, applied as a worker applies them.
  void CreateTasks(int n, Timestamp start) {
    std::vector<IncomingCommand> creates;
    for (int i = 0; i < n; ++i) {
      IncomingCommand c;
      c.task.id = Uuid::TimeOrdered();
      c.task.number = 7000 + i;
      c.task.task_type_id = NoopTaskTypeId();
      c.task.parameters = "{}";
      c.task.content_type = "application/json";
      c.task.schedule.recurrence = "FREQ=SECONDLY";
      c.task.start_date = start;
      c.task.created_at = start - 10s;
      auto create = testing::CreateCommandOf(c.task, Uuid::TimeOrdered());
      create.next_due_at = FirstDueTime(create.task, create.event.time);
      create.offset = i;
      creates.push_back(std::move(create));
    }
    auto applied = store_.ApplyBatch(creates);
    ASSERT_TRUE(applied.has_value()) << applied.error().Describe();
  }

  // Applies every fire command published, duplicates included, as workers would.
  void ApplyFires(const std::vector<OutgoingMessage>& messages) {
    std::vector<IncomingCommand> fires;
    for (const auto& m : messages) {
      auto e = CloudEvent::Parse(m.value);
      ASSERT_TRUE(e.has_value());
      IncomingCommand c;
      c.kind = CommandKind::kFire;
      c.fire = *FireFromEventData(e->data);
      c.task.id = c.fire.task_id;
      c.event = *e;
      c.topic = "commands";
      fires.push_back(std::move(c));
    }
    auto applied = store_.ApplyBatch(fires);
    ASSERT_TRUE(applied.has_value()) << applied.error().Describe();
  }

  long long Count(const std::string& sql) const { return db_.Count(sql); }

  testing::ScratchDatabase db_;
  PgPool pool_{db_.url(), 8};
  PgTaskStore store_{pool_};
};

TEST_F(SchedulerRaceTest, FourSchedulersRacingFireEachDueTimeOnceAndMakeOneRunEach) {
  const auto start = *ParseDateTime("2027-01-04T06:00:00Z");
  CreateTasks(200, start);
  FakeClock clock{start + 2500ms};  // three due times each: +0, +1 s, +2 s
  std::vector<std::unique_ptr<PgScheduleStore>> stores;
  std::vector<std::unique_ptr<testing::RecordingPublisher>> publishers;
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  for (int i = 0; i < 4; ++i) {
    stores.push_back(std::make_unique<PgScheduleStore>(pool_));
    publishers.push_back(std::make_unique<testing::RecordingPublisher>());
    SchedulerSettings s{"w" + std::to_string(i), "/test", "commands", 25, 1000ms};
    s.batch = 25;
    schedulers.push_back(std::make_unique<Scheduler>(s, *stores.back(), *publishers.back(), clock));
  }
  std::vector<std::thread> threads;
  for (auto& s : schedulers)
    threads.emplace_back([&s] {
      for (int pass = 0; pass < 20; ++pass) ASSERT_TRUE(s->Pass().has_value());
    });
  for (auto& t : threads) t.join();
  std::vector<OutgoingMessage> all;
  for (auto& p : publishers) all.insert(all.end(), p->sent.begin(), p->sent.end());
  // Catch-up ONE: each task fires its first missed due time once.
  EXPECT_EQ(all.size(), 200u);
  ApplyFires(all);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 200);
  EXPECT_EQ(Count("SELECT count(DISTINCT task_id) FROM runs"), 200);
  EXPECT_EQ(Count("SELECT count(*) FROM schedules WHERE next_due_at = '2027-01-04T06:00:03Z'"),
            200);
}

TEST_F(SchedulerRaceTest, SchedulerThatPublishedAndDiedBeforeRecordingLeavesOneRunPerDueTime) {
  const auto start = *ParseDateTime("2027-01-04T06:00:00Z");
  CreateTasks(20, start);
  FakeClock clock{start + 100ms};
  PgScheduleStore schedules(pool_);
  // The first scheduler gets 19 acknowledgements and not the 20th: it records nothing, as a
  // scheduler killed after publishing would.
  testing::RecordingPublisher dying;
  int published = 0;
  dying.refuse = [&](const OutgoingMessage&) { return ++published == 20; };
  Scheduler first({"w1", "/test", "commands", 500, 1000ms}, schedules, dying, clock);
  EXPECT_FALSE(first.Pass().has_value());
  EXPECT_EQ(dying.sent.size(), 19u);
  EXPECT_EQ(Count("SELECT count(*) FROM schedules WHERE last_due_at IS NOT NULL"), 0);
  testing::RecordingPublisher next;
  Scheduler second({"w2", "/test", "commands", 500, 1000ms}, schedules, next, clock);
  ASSERT_EQ(*second.Pass(), 20u);
  auto all = dying.sent;
  all.insert(all.end(), next.sent.begin(), next.sent.end());
  ApplyFires(all);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 20);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE type = 'conveyor.task.fire'"), 20);
}

// A claim advances the tasks' next due time, which the API shows (NextRunOn): with a state
// topic, the claim writes each advanced task's state, holding the new due time.
TEST_F(SchedulerRaceTest, AClaimWritesTheStateOfEachTaskItAdvancedWithItsNextDueTime) {
  const auto start = *ParseDateTime("2027-01-04T06:00:00Z");
  CreateTasks(3, start);
  FakeClock clock{start + 100ms};
  PgScheduleStore schedules(pool_, TaskStateSettings{"tasks", "/conveyor/worker/w1", ""});
  testing::RecordingPublisher publisher;
  Scheduler scheduler({"w1", "/test", "commands", 500, 1000ms}, schedules, publisher, clock);
  ASSERT_EQ(*scheduler.Pass(), 3u);
  pqxx::connection conn(db_.url());
  pqxx::read_transaction tx(conn);
  auto rows = tx.exec("SELECT key, payload FROM outbox WHERE topic = 'tasks' ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    auto data = nlohmann::json::parse(row[1].c_str())["data"];
    EXPECT_EQ(data["task"]["id"], row[0].c_str());
    EXPECT_EQ(data["next_run_at"], "2027-01-04T06:00:01.000000Z") << data;
  }
}

// --- overlap: a due time while the previous run still runs ---------------------------------

class OverlapTest : public SchedulerRaceTest {
 protected:
  // One task repeating every second, with `overlap`; returns its id.
  Uuid CreateOne(Overlap overlap) {
    CreateTasks(1, kStart);
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    auto id = tx.exec1("SELECT id FROM tasks")[0].c_str();
    tx.exec0("UPDATE tasks SET schedule = '{\"overlap\": \"" + std::string(OverlapName(overlap)) +
             "\"}'");
    tx.commit();
    return *Uuid::Parse(id);
  }
  IncomingCommand Fire(const Uuid& task, Timestamp due, bool run_now = false) {
    IncomingCommand c;
    c.kind = CommandKind::kFire;
    c.fire = {task, due, run_now, "scheduler:test"};
    c.task.id = task;
    c.event.id = run_now ? Uuid::TimeOrdered() : FireEventId(task, due);
    c.event.source = "/test";
    c.event.type = kTaskFireCommand;
    c.event.subject = task.ToString();
    c.event.time = due;
    c.event.data = FireToEventData(c.fire);
    c.topic = "commands";
    return c;
  }
  std::vector<std::optional<StartedRun>> Start(const Uuid& run, Timestamp now) {
    auto pending = store_.FindPendingRuns({run});
    EXPECT_TRUE(pending.has_value());
    auto started = store_.StartRuns(*pending, "w1", now, 15s);
    EXPECT_TRUE(started.has_value());
    return *started;
  }
  std::string StateOf(const Uuid& run) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT state FROM runs WHERE id = $1", run.ToString());
    return r.empty() ? "none" : r[0][0].c_str();
  }
  const Timestamp kStart = *ParseDateTime("2027-01-04T06:00:00Z");
};

TEST_F(OverlapTest, SkipRecordsADueTimeWhileTheRunStillRunsAsASkippedRun) {
  auto task = CreateOne(Overlap::kSkip);
  auto first = Fire(task, kStart), second = Fire(task, kStart + 1s);
  ASSERT_TRUE(store_.ApplyBatch({first}).has_value());
  ASSERT_EQ(Start(first.event.id, kStart).size(), 1u);
  ASSERT_TRUE(store_.ApplyBatch({second}).has_value());
  EXPECT_EQ(StateOf(second.event.id), "skipped");
  // Run now is outside the overlap policy: it queues.
  auto now = Fire(task, kStart + 1500ms, true);
  ASSERT_TRUE(store_.ApplyBatch({now}).has_value());
  EXPECT_EQ(StateOf(now.event.id), "queued");
}

TEST_F(OverlapTest, BufferOneQueuesOneRunThatStartsOnlyOnceThePreviousEnded) {
  auto task = CreateOne(Overlap::kBufferOne);
  auto first = Fire(task, kStart), second = Fire(task, kStart + 1s),
       third = Fire(task, kStart + 2s);
  ASSERT_TRUE(store_.ApplyBatch({first}).has_value());
  auto started = Start(first.event.id, kStart);
  ASSERT_TRUE(started[0].has_value());
  ASSERT_TRUE(store_.ApplyBatch({second, third}).has_value());
  EXPECT_EQ(StateOf(second.event.id), "queued");
  EXPECT_EQ(StateOf(third.event.id), "skipped");  // one is buffered already
  EXPECT_FALSE(Start(second.event.id, kStart + 1s)[0].has_value()) << "started beside the first";
  RunOutcome done{RunState::kSucceeded, "ok", kStart + 2500ms, std::nullopt, ""};
  ASSERT_TRUE(store_.FinishRuns({FinishedRun{*started[0], done, std::nullopt}}).has_value());
  EXPECT_TRUE(Start(second.event.id, kStart + 3s)[0].has_value());
}

// A burst of due times costs no start statement: the fires' runs start in the statement that
// queues them, as many as the offer has room for, and come back started for the engine.
TEST_F(OverlapTest, FiresStartAsTheyAreQueuedWithinTheOffersRoomAndComeBackStarted) {
  CreateTasks(3, kStart);
  std::vector<IncomingCommand> fires;
  {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    for (const auto& r : tx.exec("SELECT id FROM tasks ORDER BY number"))
      fires.push_back(Fire(*Uuid::Parse(r[0].c_str()), kStart));
  }
  ASSERT_EQ(fires.size(), 3u);
  StartOffer offer{"w1", kStart + 10ms, 2, {}};
  auto applied = store_.ApplyBatch(fires, offer);
  ASSERT_TRUE(applied.has_value()) << applied.error().Describe();
  for (int i = 0; i < 2; ++i) {
    const auto& r = (*applied)[i];
    ASSERT_TRUE(r.started) << i;
    ASSERT_TRUE(r.queued_run.has_value());
    EXPECT_EQ(r.queued_run->run_id, fires[i].event.id);
    EXPECT_EQ(r.queued_run->task.id, fires[i].task.id);
    EXPECT_EQ(r.queued_run->handler, "noop");
    EXPECT_EQ(r.queued_run->state, RunState::kStarted);
    EXPECT_EQ(r.queued_run->start_count, 1);
    EXPECT_EQ(StateOf(fires[i].event.id), "started");
  }
  EXPECT_FALSE((*applied)[2].started);  // no room left: queued, for the engine to start
  EXPECT_EQ(StateOf(fires[2].event.id), "queued");
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE worker = 'w1' AND start_count = 1 "
                  "AND heartbeat_at IS NOT NULL AND started_at IS NOT NULL"),
            2);
  // The same due times fired again (a scheduler that died before recording) start nothing.
  auto again = store_.ApplyBatch(fires, offer);
  ASSERT_TRUE(again.has_value());
  for (const auto& r : *again) EXPECT_FALSE(r.started);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 3);
}

}  // namespace
}  // namespace conveyor

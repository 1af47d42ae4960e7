// PgTaskStore decides in SQL what the rules of run_rules.h decide in C++ (for speed: one
// statement per batch). These tests hold its statements to those functions: each sets up runs
// in every state and situation that matters, lets the store decide, and compares what it did
// with what the rule says, case by case (label: integration).
#include <gtest/gtest.h>

#include "conveyor/pg.h"
#include "conveyor/pg_rows.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "src/pg_task_store.h"
#include "src/run_rules.h"
#include "support/commands.h"
#include "support/services.h"

namespace conveyor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Uuid kSleepTypeId = *Uuid::Parse("00000000-0000-0000-0000-000000000002");

class RunRulesSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }

  IncomingCommand Create(Uuid type = NoopTaskTypeId(), bool enabled = true) {
    static std::int64_t next_number = 5000;
    IncomingCommand c;
    c.task.id = Uuid::Random();
    c.task.number = next_number++;
    c.task.task_type_id = type;
    c.task.enabled = enabled;
    c.task.parameters = "{}";
    c.task.content_type = "application/json";
    c.task.created_at = now_ - seconds(60);
    return testing::CreateCommandOf(c.task);
  }
  // Another command of `c`'s task: a cancel, a note, ...
  static IncomingCommand Naming(const IncomingCommand& c, CommandKind kind) {
    IncomingCommand n = c;
    n.kind = kind;
    n.event.id = Uuid::Random();
    n.requested_by = "tester";
    if (kind == CommandKind::kAddNote) {
      static long long next_note = 7000;
      n.event.type = kTaskNoteAddCommand;
      n.note = {next_note++, c.task.id, "a note", c.task.created_at, "tester"};
    } else {
      n.event.type = kTaskCancelCommand;
    }
    return n;
  }

  // Creates a task whose one run (its id returned) is then set to `f`, updated directly.
  Uuid RunWith(const RunFacts& f) {
    auto c = Create();
    EXPECT_TRUE(store_.ApplyBatch({c}).has_value());
    Set(c.event.id, f);
    return c.event.id;
  }
  void Set(const Uuid& run, const RunFacts& f, std::optional<Uuid> after = std::nullopt) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    bool final = IsFinal(f.state);
    tx.exec_params0(
        R"(UPDATE runs SET state = $2, start_count = $3, worker = $4, heartbeat_at = $5::timestamptz,
                  cancel_requested_at = CASE WHEN $6 THEN $7::timestamptz END,
                  finished_at = CASE WHEN $8 THEN $7::timestamptz END, after_run = $9::uuid
            WHERE id = $1)",
        run.ToString(), std::string(RunStateName(f.state)), f.start_count, f.worker,
        f.heartbeat_at ? std::optional(TimeParam(*f.heartbeat_at)) : std::nullopt,
        f.cancel_requested, TimeParam(now_ - seconds(30)), final,
        after ? std::optional(after->ToString()) : std::nullopt);
    tx.commit();
  }
  std::string Query(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }
  std::string Column(const Uuid& run, const std::string& expression) {
    return Query("SELECT " + expression + " FROM runs WHERE id = '" + run.ToString() + "'");
  }
  long long RunsOfTask(const Uuid& task) {
    return std::stoll(Query("SELECT count(*) FROM runs WHERE task_id = '" + task.ToString() + "'"));
  }

  // Every combination of state, cancel and owner that the rules tell apart.
  std::vector<RunFacts> Situations() {
    struct Owner {
      std::string worker;
      std::optional<Timestamp> heartbeat;
    };
    std::vector<Owner> owners = {{"", std::nullopt},
                                 {"me", now_ - seconds(1)},
                                 {"other", now_ - seconds(1)},
                                 {"other", now_ - seconds(20)},
                                 {"other", std::nullopt}};
    std::vector<RunFacts> out;
    for (RunState state : AllRunStates())
      for (bool cancel : {false, true})
        for (const auto& owner : owners)
          out.push_back({state, 1, owner.worker, owner.heartbeat, cancel, false});
    return out;
  }

  static std::string Describe(const RunFacts& f) {
    return std::string(RunStateName(f.state)) + " start " + std::to_string(f.start_count) +
           " worker '" + f.worker + "' heartbeat " +
           (f.heartbeat_at ? FormatRfc3339(*f.heartbeat_at) : "none") +
           (f.cancel_requested ? " cancel requested" : "") +
           (f.waits_for_previous ? " waiting for its previous run" : "");
  }

  Timestamp now_ = *ParseDateTime("2026-11-22T10:00:00Z");
  milliseconds stale_after_{15000};
  testing::ScratchDatabase db_;
  PgPool pool_{db_.url(), 2};
  PgTaskStore store_{pool_};
};

TEST_F(RunRulesSqlTest, FindPendingRunsReadsExactlyTheLiveRuns) {
  for (RunState state : AllRunStates()) {
    auto run = RunWith({state, 1, "w", std::nullopt, false, false});
    auto pending = store_.FindPendingRuns({run});
    ASSERT_TRUE(pending.has_value()) << pending.error().Describe();
    EXPECT_EQ(pending->size(), IsFinal(state) ? 0u : 1u) << RunStateName(state);
  }
}

TEST_F(RunRulesSqlTest, StartRunsStartsExactlyTheRunsMayStartAllows) {
  // A run to wait for, unfinished, and one finished.
  auto unfinished = RunWith({RunState::kStarted, 1, "other", now_, false, false});
  auto finished = RunWith({RunState::kSucceeded, 1, "other", std::nullopt, false, false});
  struct Case {
    RunFacts facts;
    int seen;
    std::optional<Uuid> after;
  };
  std::vector<Case> cases;
  for (auto f : Situations())
    for (int seen : {1, 0})
      for (int after = 0; after < 3; ++after) {
        f.waits_for_previous = after == 2;
        cases.push_back({f, seen,
                         after == 0   ? std::nullopt
                         : after == 1 ? std::optional(finished)
                                      : std::optional(unfinished)});
      }
  std::vector<IncomingCommand> creates;
  for (std::size_t i = 0; i < cases.size(); ++i) creates.push_back(Create());
  ASSERT_TRUE(store_.ApplyBatch(creates).has_value());
  std::vector<PendingRun> reads;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    Set(creates[i].event.id, cases[i].facts, cases[i].after);
    PendingRun p;
    p.run_id = creates[i].event.id;
    p.start_count = cases[i].seen;
    reads.push_back(p);
  }
  auto started = store_.StartRuns(reads, "me", now_, stale_after_);
  ASSERT_TRUE(started.has_value()) << started.error().Describe();
  int starts = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    bool may = MayStart(c.facts, c.seen, "me", now_, stale_after_);
    EXPECT_EQ((*started)[i].has_value(), may) << Describe(c.facts) << ", read at start " << c.seen;
    if (!may || !(*started)[i]) continue;
    ++starts;
    // Recorded as Started says.
    auto after = Started(c.facts, "me", now_);
    EXPECT_EQ((*started)[i]->start_count, after.start_count);
    const auto& id = creates[i].event.id;
    EXPECT_EQ(Column(id, "state"), RunStateName(after.state));
    EXPECT_EQ(Column(id, "start_count"), std::to_string(after.start_count));
    EXPECT_EQ(Column(id, "worker"), after.worker);
    EXPECT_EQ(Column(id, "heartbeat_at = '" + FormatRfc3339(now_) + "'"), "t");
  }
  EXPECT_GT(starts, 0);
}

TEST_F(RunRulesSqlTest, FinishRunsRecordsExactlyTheOutcomesMayRecordOutcomeAllows) {
  for (RunState state : AllRunStates())
    for (int start : {1, 2}) {
      RunFacts f{state, 1, "me", now_, false, false};
      auto run = RunWith(f);
      PendingRun p;
      p.run_id = run;
      FinishedRun done{StartedRun{p, start, now_},
                       RunOutcome{RunState::kFailed, "recorded", now_, std::nullopt, {}},
                       OutgoingMessage{"notes", run.ToString(), "{}", {}}};
      ASSERT_TRUE(store_.FinishRuns({done}).has_value());
      bool recorded = Column(run, "result") == "recorded";
      EXPECT_EQ(recorded, MayRecordOutcome(f, start))
          << Describe(f) << ", outcome of start " << start;
      EXPECT_EQ(Query("SELECT count(*) FROM outbox WHERE key = '" + run.ToString() + "'"),
                recorded ? "1" : "0");
    }
}

TEST_F(RunRulesSqlTest, RetriesHeartbeatsAndReleasesAreRecordedExactlyWhereHoldsStartAllows) {
  for (RunState state : AllRunStates())
    for (int start : {1, 2}) {
      RunFacts f{state, 1, "me", now_ - seconds(5), false, false};
      PendingRun p;
      auto retried = RunWith(f), beaten = RunWith(f), released = RunWith(f);
      p.run_id = retried;
      ASSERT_TRUE(store_.RetryRuns({{StartedRun{p, start, now_}, "again", now_, ""}}).has_value());
      p.run_id = beaten;
      ASSERT_TRUE(store_.Heartbeat({{beaten, start, 50, "half"}}, now_, {}).has_value());
      p.run_id = released;
      ASSERT_TRUE(store_.ReleaseRuns({StartedRun{p, start, now_}}).has_value());
      bool holds = HoldsStart(f, start);
      std::string what = Describe(f) + ", start " + std::to_string(start);
      EXPECT_EQ(Column(retried, "attempt"), holds ? "2" : "1") << what;
      EXPECT_EQ(Column(beaten, "heartbeat_at = '" + FormatRfc3339(now_) + "'"), holds ? "t" : "f")
          << what;
      EXPECT_EQ(Column(released, "heartbeat_at IS NULL"), holds ? "t" : "f") << what;
    }
}

TEST_F(RunRulesSqlTest, StopReachesExactlyTheRunsStopReachesSays) {
  for (RunState state : AllRunStates()) {
    auto c = Create();
    ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
    RunFacts f{state, 1, "w", std::nullopt, false, false};
    Set(c.event.id, f);
    ASSERT_TRUE(store_.ApplyBatch({Naming(c, CommandKind::kCancel)}).has_value());
    EXPECT_EQ(Column(c.event.id, "cancel_requested_at IS NOT NULL") == "t", StopReaches(f))
        << Describe(f);
  }
}

TEST_F(RunRulesSqlTest, EnablingATaskQueuesARunExactlyWhenEnablingQueuesARunSays) {
  std::vector<std::optional<RunFacts>> earlier = {std::nullopt};
  for (RunState state : AllRunStates())
    for (bool cancel : {false, true}) earlier.push_back(RunFacts{state, 1, "w", {}, cancel, false});
  for (const auto& f : earlier) {
    auto c = Create();
    ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
    {
      pqxx::connection conn(db_.url());
      pqxx::work tx(conn);
      tx.exec_params0("UPDATE tasks SET enabled = false WHERE id = $1", c.task.id.ToString());
      if (!f) tx.exec_params0("DELETE FROM runs WHERE id = $1", c.event.id.ToString());
      tx.commit();
    }
    if (f) Set(c.event.id, *f);
    IncomingCommand enable = c;
    enable.kind = CommandKind::kUpdate;
    enable.event.id = Uuid::Random();
    enable.event.type = kTaskUpdateCommand;
    enable.update.task_id = c.task.id;
    enable.update.task_type_id = c.task.task_type_id;
    enable.update.enabled = true;
    enable.update.parameters = "{}";
    enable.update.content_type = "application/json";
    enable.update.requested_by = "tester";
    ASSERT_TRUE(store_.ApplyBatch({enable}).has_value());
    std::vector<RunFacts> runs;
    if (f) runs.push_back(*f);
    EXPECT_EQ(RunsOfTask(c.task.id) == static_cast<long long>(runs.size()) + 1,
              EnablingQueuesARun(runs))
        << (f ? Describe(*f) : "no run");
  }
}

TEST_F(RunRulesSqlTest, RunAgainQueuesARunExactlyWhenRunAgainQueuesARunSays) {
  for (RunState state : AllRunStates())
    for (bool cancel : {false, true}) {
      auto c = Create();
      ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
      RunFacts f{state, 1, "w", std::nullopt, cancel, false};
      Set(c.event.id, f);
      IncomingCommand again = c;
      again.kind = CommandKind::kBatchUpdate;
      again.event.id = Uuid::Random();
      again.event.type = kTaskBatchUpdateCommand;
      again.batch_update.task_id = c.task.id;
      again.batch_update.requested_by = "tester";
      again.batch_update.run_change = BatchTaskUpdate::RunChange::kRunAgain;
      ASSERT_TRUE(store_.ApplyBatch({again}).has_value());
      std::vector<RunFacts> runs{f};
      EXPECT_EQ(RunsOfTask(c.task.id) == 2, RunAgainQueuesARun(runs)) << Describe(f);
    }
}

TEST_F(RunRulesSqlTest, RunsStartAsTheyAreQueuedExactlyAsStartAsQueuedSays) {
  // Creates in batch order: fresh or redelivered, of the noop or the held-back sleep handler,
  // named by another command of the batch or not; each batch applied with rooms 0 to 4.
  for (std::size_t room = 0; room <= 4; ++room) {
    std::vector<IncomingCommand> batch;
    std::vector<QueuedRun> runs;
    std::vector<std::size_t> create_at;
    auto redelivered = Create();
    ASSERT_TRUE(store_.ApplyBatch({redelivered}).has_value());
    for (int i = 0; i < 8; ++i) {
      bool fresh = i != 1;
      bool held = i == 3;
      bool named = i == 5;
      auto c = fresh ? Create(held ? kSleepTypeId : NoopTaskTypeId()) : redelivered;
      create_at.push_back(batch.size());
      batch.push_back(c);
      runs.push_back({held ? "sleep" : "noop", named, fresh});
      if (named) batch.push_back(Naming(c, CommandKind::kAddNote));
    }
    StartOffer offer{"me", now_, room, {"sleep"}};
    auto applied = store_.ApplyBatch(batch, offer);
    ASSERT_TRUE(applied.has_value()) << applied.error().Describe();
    auto expected = StartAsQueued(runs, offer);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& c = batch[create_at[i]];
      bool started = Column(c.event.id, "state") == "started";
      EXPECT_EQ(started, expected[i]) << "room " << room << ", create " << i;
      if (runs[i].fresh) {
        EXPECT_EQ((*applied)[create_at[i]].started, expected[i]);
      }
    }
  }
}

}  // namespace
}  // namespace conveyor

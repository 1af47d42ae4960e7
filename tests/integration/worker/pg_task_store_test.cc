// PgTaskStore and the migrations against a real PostgreSQL server (label: integration).
#include "src/pg_task_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "conveyor/pg.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "conveyor/time_format.h"
#include "support/commands.h"
#include "support/services.h"

namespace conveyor {
namespace {

using testing::ScratchDatabase;

class PgTaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }

  IncomingCommand Create(TaskNotification notification = TaskNotification::kSuccess,
                         Uuid type = NoopTaskTypeId()) {
    static std::int64_t next_number = 1000;
    IncomingCommand c;
    c.task.id = Uuid::Random();
    c.task.number = next_number++;
    c.task.task_type_id = type;
    c.task.parameters = "{}";
    c.task.content_type = "application/json";
    c.task.notification = notification;
    c.task.start_date = *ParseDateTime("2026-02-22T04:10:00.9543747+00:00");
    c.task.created_at = *ParseDateTime("2026-11-22T10:00:00Z");
    return testing::CreateCommandOf(c.task);
  }

  // A conveyor.task.update of `c`'s task: its fields with `parameters`, and `enabled`.
  static IncomingCommand Update(const IncomingCommand& c, std::optional<bool> enabled,
                                std::string parameters = "{}") {
    IncomingCommand u = c;
    u.kind = CommandKind::kUpdate;
    u.event.id = Uuid::Random();
    u.event.type = kTaskUpdateCommand;
    u.event.time = c.event.time + std::chrono::seconds(1);
    u.update.task_id = c.task.id;
    u.update.task_type_id = c.task.task_type_id;
    u.update.enabled = enabled;
    u.update.parameters = std::move(parameters);
    u.update.content_type = "application/json";
    u.update.notification = TaskNotification::kFailure;
    u.update.requested_by = "tester";
    u.requested_by = "tester";
    u.event.data = TaskUpdateToEventData(u.update);
    return u;
  }
  static IncomingCommand Delete(const IncomingCommand& c) {
    IncomingCommand d = c;
    d.kind = CommandKind::kDelete;
    d.event.id = Uuid::Random();
    d.event.type = kTaskDeleteCommand;
    d.requested_by = "tester";
    return d;
  }
  // A conveyor.task.batch-update of `c`'s task.
  static IncomingCommand BatchUpdate(const IncomingCommand& c, BatchTaskUpdate update) {
    IncomingCommand u = c;
    u.kind = CommandKind::kBatchUpdate;
    u.event.id = Uuid::Random();
    u.event.type = kTaskBatchUpdateCommand;
    u.event.time = c.event.time + std::chrono::seconds(2);
    update.task_id = c.task.id;
    update.requested_by = "so-tester";
    u.requested_by = "so-tester";
    u.batch_update = std::move(update);
    u.event.data = BatchTaskUpdateToEventData(u.batch_update);
    return u;
  }
  void SetRunState(const Uuid& run, const std::string& state) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec_params0("UPDATE runs SET state = $2 WHERE id = $1", run.ToString(), state);
    tx.commit();
  }
  std::string RunStateOf(const Uuid& run) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params(
        "SELECT state || CASE WHEN cancel_requested_at IS NULL THEN '' ELSE '+cancel' END "
        "FROM runs WHERE id = $1",
        run.ToString());
    return r.empty() ? "" : r[0][0].c_str();
  }

  long long Count(const std::string& sql) const { return db_.Count(sql); }

  ScratchDatabase db_;
  PgPool pool_{db_.url(), 2};
  PgTaskStore store_{pool_};
};

TEST_F(PgTaskStoreTest, MigrationsAreRecordedAndRunningThemAgainChangesNothing) {
  // Numbers are not contiguous on every branch (each change takes its own), so the latest
  // is compared, and the count before and after running them again.
  auto recorded = Count("SELECT count(*) FROM schema_migrations");
  pqxx::connection conn(db_.url());
  ASSERT_TRUE(RunMigrations(conn).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), recorded);
  EXPECT_EQ(Count("SELECT max(version) FROM schema_migrations"), LatestMigrationVersion());
}

// Workers and producers start together and each runs the migrations on an empty database.
TEST(Migrations, SeveralProgramsRunningThemAtOnceOnAnEmptyDatabaseAllSucceed) {
  for (int round = 0; round < 3; ++round) {
    ScratchDatabase empty;
    std::vector<std::thread> programs;
    std::atomic<int> failed{0};
    for (int i = 0; i < 4; ++i)
      programs.emplace_back([&] {
        pqxx::connection conn(empty.url());
        if (auto s = RunMigrations(conn); !s) ++failed;
      });
    for (auto& t : programs) t.join();
    EXPECT_EQ(failed, 0) << "round " << round;
  }
}

TEST_F(PgTaskStoreTest, CreateRecordsTaskQueuedRunAndInboxRowInOneGo) {
  auto c = Create();
  auto r = store_.ApplyBatch({c});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE id = '" + c.task.id.ToString() + "'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE id = '" + c.event.id.ToString() +
                  "' AND state = 'queued'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE event_id = '" + c.event.id.ToString() + "'"),
            1);
}

TEST_F(PgTaskStoreTest, AppliedCreateReturnsItsQueuedRunAsFindPendingRunsReadsIt) {
  auto c = Create();
  c.event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  c.payload = c.event.Serialize() + " ";  // as consumed: kept byte for byte
  auto r = store_.ApplyBatch({c});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  ASSERT_TRUE((*r)[0].queued_run.has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value() && pending->size() == 1u);
  const auto& given = *(*r)[0].queued_run;
  const auto& read = (*pending)[0];
  EXPECT_EQ(given.run_id, read.run_id);
  EXPECT_EQ(given.task.id, read.task.id);
  EXPECT_EQ(given.task.number, read.task.number);
  EXPECT_EQ(given.task.parameters, read.task.parameters);
  EXPECT_EQ(given.task.notification, read.task.notification);
  EXPECT_EQ(given.handler, read.handler);
  EXPECT_EQ(given.handler, "noop");
  EXPECT_EQ(given.policy.max_attempts, read.policy.max_attempts);
  EXPECT_EQ(given.policy.retry_backoff, read.policy.retry_backoff);
  EXPECT_EQ(given.policy.timeout, read.policy.timeout);
  EXPECT_EQ(given.state, read.state);
  EXPECT_EQ(given.start_count, read.start_count);
  EXPECT_EQ(given.attempt, read.attempt);
  EXPECT_EQ(given.cancel_requested, read.cancel_requested);
  EXPECT_EQ(given.traceparent, c.event.traceparent);
  EXPECT_EQ(read.traceparent, c.event.traceparent);  // from the inbox's copy of the command
  pqxx::connection conn(db_.url());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(
      tx.exec_params1("SELECT payload FROM inbox WHERE event_id = $1", c.event.id.ToString())[0]
          .c_str(),
      c.payload);
}

TEST_F(PgTaskStoreTest, CreateCancelledInTheSameBatchReturnsNoQueuedRunAndItsReadShowsTheCancel) {
  auto c = Create();
  auto other = Create();
  IncomingCommand cancel = c;
  cancel.kind = CommandKind::kCancel;
  cancel.event.id = Uuid::Random();
  cancel.event.type = kTaskCancelCommand;
  auto r = store_.ApplyBatch({c, other, cancel});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_FALSE((*r)[0].queued_run.has_value());
  EXPECT_TRUE((*r)[1].queued_run.has_value());
  EXPECT_FALSE((*r)[2].queued_run.has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value() && pending->size() == 1u);
  EXPECT_TRUE((*pending)[0].cancel_requested);
}

TEST_F(PgTaskStoreTest, OfferedRoomStartsFreshCreatesRunsAsTheyAreQueuedInBatchOrder) {
  auto named = Create();  // another command of the batch names its task: queued
  IncomingCommand note = named;
  note.kind = CommandKind::kAddNote;
  note.event.id = Uuid::Random();
  note.event.type = kTaskNoteAddCommand;
  note.note = {9001, named.task.id, "a note", named.task.created_at, "tester"};
  auto first = Create(), second = Create(), third = Create();
  StartOffer offer{"worker-7", *ParseDateTime("2026-11-22T10:00:05Z"), 2, {}};
  auto r = store_.ApplyBatch({named, first, note, second, third}, offer);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_FALSE((*r)[0].started);
  EXPECT_TRUE((*r)[1].started);
  EXPECT_TRUE((*r)[3].started);
  EXPECT_FALSE((*r)[4].started);  // the room was 2
  ASSERT_TRUE((*r)[4].queued_run.has_value());
  EXPECT_EQ((*r)[4].queued_run->state, RunState::kQueued);
  const auto& run = *(*r)[1].queued_run;
  EXPECT_EQ(run.state, RunState::kStarted);
  EXPECT_EQ(run.start_count, 1);
  EXPECT_EQ(run.worker, "worker-7");
  EXPECT_EQ(run.heartbeat_at, offer.at);
  // As recorded: what StartRuns would have written.
  auto pending = store_.FindPendingRuns({first.event.id, second.event.id, third.event.id});
  ASSERT_TRUE(pending.has_value() && pending->size() == 3u);
  std::map<Uuid, PendingRun> by_id;
  for (auto& p : *pending) by_id[p.run_id] = p;
  for (const auto* c : {&first, &second}) {
    const auto& p = by_id[c->event.id];
    EXPECT_EQ(p.state, RunState::kStarted);
    EXPECT_EQ(p.start_count, 1);
    EXPECT_EQ(p.worker, "worker-7");
    EXPECT_EQ(p.heartbeat_at, offer.at);
  }
  EXPECT_EQ(by_id[third.event.id].state, RunState::kQueued);
  EXPECT_EQ(by_id[third.event.id].start_count, 0);
  EXPECT_EQ(RunStateOf(named.event.id), "queued");
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'started' AND started_at = "
                  "'2026-11-22T10:00:05Z' AND progress_percent = 0"),
            2);
  // A run started this way finishes like any other.
  ASSERT_TRUE(
      store_
          .FinishRuns({FinishedRun{
              StartedRun{run, 1, offer.at},
              RunOutcome{
                  RunState::kSucceeded, "ok", offer.at + std::chrono::seconds(1), std::nullopt, {}},
              std::nullopt}})
          .has_value());
  EXPECT_EQ(RunStateOf(first.event.id), "succeeded");
}

TEST_F(PgTaskStoreTest, OfferStartsNoRunOfAHeldBackHandlerNorWithoutRoom) {
  auto noop = Create();
  auto held = Create();
  auto none = Create();
  auto r = store_.ApplyBatch({noop}, StartOffer{"w", noop.task.created_at, 5, {"noop"}});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_FALSE((*r)[0].started);
  r = store_.ApplyBatch({held, none}, StartOffer{"w", noop.task.created_at, 0, {}});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_FALSE((*r)[0].started);
  EXPECT_FALSE((*r)[1].started);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'queued' AND start_count = 0"), 3);
}

TEST_F(PgTaskStoreTest, RedeliveredEventIsADuplicateAndLeavesOneTaskAndOneRun) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto again = store_.ApplyBatch({c, c});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)[0].outcome, ApplyOutcome::kDuplicate);
  EXPECT_EQ((*again)[1].outcome, ApplyOutcome::kDuplicate);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 1);
}

TEST_F(PgTaskStoreTest, UnknownTaskTypeIsRejectedAloneAndLeavesNoTrace) {
  auto bad = Create(TaskNotification::kNone, Uuid::Random());
  auto good = Create();
  auto r = store_.ApplyBatch({bad, good});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kRejected);
  EXPECT_NE((*r)[0].reason.find("is not registered"), std::string::npos);
  EXPECT_EQ((*r)[1].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 1);
}

TEST_F(PgTaskStoreTest, CreateOfATaskIdThatExistsIsRejectedAloneAndTheRestOfTheBatchApplies) {
  auto first = Create();
  ASSERT_TRUE(store_.ApplyBatch({first}).has_value());
  auto again = Create();  // a new event naming a task id that exists already
  again.task.id = first.task.id;
  again.event.subject = first.task.id.ToString();
  auto good = Create();
  auto r = store_.ApplyBatch({good, again});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r)[1].outcome, ApplyOutcome::kRejected);
  EXPECT_NE((*r)[1].reason.find("exists already"), std::string::npos) << (*r)[1].reason;
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 2);
  EXPECT_EQ(
      Count("SELECT count(*) FROM inbox WHERE event_id = '" + again.event.id.ToString() + "'"), 0);
}

TEST_F(PgTaskStoreTest, FinishingARunTwiceRecordsItAndItsNotificationOnce) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 1u);
  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto started = store_.StartRuns(*pending, "w1", now, std::chrono::milliseconds(15000));
  ASSERT_TRUE(started.has_value());
  ASSERT_TRUE((*started)[0].has_value());
  FinishedRun f{*(*started)[0], RunOutcome{RunState::kSucceeded, "done", now, std::nullopt, {}},
                OutgoingMessage{"notes", c.task.id.ToString(), "{}", {}}};
  ASSERT_TRUE(store_.FinishRuns({f}).has_value());
  ASSERT_TRUE(store_.FinishRuns({f}).has_value());  // recorded again after a failed Tick
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'succeeded' AND result = 'done'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE topic = 'notes'"), 1);
}

TEST_F(PgTaskStoreTest, StartCountsEachStartAndFinishWritesOutcomeWithNotification) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].handler, "noop");
  EXPECT_EQ((*pending)[0].task.parameters, "{}");

  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto stale = std::chrono::milliseconds(15000);
  auto first = store_.StartRuns(*pending, "w1", now, stale);
  ASSERT_TRUE(first.has_value()) << first.error().Describe();
  ASSERT_TRUE((*first)[0].has_value());
  // w1 heartbeats: w2 may not start the run while w1 is alive ...
  auto blocked = store_.StartRuns(*pending, "w2", now + std::chrono::seconds(5), stale);
  ASSERT_TRUE(blocked.has_value());
  EXPECT_FALSE((*blocked)[0].has_value());
  // ... w1 goes quiet; w2 takes over (it read the run as w1 left it: start count 1).
  auto reread = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(reread.has_value() && reread->size() == 1u);
  EXPECT_EQ((*reread)[0].worker, "w1");
  auto second = store_.StartRuns(*reread, "w2", now + std::chrono::seconds(20), stale);
  ASSERT_TRUE(second.has_value() && (*second)[0].has_value());
  EXPECT_EQ((*second)[0]->start_count, 2);

  RunOutcome outcome{RunState::kSucceeded, "ok", *ParseDateTime("2026-11-22T10:00:22Z"),
                     std::nullopt, "log"};
  OutgoingMessage note{"notifications", c.task.id.ToString(), "{}", {}};
  // The stale start (w1) must not record anything.
  ASSERT_TRUE(store_.FinishRuns({{*(*first)[0], outcome, note}}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 0);
  ASSERT_TRUE(store_.FinishRuns({{*(*second)[0], outcome, note}}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'succeeded' AND start_count = 2 AND "
                  "worker = 'w2' AND log = 'log' AND heartbeat_at IS NULL"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
  auto after = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->empty());
}

TEST_F(PgTaskStoreTest, RetryWaitsThenStartsTheNextAttempt) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value() && pending->size() == 1u);
  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto started = store_.StartRuns(*pending, "w1", now, std::chrono::seconds(15));
  ASSERT_TRUE(started.has_value() && (*started)[0].has_value());
  auto not_before = now + std::chrono::seconds(30);
  ASSERT_TRUE(
      store_.RetryRuns({{*(*started)[0], "attempt 1 of 3 failed: x", not_before, ""}}).has_value());
  auto waiting = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(waiting.has_value() && waiting->size() == 1u);
  EXPECT_EQ((*waiting)[0].state, RunState::kRetryWait);
  EXPECT_EQ((*waiting)[0].attempt, 2);
  ASSERT_TRUE((*waiting)[0].not_before.has_value());
  EXPECT_EQ(*(*waiting)[0].not_before, not_before);
  auto again = store_.StartRuns(*waiting, "w1", not_before, std::chrono::seconds(15));
  ASSERT_TRUE(again.has_value() && (*again)[0].has_value());
  EXPECT_EQ((*again)[0]->start_count, 2);
}

TEST_F(PgTaskStoreTest, CancelCommandMarksTheRunAndStopsItFromStarting) {
  auto c = Create();
  IncomingCommand cancel = c;
  cancel.kind = CommandKind::kCancel;
  cancel.event.id = Uuid::Random();
  cancel.event.type = kTaskCancelCommand;
  ASSERT_TRUE(store_.ApplyBatch({c, cancel}).has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value() && pending->size() == 1u);
  EXPECT_TRUE((*pending)[0].cancel_requested);
  auto started = store_.StartRuns(*pending, "w1", c.event.time, std::chrono::seconds(15));
  ASSERT_TRUE(started.has_value());
  EXPECT_FALSE((*started)[0].has_value());
}

TEST_F(PgTaskStoreTest, HeartbeatRecordsProgressOnlyWhenGiven) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto started = store_.StartRuns(*pending, "w1", now, std::chrono::seconds(15));
  ASSERT_TRUE(started.has_value() && (*started)[0].has_value());
  int sc = (*started)[0]->start_count;
  OutgoingMessage note{"notifications", c.task.id.ToString(), "{}", {}};
  ASSERT_TRUE(store_.Heartbeat({{c.event.id, sc, 40, "step 2 of 5"}}, now, {note}).has_value());
  ASSERT_TRUE(store_.Heartbeat({{c.event.id, sc, std::nullopt, ""}}, now, {}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE progress_percent = 40 AND "
                  "progress_description = 'step 2 of 5'"),
            1);
}

TEST_F(PgTaskStoreTest, ManyCommandsApplyInOneBatchWithDuplicatesInside) {
  std::vector<IncomingCommand> batch;
  for (int i = 0; i < 200; ++i) batch.push_back(Create());
  batch.push_back(batch[7]);  // the same event twice in one batch
  auto r = store_.ApplyBatch(batch);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[7].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r)[200].outcome, ApplyOutcome::kDuplicate);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 200);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'queued'"), 200);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 200);
}

TEST_F(PgTaskStoreTest, TaskReaderShowsTheTaskWithItsLatestRun) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  PgTaskReader reader(pool_);
  auto view = reader.FindTask(c.task.id);
  ASSERT_TRUE(view.has_value()) << view.error().Describe();
  ASSERT_TRUE(view->has_value());
  EXPECT_EQ((*view)->type_name, "noop");
  EXPECT_EQ((*view)->task.start_date, c.task.start_date);
  EXPECT_EQ((*view)->task.number, c.task.number);
  ASSERT_TRUE((*view)->last_run.has_value());
  EXPECT_EQ((*view)->last_run->state, RunState::kQueued);
  auto missing = reader.FindTask(Uuid::Random());
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

IncomingCommand NoteOn(const Uuid& task_id, std::int64_t note_id, const std::string& text) {
  IncomingCommand c;
  c.kind = CommandKind::kAddNote;
  c.task.id = task_id;
  c.note = {note_id, task_id, text, *ParseDateTime("2026-11-22T11:00:00Z"), "tester"};
  c.event.id = Uuid::Random();
  c.event.source = "/test";
  c.event.type = kTaskNoteAddCommand;
  c.event.subject = task_id.ToString();
  c.event.time = c.note.created_at;
  c.event.data = NoteToEventData(c.note);
  c.topic = "commands";
  return c;
}

TEST_F(PgTaskStoreTest, NotesFollowTheirTaskInOneBatchAndANoteOnNoTaskIsRejectedAlone) {
  auto c = Create();
  c.task.name = "call back";
  c.task.priority = 3;
  c.task.external_refs["contact"] = 83;
  c.event.data = TaskToEventData(c.task);
  auto note = NoteOn(c.task.id, 501, "first");
  auto stray = NoteOn(Uuid::Random(), 502, "no such task");
  auto again = note;  // redelivered: changes nothing
  auto r = store_.ApplyBatch({c, note, stray, again});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r)[1].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r)[2].outcome, ApplyOutcome::kRejected);
  EXPECT_EQ((*r)[3].outcome, ApplyOutcome::kDuplicate);
  EXPECT_EQ(Count("SELECT count(*) FROM task_notes"), 1);

  PgTaskReader reader(pool_);
  auto notes = reader.ListNotes(c.task.id, 0, 100);
  ASSERT_TRUE(notes.has_value()) << notes.error().Describe();
  ASSERT_EQ(notes->notes.size(), 1u);
  EXPECT_EQ(notes->total, 1);
  EXPECT_EQ(notes->notes[0].id, 501);
  EXPECT_EQ(notes->notes[0].text, "first");
  auto one = reader.FindNote(c.task.id, 501);
  ASSERT_TRUE(one.has_value() && one->has_value());
  EXPECT_EQ((*one)->text, "first");
  EXPECT_FALSE(reader.FindNote(c.task.id, 502)->has_value());
  auto view = reader.FindTask(c.task.id);
  ASSERT_TRUE(view.has_value() && view->has_value());
  EXPECT_EQ((*view)->task.name, "call back");
  EXPECT_EQ((*view)->task.priority, 3);
  EXPECT_EQ((*view)->task.external_refs.at("contact"), 83);
  EXPECT_EQ((*view)->type_number, 1);
}

TEST_F(PgTaskStoreTest, TaskReaderListsWithConditionsRunStatesOrderAndPaging) {
  std::vector<IncomingCommand> batch;
  for (std::string name : {"b", "a", "c"}) {
    auto c = Create();
    c.task.name = name;
    c.event.data = TaskToEventData(c.task);
    batch.push_back(c);
  }
  auto disabled = Create();
  disabled.task.enabled = false;  // no run: "no run" state
  disabled.task.name = "d";
  batch.push_back(disabled);
  ASSERT_TRUE(store_.ApplyBatch(batch).has_value());
  PgTaskReader reader(pool_);

  TaskQuery by_name;
  by_name.order = {{TaskField::kName, true}};
  by_name.limit = 2;
  by_name.offset = 1;
  by_name.count_total = true;
  auto page = reader.QueryTasks(by_name);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  ASSERT_EQ(page->tasks.size(), 2u);
  EXPECT_EQ(page->tasks[0].task.name, "c");
  EXPECT_EQ(page->tasks[1].task.name, "b");
  EXPECT_TRUE(page->has_more);
  EXPECT_EQ(page->total, 4);

  TaskQuery like;
  like.conditions = {{TaskField::kName, CompareOp::kLike, "A%", {}}};
  auto liked = reader.QueryTasks(like);
  ASSERT_TRUE(liked.has_value());
  ASSERT_EQ(liked->tasks.size(), 1u);
  EXPECT_EQ(liked->tasks[0].task.name, "a");
  EXPECT_FALSE(liked->has_more);

  TaskQuery no_run;
  no_run.run_states = {{{std::nullopt}, false}};
  auto idle = reader.QueryTasks(no_run);
  ASSERT_TRUE(idle.has_value());
  ASSERT_EQ(idle->tasks.size(), 1u);
  EXPECT_EQ(idle->tasks[0].task.name, "d");
  TaskQuery queued_not;
  queued_not.run_states = {{{RunState::kQueued}, true}};
  EXPECT_EQ(reader.QueryTasks(queued_not)->tasks.size(), 1u);

  TaskQuery other_client;
  other_client.client_id = Uuid::Random();
  EXPECT_TRUE(reader.QueryTasks(other_client)->tasks.empty());
}

TEST_F(PgTaskStoreTest, UpdateReplacesTheFieldsAndEnabledFalseRequestsTheCancelOfTheLiveRun) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto disable = Update(c, false, R"({"v":2})");
  auto r = store_.ApplyBatch({disable});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(RunStateOf(c.event.id), "queued+cancel");
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE NOT enabled AND parameters = '{\"v\":2}' "
                  "AND notification = 'FAILURE' AND modified_by = 'tester' AND last_event_id = '" +
                  disable.event.id.ToString() + "'"),
            1);
  // Enabled absent: unchanged.
  ASSERT_TRUE(store_.ApplyBatch({Update(c, std::nullopt, R"({"v":3})")}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE NOT enabled AND parameters = '{\"v\":3}'"), 1);
}

TEST_F(PgTaskStoreTest, ReEnablingQueuesARunOnlyWhenEveryEarlierRunWasCancelled) {
  auto c = Create();
  auto disable = Update(c, false);
  auto enable = Update(c, true);
  // Disabled and enabled again in one batch: the first run is being cancelled, so a new one
  // is queued under the enabling event's id.
  auto r = store_.ApplyBatch({c, disable, enable});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(RunStateOf(c.event.id), "queued+cancel");
  EXPECT_EQ(RunStateOf(enable.event.id), "queued");
  // Enabling an enabled task queues nothing.
  auto again = Update(c, true);
  ASSERT_TRUE(store_.ApplyBatch({again}).has_value());
  EXPECT_EQ(RunStateOf(again.event.id), "");

  // A task whose run succeeded is not run again by re-enabling it.
  auto done = Create();
  ASSERT_TRUE(store_.ApplyBatch({done}).has_value());
  pqxx::connection conn(db_.url());
  pqxx::work tx(conn);
  tx.exec_params0("UPDATE runs SET state = 'succeeded' WHERE id = $1", done.event.id.ToString());
  tx.commit();
  auto off = Update(done, false), on = Update(done, true);
  ASSERT_TRUE(store_.ApplyBatch({off, on}).has_value());
  EXPECT_EQ(RunStateOf(on.event.id), "");
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE task_id = '" + done.task.id.ToString() + "'"),
            1);
}

TEST_F(PgTaskStoreTest, UpdateNamingAnUnregisteredTypeIsRejectedAloneInItsBatch) {
  auto c = Create();
  auto bad = Update(c, std::nullopt, R"({"bad":1})");
  bad.update.task_type_id = Uuid::Random();
  auto good = Update(c, std::nullopt, R"({"good":1})");
  auto r = store_.ApplyBatch({c, bad, good});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r)[1].outcome, ApplyOutcome::kRejected);
  EXPECT_NE((*r)[1].reason.find("is not registered"), std::string::npos);
  EXPECT_EQ((*r)[2].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE parameters = '{\"good\":1}'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE event_id = '" + bad.event.id.ToString() + "'"),
            0);
}

TEST_F(PgTaskStoreTest, DeleteCancelsTheRunHidesTheTaskAndLaterCommandsChangeNothing) {
  auto c = Create();
  auto del = Delete(c);
  auto late = Update(c, true, R"({"late":1})");
  auto r = store_.ApplyBatch({c, del, late, Delete(c)});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  for (const auto& one : *r) EXPECT_EQ(one.outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(RunStateOf(c.event.id), "queued+cancel");
  EXPECT_EQ(RunStateOf(late.event.id), "");
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE deleted_at IS NOT NULL AND deleted_by = "
                  "'tester' AND parameters = '{}'"),
            1);
  PgTaskReader reader(pool_);
  auto found = reader.FindTask(c.task.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
  auto by_number = reader.FindTaskByNumber(c.task.number);
  ASSERT_TRUE(by_number.has_value());
  EXPECT_FALSE(by_number->has_value());
  auto listed = reader.ListTasks(std::nullopt, 0, 10);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->total, 0);
}

TEST_F(PgTaskStoreTest, BatchUpdateSetsOnlyTheFieldsItCarriesAndTheReaderShowsThem) {
  auto c = Create();
  c.task.description = "d1";
  c.task.request = "r1";
  c.event.data = TaskToEventData(c.task);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  BatchTaskUpdate u;
  u.description = "d2";
  u.response = "checked by hand";
  auto update = BatchUpdate(c, u);
  auto r = store_.ApplyBatch({update});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  PgTaskReader reader(pool_);
  auto view = reader.FindTask(c.task.id);
  ASSERT_TRUE(view.has_value() && view->has_value());
  const auto& t = (*view)->task;
  EXPECT_EQ(t.description, "d2");
  EXPECT_EQ(t.request, "r1");  // not carried: unchanged
  EXPECT_EQ(t.response, "checked by hand");
  EXPECT_EQ((*view)->modified_by, "so-tester");
  EXPECT_EQ(RunStateOf(c.event.id), "queued");  // run_change none leaves the run alone
  // A redelivery is a duplicate; an update without a response keeps the one set.
  auto again = store_.ApplyBatch({update});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)[0].outcome, ApplyOutcome::kDuplicate);
  BatchTaskUpdate only_request;
  only_request.request = "r3";
  ASSERT_TRUE(store_.ApplyBatch({BatchUpdate(c, only_request)}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE description = 'd2' AND request = 'r3' AND "
                  "response = 'checked by hand'"),
            1);
}

TEST_F(PgTaskStoreTest,
       BatchUpdateStopRequestsTheCancelAndRunAgainQueuesANewRunOnlyWhenNoneIsLive) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  // Run again while the first run is live queues nothing.
  BatchTaskUpdate again;
  again.run_change = BatchTaskUpdate::RunChange::kRunAgain;
  auto early = BatchUpdate(c, again);
  ASSERT_TRUE(store_.ApplyBatch({early}).has_value());
  EXPECT_EQ(RunStateOf(early.event.id), "");
  BatchTaskUpdate stop;
  stop.run_change = BatchTaskUpdate::RunChange::kStop;
  ASSERT_TRUE(store_.ApplyBatch({BatchUpdate(c, stop)}).has_value());
  EXPECT_EQ(RunStateOf(c.event.id), "queued+cancel");

  // Once it is over, run again queues a run named by the event and clears the response.
  SetRunState(c.event.id, "cancelled");
  BatchTaskUpdate respond;
  respond.response = "stopped by hand";
  ASSERT_TRUE(store_.ApplyBatch({BatchUpdate(c, respond)}).has_value());
  auto rerun = BatchUpdate(c, again);
  ASSERT_TRUE(store_.ApplyBatch({rerun}).has_value());
  EXPECT_EQ(RunStateOf(rerun.event.id), "queued");
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE response IS NULL"), 1);
  auto pending = store_.FindPendingRuns({rerun.event.id});
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].task.id, c.task.id);
}

TEST_F(PgTaskStoreTest, BatchUpdateOfADeletedTaskChangesNothingOnEitherApplyPath) {
  auto c = Create();
  BatchTaskUpdate u;
  u.description = "late";
  u.run_change = BatchTaskUpdate::RunChange::kRunAgain;
  auto late = BatchUpdate(c, u);
  // Fast path: the whole batch together.
  auto r = store_.ApplyBatch({c, Delete(c), late});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[2].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(RunStateOf(late.event.id), "");
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE description = 'late'"), 0);
  // Careful path (a second create of an existing task in the batch forces it).
  auto late2 = BatchUpdate(c, u);
  auto recreate = c;
  recreate.event.id = Uuid::Random();
  auto r2 = store_.ApplyBatch({Create(), recreate, late2});
  ASSERT_TRUE(r2.has_value()) << r2.error().Describe();
  EXPECT_EQ((*r2)[1].outcome, ApplyOutcome::kRejected);
  EXPECT_EQ((*r2)[2].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE description = 'late'"), 0);
}

// After the merge of the Oracle and SuperOffice write paths: one batch carries a task with the
// Oracle fields, a note on it and a SuperOffice batch-update of it, on both apply paths, and
// the reader shows every column (0006, 0007 and 0008) together.
TEST_F(PgTaskStoreTest, OracleFieldsNotesAndBatchUpdatesOfOneTaskApplyTogetherOnBothPaths) {
  auto make = [this](const std::string& name) {
    auto c = Create();
    c.task.name = name;
    c.task.priority = 2;
    c.task.due_time = *ParseDateTime("2026-12-01T08:00:00Z");
    c.task.external_refs["contact"] = 83;
    c.task.associate_id = 7;
    c.task.description = "d1";
    c.task.request = "r1";
    c.event.data = TaskToEventData(c.task);
    return c;
  };
  BatchTaskUpdate u;
  u.description = "d2";
  u.response = "answered";
  u.run_change = BatchTaskUpdate::RunChange::kStop;
  auto fast = make("fast");
  auto fast_batch = std::vector{fast, NoteOn(fast.task.id, 601, "n1"), BatchUpdate(fast, u)};
  auto r = store_.ApplyBatch(fast_batch);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  for (const auto& one : *r) EXPECT_EQ(one.outcome, ApplyOutcome::kApplied) << one.reason;
  // A note on no task is refused alone, on the careful path; the rest still applies.
  auto careful = make("careful");
  auto r2 = store_.ApplyBatch({careful, NoteOn(Uuid::Random(), 602, "stray"),
                               NoteOn(careful.task.id, 603, "n2"), BatchUpdate(careful, u)});
  ASSERT_TRUE(r2.has_value()) << r2.error().Describe();
  EXPECT_EQ((*r2)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r2)[1].outcome, ApplyOutcome::kRejected);
  EXPECT_EQ((*r2)[2].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*r2)[3].outcome, ApplyOutcome::kApplied);

  PgTaskReader reader(pool_);
  for (const auto* c : {&fast, &careful}) {
    auto view = reader.FindTask(c->task.id);
    ASSERT_TRUE(view.has_value() && view->has_value());
    const auto& t = (*view)->task;
    EXPECT_EQ(t.name, c->task.name);
    EXPECT_EQ(t.priority, 2);
    EXPECT_EQ(t.due_time, c->task.due_time);
    EXPECT_EQ(t.external_refs.at("contact"), 83);
    EXPECT_EQ(t.associate_id, 7);
    EXPECT_EQ(t.description, "d2");
    EXPECT_EQ(t.request, "r1");
    EXPECT_EQ(t.response, "answered");
    EXPECT_EQ(RunStateOf(c->event.id), "queued+cancel");
    auto notes = reader.ListNotes(c->task.id, 0, 100);
    ASSERT_TRUE(notes.has_value()) << notes.error().Describe();
    EXPECT_EQ(notes->notes.size(), 1u);
  }
}

TEST_F(PgTaskStoreTest, ListTasksPagesInCreationOrderForAllOrOneClient) {
  auto client = Uuid::Random();
  std::vector<IncomingCommand> cs;
  for (int i = 0; i < 5; ++i) {
    cs.push_back(Create());
    cs.back().task.created_at += std::chrono::seconds(i);
    if (i % 2 == 0) cs.back().task.client_id = client;
  }
  ASSERT_TRUE(store_.ApplyBatch(cs).has_value());
  PgTaskReader reader(pool_);
  auto page = reader.ListTasks(std::nullopt, 2, 2);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  EXPECT_EQ(page->total, 5);
  ASSERT_EQ(page->tasks.size(), 2u);
  EXPECT_EQ(page->tasks[0].task.id, cs[2].task.id);
  EXPECT_EQ(page->tasks[1].task.id, cs[3].task.id);
  EXPECT_EQ(page->tasks[0].type_name, "noop");
  ASSERT_TRUE(page->tasks[0].last_run.has_value());
  auto mine = reader.ListTasks(client, 0, 10);
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->total, 3);
  ASSERT_EQ(mine->tasks.size(), 3u);
  EXPECT_EQ(mine->tasks[2].task.id, cs[4].task.id);
}

TEST_F(PgTaskStoreTest, OracleUpdateChangesOrClearsItsFieldsAndATwoSmsUpdateLeavesThem) {
  auto c = Create();
  c.task.name = "before";
  c.task.priority = 1;
  c.task.due_time = *ParseDateTime("2026-12-01T00:00:00Z");
  c.event.data = TaskToEventData(c.task);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto oracle = Update(c, std::nullopt);
  oracle.update.name = "after";
  oracle.update.priority = std::optional<int>();  // cleared
  oracle.event.data = TaskUpdateToEventData(oracle.update);
  auto twosms = Update(c, std::nullopt, R"({"v":9})");
  auto r = store_.ApplyBatch({oracle, twosms});
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::kApplied);
  PgTaskReader reader(pool_);
  auto view = reader.FindTask(c.task.id);
  ASSERT_TRUE(view.has_value() && view->has_value());
  const Task& t = (*view)->task;
  EXPECT_EQ(t.name, "after");
  EXPECT_FALSE(t.priority.has_value());
  EXPECT_EQ(t.due_time, c.task.due_time);  // not in either update
  EXPECT_EQ(t.parameters, R"({"v":9})");
}

TEST_F(PgTaskStoreTest, BatchTaskFieldsAreStoredByBothApplyPaths) {
  auto fast = Create();
  fast.task.associate_id = 491;
  fast.task.description = "fast path";
  fast.task.request = "r1";
  fast.event.data = TaskToEventData(fast.task);
  ASSERT_TRUE(store_.ApplyBatch({fast}).has_value());
  // A duplicate task id in the batch sends the batch down the careful path.
  auto careful = Create();
  careful.task.associate_id = 30;
  careful.task.description = "careful path";
  careful.event.data = TaskToEventData(careful.task);
  auto clash = Create();
  clash.task.id = fast.task.id;
  clash.event.data = TaskToEventData(clash.task);
  ASSERT_TRUE(store_.ApplyBatch({careful, clash}).has_value());
  PgTaskReader reader(pool_);
  auto a = reader.FindTask(fast.task.id);
  ASSERT_TRUE(a.has_value() && a->has_value());
  EXPECT_EQ((*a)->task.associate_id, 491);
  EXPECT_EQ((*a)->task.description, "fast path");
  EXPECT_EQ((*a)->task.request, "r1");
  auto b = reader.FindTask(careful.task.id);
  ASSERT_TRUE(b.has_value() && b->has_value());
  EXPECT_EQ((*b)->task.associate_id, 30);
  EXPECT_EQ((*b)->task.description, "careful path");
}

TEST_F(PgTaskStoreTest, ListTasksFiltersByOwnerTypeStateAndClientAndSaysWhenItIsCut) {
  std::vector<IncomingCommand> batch;
  Uuid tenant = Uuid::Random();
  for (int i = 0; i < 5; ++i) {
    auto c = Create();
    c.task.associate_id = i < 2 ? 0 : 491;  // two system tasks, three user tasks
    if (i == 4) c.task.client_id = tenant;
    c.event.data = TaskToEventData(c.task);
    batch.push_back(c);
  }
  auto disabled = Create();  // no run: BatchTaskState Unknown
  disabled.task.enabled = false;
  disabled.task.associate_id = 7;
  disabled.event.data = TaskToEventData(disabled.task);
  batch.push_back(disabled);
  ASSERT_TRUE(store_.ApplyBatch(batch).has_value());
  PgTaskReader reader(pool_);
  auto numbers = [&](const TaskFilter& f, std::optional<Uuid> client = std::nullopt) {
    std::vector<std::int64_t> out;
    auto list = reader.FilterTasks(f, client);
    EXPECT_TRUE(list.has_value()) << list.error().Describe();
    if (list)
      for (const auto& v : list->tasks) out.push_back(v.task.number);
    return out;
  };
  auto n = [&](int i) { return batch[i].task.number; };
  TaskFilter all;
  EXPECT_EQ(numbers(all), (std::vector{n(0), n(1), n(2), n(3), n(4), n(5)}));
  TaskFilter system;
  system.owner = TaskFilter::Owner::kSystem;
  EXPECT_EQ(numbers(system), (std::vector{n(0), n(1)}));
  TaskFilter user_queued;
  user_queued.owner = TaskFilter::Owner::kUser;
  user_queued.run_states = std::vector{RunState::kQueued};
  EXPECT_EQ(numbers(user_queued), (std::vector{n(2), n(3), n(4)}));
  TaskFilter no_run;
  no_run.run_states.emplace();
  no_run.or_no_run = true;
  EXPECT_EQ(numbers(no_run), (std::vector{n(5)}));
  TaskFilter associates;
  associates.associate_ids = std::vector<std::int32_t>{7, 0};
  associates.type_name = "noop";
  EXPECT_EQ(numbers(associates), (std::vector{n(0), n(1), n(5)}));
  associates.type_name = "sleep";
  EXPECT_EQ(numbers(associates), std::vector<std::int64_t>{});
  EXPECT_EQ(numbers(all, tenant), (std::vector{n(4)}));
  TaskFilter small;
  small.limit = 2;
  auto cut = reader.FilterTasks(small, std::nullopt);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->tasks.size(), 2u);
  EXPECT_TRUE(cut->has_more);
  small.limit = 6;
  EXPECT_FALSE(reader.FilterTasks(small, std::nullopt)->has_more);
}

// With a state topic, every change the API shows writes the task's state to the outbox in its
// transaction (docs/events.md, conveyor.tasks): each event is the task as the reader shows it
// then; a deleted task's key gets a tombstone; a heartbeat without progress writes none.
class TaskStateTest : public PgTaskStoreTest {
 protected:
  // The outbox rows on the state topic, in the order they were written: the event's data,
  // or null for a tombstone.
  std::vector<nlohmann::json> States(const Uuid& task) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    std::vector<nlohmann::json> out;
    for (const auto& r :
         tx.exec_params("SELECT payload FROM outbox WHERE topic = 'tasks' AND key = $1 ORDER BY id",
                        task.ToString()))
      out.push_back(r[0].is_null() ? nlohmann::json(nullptr)
                                   : nlohmann::json::parse(r[0].c_str())["data"]);
    return out;
  }

  FakeClock clock_{*ParseDateTime("2026-11-22T10:00:05Z")};
  PgTaskStore stated_{pool_, TaskStateSettings{"tasks", "/conveyor/worker/w1", ""}, &clock_};
  PgTaskReader reader_{pool_};
};

TEST_F(TaskStateTest, EachChangeWritesTheTaskAsTheApiShowsItAndADeleteATombstone) {
  auto c = Create(TaskNotification::kNone);
  ASSERT_TRUE(stated_.ApplyBatch({c}).has_value());
  auto states = States(c.task.id);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0]["task"]["number"], c.task.number);
  EXPECT_EQ(states[0]["last_run"]["state"], "queued");

  auto pending = stated_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value() && pending->size() == 1u);
  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto started = stated_.StartRuns(*pending, "w1", now, std::chrono::seconds(15));
  ASSERT_TRUE(started.has_value() && (*started)[0].has_value());
  int sc = (*started)[0]->start_count;
  ASSERT_TRUE(stated_.Heartbeat({{c.event.id, sc, std::nullopt, ""}}, now, {}).has_value());
  ASSERT_TRUE(stated_.Heartbeat({{c.event.id, sc, 40, "step 2"}}, now, {}).has_value());
  ASSERT_TRUE(stated_
                  .FinishRuns({{*(*started)[0],
                                RunOutcome{RunState::kSucceeded, "done", now, std::nullopt, ""},
                                std::nullopt}})
                  .has_value());
  states = States(c.task.id);
  ASSERT_EQ(states.size(), 4u) << "create, start, progress, finish (a bare heartbeat: none)";
  EXPECT_EQ(states[1]["last_run"]["state"], "started");
  EXPECT_EQ(states[1]["last_run"]["worker"], "w1");
  EXPECT_EQ(states[2]["last_run"]["progress_percent"], 40);
  EXPECT_EQ(states[2]["last_run"]["progress_description"], "step 2");
  EXPECT_EQ(states[3]["last_run"]["state"], "succeeded");
  EXPECT_EQ(states[3]["last_run"]["result"], "done");

  // The latest state is what the reader shows.
  auto shown = reader_.FindTask(c.task.id);
  ASSERT_TRUE(shown.has_value() && shown->has_value());
  EXPECT_EQ(states[3], TaskStateToEventData(**shown));

  ASSERT_TRUE(stated_.ApplyBatch({Delete(c)}).has_value());
  states = States(c.task.id);
  ASSERT_EQ(states.size(), 5u);
  EXPECT_TRUE(states[4].is_null()) << "a tombstone";
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE topic = 'tasks' AND payload IS NULL"), 1);
}

TEST_F(TaskStateTest, ARetryAndAnUpdateWriteStatesAndADuplicateOrRejectedCommandNone) {
  auto c = Create(TaskNotification::kNone);
  ASSERT_TRUE(stated_.ApplyBatch({c, c}).has_value());  // the second copy is a duplicate
  auto unknown = Create(TaskNotification::kNone, Uuid::Random());
  ASSERT_TRUE(stated_.ApplyBatch({unknown}).has_value());  // rejected: type not registered
  EXPECT_EQ(States(c.task.id).size(), 1u);
  EXPECT_TRUE(States(unknown.task.id).empty());

  auto pending = stated_.FindPendingRuns({c.event.id});
  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto started = stated_.StartRuns(*pending, "w1", now, std::chrono::seconds(15));
  ASSERT_TRUE(started.has_value() && (*started)[0].has_value());
  ASSERT_TRUE(
      stated_.RetryRuns({{*(*started)[0], "attempt 1 failed", now + std::chrono::seconds(9), ""}})
          .has_value());
  ASSERT_TRUE(stated_.ApplyBatch({Update(c, false, R"({"b":2})")}).has_value());
  auto states = States(c.task.id);
  ASSERT_EQ(states.size(), 4u);
  EXPECT_EQ(states[2]["last_run"]["state"], "retry_wait");
  EXPECT_EQ(states[2]["last_run"]["result"], "attempt 1 failed");
  EXPECT_EQ(states[3]["task"]["enabled"], false);
  EXPECT_EQ(states[3]["task"]["parameters"], R"({"b":2})");
  EXPECT_EQ(states[3]["last_run"]["cancel_requested"], true);
}

// Two changes of one task at once take turns: a run's end that comes while another
// transaction holds an uncommitted change of the task waits for it, and its state, written
// last, holds both. (Without the lock each would read the task without the other's change.)
TEST_F(TaskStateTest, AChangeWaitsForAnotherChangeOfItsTaskAndItsStateHoldsBoth) {
  auto c = Create(TaskNotification::kNone);
  ASSERT_TRUE(stated_.ApplyBatch({c}).has_value());
  auto pending = stated_.FindPendingRuns({c.event.id});
  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto started = stated_.StartRuns(*pending, "w1", now, std::chrono::seconds(15));
  ASSERT_TRUE(started.has_value() && (*started)[0].has_value());

  pqxx::connection other(db_.url());
  pqxx::work change(other);
  change.exec_params0("UPDATE tasks SET parameters = '{\"changed\":1}' WHERE id = $1",
                      c.task.id.ToString());
  std::thread finish([&] {
    FinishedRun f{*(*started)[0], RunOutcome{RunState::kSucceeded, "done", now, std::nullopt, ""},
                  std::nullopt};
    EXPECT_TRUE(stated_.FinishRuns({f}).has_value());
  });
  bool waiting = testing::PollUntil(
      [&] {
        return Count(
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'") == 1;
      },
      std::chrono::seconds(10));
  change.commit();
  finish.join();
  ASSERT_TRUE(waiting) << "the run's end did not wait for the other change of its task";
  auto states = States(c.task.id);
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back()["task"]["parameters"], "{\"changed\":1}");
  EXPECT_EQ(states.back()["last_run"]["state"], "succeeded");
}

TEST_F(PgTaskStoreTest, WithoutAStateTopicNoStateIsWritten) {
  auto c = Create(TaskNotification::kNone);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 0);
}

}  // namespace
}  // namespace conveyor

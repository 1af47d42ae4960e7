// PgTaskStore and the migrations against a real PostgreSQL server (label: integration).
#include "src/pg_task_store.h"

#include <gtest/gtest.h>

#include "conveyor/pg.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "conveyor/time_format.h"
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
    c.event.id = Uuid::Random();
    c.event.source = "/test";
    c.event.type = kTaskCreateCommand;
    c.event.subject = c.task.id.ToString();
    c.event.time = c.task.created_at;
    c.event.data = TaskToEventData(c.task);
    c.topic = "commands";
    return c;
  }

  long long Count(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    return tx.exec1(sql)[0].as<long long>();
  }

  ScratchDatabase db_;
  PgPool pool_{db_.url(), 2};
  PgTaskStore store_{pool_};
};

TEST_F(PgTaskStoreTest, MigrationsAreRecordedAndRunningThemAgainChangesNothing) {
  pqxx::connection conn(db_.url());
  ASSERT_TRUE(RunMigrations(conn).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), LatestMigrationVersion());
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

TEST_F(PgTaskStoreTest, StartCountsEachStartAndFinishWritesOutcomeWithNotification) {
  auto c = Create();
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto pending = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].handler, "noop");
  EXPECT_EQ((*pending)[0].task.parameters, "{}");

  auto now = *ParseDateTime("2026-11-22T10:00:01Z");
  auto first = store_.StartRun((*pending)[0], "w1", now);
  ASSERT_TRUE(first.has_value() && first->has_value());
  auto second = store_.StartRun((*pending)[0], "w2", now);  // w1 died; w2 takes over
  ASSERT_TRUE(second.has_value() && second->has_value());
  EXPECT_EQ((*second)->start_count, 2);

  RunOutcome outcome{RunState::kSucceeded, "ok", *ParseDateTime("2026-11-22T10:00:02Z")};
  OutgoingMessage note{"notifications", c.task.id.ToString(), "{}", {}};
  // The stale start (w1) must not record anything.
  ASSERT_TRUE(store_.FinishRun(**first, outcome, note).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 0);
  ASSERT_TRUE(store_.FinishRun(**second, outcome, note).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'succeeded' AND start_count = 2 AND "
                  "worker = 'w2'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 1);
  auto after = store_.FindPendingRuns({c.event.id});
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->empty());
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

}  // namespace
}  // namespace conveyor

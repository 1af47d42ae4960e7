// Retention (worker/src/retention.h) against a real PostgreSQL server (label: integration):
// done tasks older than the retention go with their runs, notes and schedules, export files as
// old go too; tasks that are live, recurring, never run or recent stay; old inbox rows go; one
// pass runs at a time.
#include "src/retention.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "conveyor/pg.h"
#include "conveyor/time_format.h"
#include "conveyor/uuid.h"
#include "src/pg_retention_store.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
    char dir[] = "/tmp/conveyor-retention-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    exports_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(exports_); }

  void Sql(const std::string& statement) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(statement);
    tx.commit();
  }
  long Count(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    return tx.exec1(sql)[0].as<long>();
  }
  // A task modified `days` ago; with a run that finished then, or is still live.
  std::string Task(int days, const std::string& run_state = "succeeded",
                   const std::string& deleted = "NULL") {
    auto id = Uuid::Random().ToString();
    std::string at = "now() - interval '" + std::to_string(days) + " days'";
    Sql("INSERT INTO tasks (id, number, task_type_id, enabled, frequency, parameters, "
        "content_type, notification, created_at, modified_at, last_event_id, deleted_at) VALUES "
        "('" +
        id + "', " + std::to_string(++number_) +
        ", '00000000-0000-0000-0000-000000000001', true, 'NONE', '{}', 'application/json', "
        "'NONE', " +
        at + ", " + at + ", '" + Uuid::Random().ToString() + "', " + deleted + ")");
    if (!run_state.empty())
      Sql("INSERT INTO runs (id, task_id, state, queued_at, finished_at) VALUES ('" +
          Uuid::Random().ToString() + "', '" + id + "', '" + run_state + "', " + at + ", " +
          (run_state == "started" ? std::string("NULL") : at) + ")");
    return id;
  }
  long Tasks(const std::string& id) {
    return Count("SELECT count(*) FROM tasks WHERE id = '" + id + "'");
  }

  testing::ScratchDatabase db_;
  PgPool pool_{db_.url(), 4};
  PgRetentionStore store_{pool_};
  SystemClock clock_;
  std::string exports_;
  long number_ = 5000;
};

TEST_F(RetentionTest, DoneTasksOlderThanTheRetentionGoWithTheirRunsAndTheRestStays) {
  auto old_done = Task(40);
  auto old_failed = Task(40, "failed");
  auto old_deleted = Task(40, "", "now() - interval '35 days'");
  auto recent_done = Task(5);
  auto old_but_running = Task(40, "started");
  auto old_never_run = Task(40, "");
  auto old_recurring = Task(40);
  Sql("INSERT INTO schedules (task_id, next_due_at) VALUES ('" + old_recurring +
      "', now() + interval '1 day')");
  Sql("INSERT INTO task_notes (id, task_id, text, created_at, event_id) VALUES (1, '" + old_done +
      "', 'a note', now(), '" + Uuid::Random().ToString() + "')");
  Janitor janitor(store_, clock_, {}, {});
  auto pass = janitor.RunOnce();
  ASSERT_TRUE(pass.has_value()) << pass.error().Describe();
  EXPECT_TRUE(pass->ran);
  EXPECT_EQ(pass->tasks, 3u);
  for (const auto& gone : {old_done, old_failed, old_deleted}) EXPECT_EQ(Tasks(gone), 0) << gone;
  for (const auto& kept : {recent_done, old_but_running, old_never_run, old_recurring})
    EXPECT_EQ(Tasks(kept), 1) << kept;
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE task_id NOT IN (SELECT id FROM tasks)"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM task_notes"), 0);
}

// With a task-state topic, a done task that retention removes leaves the topic too: a
// tombstone on its key; a deleted task had its tombstone when it was deleted.
TEST_F(RetentionTest, ADoneTaskItRemovesGetsATombstoneOnTheStateTopicAndADeletedOneNoSecond) {
  auto old_done = Task(40);
  auto old_deleted = Task(40, "", "now() - interval '35 days'");
  PgRetentionStore stated(pool_, TaskStateSettings{"tasks", "/conveyor/worker/w1", ""});
  Janitor janitor(stated, clock_, {}, {});
  auto pass = janitor.RunOnce();
  ASSERT_TRUE(pass.has_value()) << pass.error().Describe();
  EXPECT_EQ(pass->tasks, 2u);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE topic = 'tasks' AND key = '" + old_done +
                  "' AND payload IS NULL"),
            1);
  EXPECT_EQ(Tasks(old_deleted), 0);
}

TEST_F(RetentionTest, BatchesAreRepeatedUntilNothingOldIsLeft) {
  for (int i = 0; i < 25; ++i) Task(40);
  RetentionPolicy policy;
  policy.batch = 10;
  Janitor janitor(store_, clock_, policy, {});
  auto pass = janitor.RunOnce();
  ASSERT_TRUE(pass.has_value());
  EXPECT_EQ(pass->tasks, 25u);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(RetentionTest, InboxRowsOlderThanTheirRetentionGo) {
  for (int days : {10, 8, 2}) {
    Sql("INSERT INTO inbox (event_id, type, subject, source, event_time, payload, kafka_topic, "
        "kafka_partition, kafka_offset, applied_at) VALUES ('" +
        Uuid::Random().ToString() +
        "', 't', 's', 'src', now(), '{}', 'c', 0, 0, now() - interval '" + std::to_string(days) +
        " days')");
  }
  Janitor janitor(store_, clock_, {}, {});
  auto pass = janitor.RunOnce();
  ASSERT_TRUE(pass.has_value());
  EXPECT_EQ(pass->inbox_rows, 2u);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox"), 1);
}

TEST_F(RetentionTest, ExportFilesOlderThanTheRetentionGoAndOtherFilesStay) {
  auto old_export = exports_ + "/42-6b1f3c2e-0000-4000-8000-000000000042.csv";
  auto new_export = exports_ + "/43-6b1f3c2e-0000-4000-8000-000000000043.csv";
  auto not_ours = exports_ + "/notes.csv";
  for (const auto& f : {old_export, new_export, not_ours}) std::ofstream(f) << "a,b\n";
  auto forty_days_ago = std::filesystem::file_time_type::clock::now() - 40 * 24h;
  std::filesystem::last_write_time(old_export, forty_days_ago);
  std::filesystem::last_write_time(not_ours, forty_days_ago);
  Janitor janitor(store_, clock_, {}, {exports_});
  auto pass = janitor.RunOnce();
  ASSERT_TRUE(pass.has_value());
  EXPECT_EQ(pass->export_files, 1u);
  EXPECT_FALSE(std::filesystem::exists(old_export));
  EXPECT_TRUE(std::filesystem::exists(new_export));
  EXPECT_TRUE(std::filesystem::exists(not_ours));
}

TEST_F(RetentionTest, ARetentionOfZeroKeepsEverythingAndOnePassRunsAtATime) {
  auto old_done = Task(400);
  RetentionPolicy forever;
  forever.finished_tasks = 0h;
  forever.inbox = 0h;
  Janitor keeper(store_, clock_, forever, {});
  ASSERT_TRUE(keeper.RunOnce().has_value());
  EXPECT_EQ(Tasks(old_done), 1);
  // While another worker's pass holds the lock, this one does nothing.
  pqxx::connection other(db_.url());
  pqxx::nontransaction tx(other);
  ASSERT_TRUE(tx.exec1("SELECT pg_try_advisory_lock(x'436f6e7652657431'::bigint)")[0].as<bool>());
  Janitor janitor(store_, clock_, {}, {});
  auto pass = janitor.RunOnce();
  ASSERT_TRUE(pass.has_value());
  EXPECT_FALSE(pass->ran);
  EXPECT_EQ(Tasks(old_done), 1);
}

}  // namespace
}  // namespace conveyor

// The journal (worker/src/journal.h, migration 0018) against a real PostgreSQL server, and its
// replay by PgRebuildStore (label: integration): which changes a worker's session records, what
// the relay makes of a record, and that a record written back gives the row it was taken from.
#include "src/journal.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"
#include "conveyor/json_schema.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "src/pg_outbox_store.h"
#include "src/pg_rebuild_store.h"
#include "src/pg_retention_store.h"
#include "src/pg_task_store.h"
#include "support/commands.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

constexpr char kJournal[] = "journal";

class Journal : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }

  static IncomingCommand Create(std::int64_t offset) {
    static std::int64_t next_number = 1;
    Task t;
    t.id = Uuid::Random();
    t.number = next_number++;
    t.task_type_id = NoopTaskTypeId();
    t.parameters = "{}";
    t.content_type = "application/json";
    t.created_at = *ParseDateTime("2026-12-05T10:00:00Z");
    auto c = testing::CreateCommandOf(t);
    c.offset = offset;
    return c;
  }

  // A command of `kind` for `c`'s task at `offset` (a cancel or a delete).
  static IncomingCommand Of(const IncomingCommand& c, CommandKind kind, std::string_view type,
                            std::int64_t offset) {
    IncomingCommand o = c;
    o.kind = kind;
    o.event.id = Uuid::Random();
    o.event.type = type;
    o.requested_by = "tester";
    o.offset = offset;
    return o;
  }

  // The journal rows of the outbox, oldest first: (type, payload).
  std::vector<std::pair<std::string, nlohmann::json>> Records() {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& r : tx.exec("SELECT event_type, payload FROM outbox "
                                 "WHERE event_type IS NOT NULL ORDER BY id"))
      out.emplace_back(r[0].c_str(), nlohmann::json::parse(r[1].c_str()));
    return out;
  }

  // Starts the run of `c`, as a worker does.
  StartedRun Start(const IncomingCommand& c, Timestamp now) {
    auto pending = store_.FindPendingRuns({c.event.id});
    EXPECT_TRUE(pending.has_value() && pending->size() == 1u);
    auto started = store_.StartRuns(*pending, "w1", now, 15s);
    EXPECT_TRUE(started.has_value() && (*started)[0].has_value());
    return *(*started)[0];
  }

  testing::ScratchDatabase db_;
  PgPool pool_{db_.url(), 2, {{kJournalTopicSetting, kJournal}}};
  SystemClock clock_;
  PgTaskStore store_{pool_, TaskStateSettings{"", "/conveyor/worker/w1", kJournal}, &clock_};
};

TEST_F(Journal, EachChangeOfARunIsRecordedWithTheTasksLastCommandButAHeartbeatAlone) {
  auto c = Create(41);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto now = *ParseDateTime("2026-12-05T10:00:01Z");
  auto run = Start(c, now);
  ASSERT_TRUE(store_.Heartbeat({{c.event.id, 1, std::nullopt, ""}}, now + 1s, {}).has_value());
  ASSERT_TRUE(store_.Heartbeat({{c.event.id, 1, 50, "half"}}, now + 2s, {}).has_value());
  FinishedRun f{run, RunOutcome{RunState::kSucceeded, "done", now + 3s, std::nullopt, {}},
                std::nullopt};
  ASSERT_TRUE(store_.FinishRuns({f}).has_value());

  auto records = Records();
  ASSERT_EQ(records.size(), 4u);  // queued, started, 50 %, succeeded: the bare heartbeat is not
  std::vector<std::string> states;
  for (const auto& [type, data] : records) {
    EXPECT_EQ(type, kRunRecordedEvent);
    EXPECT_EQ(data["command_offset"], 41);
    EXPECT_EQ(data["row"]["id"], c.event.id.ToString());
    EXPECT_FALSE(data["row"].contains("heartbeat_at"));
    states.push_back(data["row"]["state"]);
  }
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "started", "started", "succeeded"}));
  EXPECT_EQ(records[2].second["row"]["progress_percent"], 50);
  EXPECT_EQ(records[3].second["row"]["result"], "done");
}

TEST_F(Journal, ASessionThatNamesNoTopicRecordsNothing) {
  PgPool plain(db_.url(), 1);
  PgTaskStore store(plain, {}, &clock_);
  ASSERT_TRUE(store.ApplyBatch({Create(7)}).has_value());
  EXPECT_TRUE(Records().empty());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM runs"), 1);
}

TEST_F(Journal, RetentionsRemovalOfATaskIsRecordedAsAPurge) {
  auto c = Create(9);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  ASSERT_TRUE(store_.ApplyBatch({Of(c, CommandKind::kDelete, kTaskDeleteCommand, 10)}).has_value());
  PgRetentionStore retention(pool_);
  auto deleted = retention.DeleteDoneTasks(*ParseDateTime("2999-01-01T00:00:00Z"), 100);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().Describe();
  ASSERT_EQ(*deleted, 1u);
  auto records = Records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().first, kTaskPurgedEvent);
  EXPECT_EQ(records.back().second["task_id"], c.task.id.ToString());
  EXPECT_EQ(records.back().second["command_offset"], 10);
}

// A stop names the command that asked for it: the replay applies the run's record after it.
TEST_F(Journal, ARecordOfAStopNamesTheStopsOffset) {
  auto c = Create(41);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  ASSERT_TRUE(store_.ApplyBatch({Of(c, CommandKind::kCancel, kTaskCancelCommand, 42)}).has_value());
  auto records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].second["command_offset"], 41);
  EXPECT_EQ(records[1].second["command_offset"], 42);
  EXPECT_TRUE(records[1].second["row"]["cancel_requested_at"].is_string());
}

// What the relay publishes for a record: a CloudEvent valid against its type's schema, keyed by
// the task, with the same id each time the row is claimed (a relay that died before marking it
// sent publishes it again).
TEST_F(Journal, TheRelayWrapsEachRecordInAnEnvelopeThatItsSchemaAccepts) {
  auto c = Create(3);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  PgOutboxStore outbox(pool_, "/conveyor/worker/w1");
  std::vector<std::string> ids;
  for (int claim = 0; claim < 2; ++claim) {
    auto claimed = outbox.ClaimUnsent(
        10, [&](const std::vector<OutboxRow>& rows) -> std::vector<std::int64_t> {
          EXPECT_EQ(rows.size(), 1u);
          for (const auto& row : rows) {
            EXPECT_EQ(row.message.topic, kJournal);
            EXPECT_EQ(row.message.key, c.task.id.ToString());
            auto event = CloudEvent::Parse(row.message.value);
            EXPECT_TRUE(event.has_value()) << row.message.value;
            if (!event) continue;
            ids.push_back(event->id.ToString());
            EXPECT_EQ(event->type, kRunRecordedEvent);
            auto schema = JsonSchema::Embedded("events/conveyor.run.recorded.json");
            EXPECT_TRUE(schema.has_value());
            if (!schema) continue;
            auto valid = schema->Validate(nlohmann::json::parse(row.message.value));
            EXPECT_TRUE(valid.has_value()) << valid.error().Describe() << "\n" << row.message.value;
          }
          return {};  // none acknowledged: the row stays unsent
        });
    ASSERT_TRUE(claimed.has_value()) << claimed.error().Describe();
  }
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], ids[1]);
}

// A run's record written into another database by the rebuild gives the row it was taken from.
TEST_F(Journal, ARecordWrittenBackGivesTheRowItWasTakenFrom) {
  auto c = Create(5);
  ASSERT_TRUE(store_.ApplyBatch({c}).has_value());
  auto run = Start(c, *ParseDateTime("2026-12-05T10:00:01Z"));
  FinishedRun f{run,
                RunOutcome{RunState::kFailed, "boom", *ParseDateTime("2026-12-05T10:00:02.5Z"),
                           "out.csv", "the log"},
                std::nullopt};
  ASSERT_TRUE(store_.FinishRuns({f}).has_value());

  testing::ScratchDatabase other;
  PgPool other_pool(other.url(), 1);
  {
    pqxx::connection conn(other.url());
    ASSERT_TRUE(RunMigrations(conn).has_value());
  }
  PgTaskStore other_store(other_pool, {}, &clock_);
  ASSERT_TRUE(other_store.ApplyBatch({c}).has_value());
  PgRebuildStore rebuilt(other_pool);
  std::vector<JournalRecord> records;
  for (const auto& [type, data] : Records()) {
    JournalRecord r;
    r.task_id = c.task.id;
    r.command_offset = data["command_offset"];
    r.key = *Uuid::Parse(data["row"]["id"].get<std::string>());
    r.row = data["row"].dump();
    records.push_back(r);
  }
  ASSERT_EQ(records.size(), 3u);
  ASSERT_TRUE(rebuilt.Apply({records[0]}).has_value());              // queued
  ASSERT_TRUE(rebuilt.Apply({records[1], records[2]}).has_value());  // started, failed: the last
  auto row = [](const std::string& url) {
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    return std::string(
        tx.exec1("SELECT (to_jsonb(r) - 'heartbeat_at')::text FROM runs r")[0].c_str());
  };
  EXPECT_EQ(row(other.url()), row(db_.url()));
}

}  // namespace
}  // namespace conveyor

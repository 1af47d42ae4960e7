// Read your own writes on the real PostgreSQL (label: integration; docs/adr/0006): what a
// producer records of an acknowledged command (PgAcceptedWrites) is what the readers show
// until a worker applied the command (PgTaskStore), whichever of the two writes first, and a
// record never replaces a newer state.
#include "commands/pg_accepted_writes.h"

#include <gtest/gtest.h>

#include "conveyor/pg.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "conveyor/time_format.h"
#include "src/pg_task_store.h"
#include "support/commands.h"
#include "support/services.h"

namespace conveyor {
namespace {

using testing::ScratchDatabase;

class AcceptedWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }

  // A task as its create leaves it, and that create as a worker consumes it at `offset`.
  static AcceptedTask NewTask(std::int64_t offset) {
    static std::int64_t next_number = 5000;
    AcceptedTask a;
    a.task.id = Uuid::TimeOrdered();
    a.task.number = next_number++;
    a.task.task_type_id = NoopTaskTypeId();
    a.task.client_id = Uuid::Random();
    a.task.parameters = R"({"n":1})";
    a.task.content_type = "application/json";
    a.task.name = "accepted";
    a.task.external_refs = {{"contact", 7}};
    a.task.created_at = *ParseDateTime("2026-12-01T10:00:00Z");
    a.task.created_by = "client:x";
    a.modified_at = a.task.created_at;
    a.modified_by = a.task.created_by;
    a.event_id = Uuid::TimeOrdered();
    a.offset = offset;
    return a;
  }
  static IncomingCommand CreateCommand(const AcceptedTask& a) {
    auto c = testing::CreateCommandOf(a.task, a.event_id);
    c.offset = a.offset;
    return c;
  }
  static AcceptedTask Changed(AcceptedTask a, std::int64_t offset, std::string parameters) {
    a.task.parameters = std::move(parameters);
    a.offset = offset;
    a.event_id = Uuid::TimeOrdered();
    a.modified_at = a.modified_at + std::chrono::seconds(1);
    return a;
  }
  std::optional<TaskView> Find(const Uuid& id) {
    auto v = reader_.FindTask(id);
    EXPECT_TRUE(v.has_value()) << v.error().Describe();
    return v ? *v : std::nullopt;
  }
  long long Count(const std::string& sql) const { return db_.Count(sql); }

  ScratchDatabase db_;
  PgPool pool_{db_.url(), 2};
  PgAcceptedWrites accepted_{pool_};
  PgTaskReader reader_{pool_};
  PgTaskStore store_{pool_};
};

TEST_F(AcceptedWritesTest, RecordedCreateIsFoundListedAndCountedBeforeAnyWorkerAppliedIt) {
  auto a = NewTask(10);
  ASSERT_TRUE(accepted_.Record({a}, {}).has_value());
  auto by_id = Find(a.task.id);
  ASSERT_TRUE(by_id.has_value());
  EXPECT_EQ(by_id->task.parameters, R"({"n":1})");
  EXPECT_EQ(by_id->task.external_refs, a.task.external_refs);
  EXPECT_EQ(by_id->task.client_id, a.task.client_id);
  // No worker queued its run yet: it shows as queued, never started.
  ASSERT_TRUE(by_id->last_run.has_value());
  EXPECT_EQ(by_id->last_run->state, RunState::kQueued);
  EXPECT_EQ(by_id->last_run->start_count, 0);
  auto by_number = reader_.FindTaskByNumber(a.task.number);
  ASSERT_TRUE(by_number.has_value() && by_number->has_value());
  auto page = reader_.ListTasks(a.task.client_id, 0, 10);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  ASSERT_EQ(page->tasks.size(), 1u);
  EXPECT_EQ(page->total, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(AcceptedWritesTest, WorkerApplyingTheCommandTakesOverAndForgetsTheRecord) {
  auto a = NewTask(10);
  ASSERT_TRUE(accepted_.Record({a}, {}).has_value());
  auto applied = store_.ApplyBatch({CreateCommand(a)});
  ASSERT_TRUE(applied.has_value()) << applied.error().Describe();
  EXPECT_EQ(Count("SELECT count(*) FROM accepted_tasks"), 0);
  auto v = Find(a.task.id);
  ASSERT_TRUE(v.has_value());
  ASSERT_TRUE(v->last_run.has_value());  // the worker's run
  EXPECT_EQ(Count("SELECT command_offset FROM tasks"), 10);
}

// A producer and a worker write a task's columns with one function (AddTaskColumns): a create
// with every field set is recorded as the row the worker then writes for it, column by
// column, but the columns a create leaves to the table's defaults (the worker) or sets from
// the command (the producer: modified_*).
TEST_F(AcceptedWritesTest, ARecordedCreateHoldsEveryColumnAsTheWorkerWritesIt) {
  auto a = NewTask(10);
  a.task.frequency = Frequency::kDaily;
  a.task.start_date = *ParseDateTime("2026-12-02T08:00:00Z");
  a.task.finish_date = *ParseDateTime("2027-01-02T08:00:00Z");
  a.task.notification = TaskNotification::kSuccess;
  a.task.priority = 3;
  a.task.due_time = *ParseDateTime("2026-12-03T08:00:00.000250Z");
  a.task.planned_completion_time = *ParseDateTime("2026-12-04T08:00:00Z");
  a.task.associate_id = 42;
  a.task.description = "described";
  a.task.request = "<request/>";
  a.task.schedule.recurrence = "FREQ=DAILY;BYHOUR=8";
  a.task.schedule.time_zone = "Europe/Oslo";
  a.task.schedule.catch_up = CatchUp::kAll;
  a.task.schedule.catch_up_limit = 5;
  ASSERT_TRUE(accepted_.Record({a}, {}).has_value());
  auto row = [&](const std::string& table) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    return nlohmann::json::parse(
        tx.exec1("SELECT (to_jsonb(x) - 'modified_at' - 'modified_by')::text FROM " + table +
                 " x")[0]
            .c_str());
  };
  auto recorded = row("accepted_tasks");
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(a)}).has_value());
  auto applied = row("tasks");
  EXPECT_EQ(recorded, applied);
  EXPECT_EQ(recorded["schedule"]["time_zone"], "Europe/Oslo") << recorded.dump();
  EXPECT_EQ(recorded["priority"], 3) << recorded.dump();
  EXPECT_EQ(recorded["external_refs"]["contact"], 7) << recorded.dump();
}

TEST_F(AcceptedWritesTest, RecordOfACommandAWorkerAppliedFirstIsNotKept) {
  auto a = NewTask(10);
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(a)}).has_value());
  ASSERT_TRUE(accepted_.Record({a}, {}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM accepted_tasks"), 0);
  auto v = Find(a.task.id);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->last_run.has_value());
}

TEST_F(AcceptedWritesTest, LaterCommandReplacesAnEarlierRecordAndNeverTheOtherWayRound) {
  auto a = NewTask(10);
  auto later = Changed(a, 12, R"({"n":3})");
  ASSERT_TRUE(accepted_.Record({later}, {}).has_value());
  ASSERT_TRUE(accepted_.Record({Changed(a, 11, R"({"n":2})")}, {}).has_value());
  EXPECT_EQ(Find(a.task.id)->task.parameters, R"({"n":3})");
  // The worker applies the create (10): the update at 12 it has not applied stays shown.
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(a)}).has_value());
  EXPECT_EQ(Find(a.task.id)->task.parameters, R"({"n":3})");
  EXPECT_EQ(Count("SELECT count(*) FROM accepted_tasks"), 1);
}

// A record the worker's statement raced past stays in accepted_tasks, but the projection's
// newer row is what readers see.
TEST_F(AcceptedWritesTest, ProjectionHoldingALaterCommandWinsOverAStaleRecord) {
  auto a = NewTask(10);
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(a)}).has_value());
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec0("UPDATE tasks SET command_offset = 20, parameters = '{\"n\":9}'");
    tx.exec0(
        "INSERT INTO accepted_tasks SELECT * FROM tasks; "
        "UPDATE accepted_tasks SET command_offset = 15, parameters = '{\"n\":5}'");
    tx.commit();
  }
  EXPECT_EQ(Find(a.task.id)->task.parameters, R"({"n":9})");
  auto page = reader_.ListTasks(std::nullopt, 0, 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->tasks.size(), 1u);
  EXPECT_EQ(page->total, 1);
}

// The sequential scans of `table` that the one connection of `pool` has made so far. Its
// backend flushes its pending statistics when it goes idle after pg_stat_force_next_flush(),
// and the next statement, a transaction of its own, reads them.
long long SeqScansBy(PgPool& pool, const std::string& table) {
  auto lease = pool.Acquire();
  EXPECT_TRUE(lease.has_value()) << lease.error().Describe();
  pqxx::nontransaction tx(**lease);
  tx.exec("SELECT pg_stat_force_next_flush()");
  return tx.exec1("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = " + tx.quote(table))[0]
      .as<long long>();
}

TEST_F(AcceptedWritesTest, RecordsLookIntoTasksByKeyWhenItHoldsTensOfThousandsOfTasks) {
  // The size at which the planner used to read all of tasks for each group of records
  // (bench/README.md, "The accepted record's look into tasks"), with fresh statistics.
  {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction tx(conn);
    tx.exec_params(
        "INSERT INTO tasks (id, number, task_type_id, enabled, frequency, parameters, "
        "content_type, notification, created_at, modified_at, last_event_id) "
        "SELECT gen_random_uuid(), 1000000 + g, $1::uuid, false, 'NONE', '{}', "
        "'application/json', 'NONE', now(), now(), gen_random_uuid() "
        "FROM generate_series(1, 60000) g",
        NoopTaskTypeId().ToString());
    tx.exec("ANALYZE tasks");
  }
  PgPool one(db_.url(), 1);
  PgAcceptedWrites writes(one);
  std::vector<AcceptedTask> group;
  for (int i = 0; i < 700; ++i) group.push_back(NewTask(i));
  auto before = SeqScansBy(one, "tasks");
  ASSERT_TRUE(writes.Record(group, {}).has_value());
  EXPECT_EQ(SeqScansBy(one, "tasks"), before) << "the records' look into tasks read all of it";
  EXPECT_EQ(Count("SELECT count(*) FROM accepted_tasks"), 700);
}

TEST_F(AcceptedWritesTest, RecordedDeleteHidesTheTaskAtOnce) {
  auto a = NewTask(10);
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(a)}).has_value());
  auto deleted = Changed(a, 11, a.task.parameters);
  deleted.deleted_at = deleted.modified_at;
  deleted.deleted_by = "client:x";
  ASSERT_TRUE(accepted_.Record({deleted}, {}).has_value());
  EXPECT_FALSE(Find(a.task.id).has_value());
  auto page = reader_.ListTasks(std::nullopt, 0, 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->tasks.empty());
}

TEST_F(AcceptedWritesTest, RecordedNoteIsListedOnceBeforeAndAfterTheWorkerAppliedIt) {
  auto a = NewTask(10);
  TaskNote note{77, a.task.id, "called back", a.task.created_at, "client:x"};
  ASSERT_TRUE(accepted_.Record({a}, {{note, Uuid::TimeOrdered()}}).has_value());
  auto before = reader_.ListNotes(a.task.id, 0, 100);
  ASSERT_TRUE(before.has_value()) << before.error().Describe();
  ASSERT_EQ(before->notes.size(), 1u);
  EXPECT_EQ(before->notes[0].text, "called back");
  EXPECT_EQ(reader_.FindNote(a.task.id, 77)->value().text, "called back");
  IncomingCommand add = CreateCommand(a);
  add.kind = CommandKind::kAddNote;
  add.event.id = Uuid::TimeOrdered();
  add.event.type = kTaskNoteAddCommand;
  add.note = note;
  add.offset = 11;
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(a), add}).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM accepted_notes"), 0);
  auto after = reader_.ListNotes(a.task.id, 0, 100);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->notes.size(), 1u);
  EXPECT_EQ(after->total, 1);
}

TEST_F(AcceptedWritesTest, NotesArePagedInTheDatabaseWithTheTotalOnEveryPage) {
  auto a = NewTask(10);
  std::vector<AcceptedNote> notes;
  for (int i = 1; i <= 5; ++i)
    notes.push_back(
        {TaskNote{100 + i, a.task.id, "note " + std::to_string(i), a.task.created_at, "client:x"},
         Uuid::TimeOrdered()});
  ASSERT_TRUE(accepted_.Record({a}, notes).has_value());
  auto page = reader_.ListNotes(a.task.id, 1, 2);
  ASSERT_TRUE(page.has_value()) << page.error().Describe();
  ASSERT_EQ(page->notes.size(), 2u);
  EXPECT_EQ(page->notes[0].id, 102);
  EXPECT_EQ(page->notes[1].id, 103);
  EXPECT_EQ(page->total, 5);
  auto past_the_end = reader_.ListNotes(a.task.id, 10, 2);
  ASSERT_TRUE(past_the_end.has_value());
  EXPECT_TRUE(past_the_end->notes.empty());
  EXPECT_EQ(past_the_end->total, 5);
}

// current_tasks puts tasks and accepted_tasks together column by column: a migration that
// adds a column to tasks must add it to accepted_tasks and recreate the view.
TEST_F(AcceptedWritesTest, TasksAcceptedTasksAndTheViewHaveTheSameColumnsInOrder) {
  pqxx::connection conn(db_.url());
  pqxx::read_transaction tx(conn);
  auto columns = [&](const std::string& table) {
    std::vector<std::string> out;
    for (const auto& r :
         tx.exec_params("SELECT column_name || ' ' || data_type FROM information_schema.columns "
                        "WHERE table_name = $1 ORDER BY ordinal_position",
                        table))
      out.push_back(r[0].c_str());
    return out;
  };
  auto tasks = columns("tasks");
  EXPECT_GT(tasks.size(), 20u);
  EXPECT_EQ(columns("accepted_tasks"), tasks);
  EXPECT_EQ(columns("current_tasks"), tasks);
}

// CreateRedrive's evidence (create_redrive.h): of these, only the create that no worker read.
TEST_F(AcceptedWritesTest,
       UnappliedCreatesAreRecordsNoWorkerMadeNorReadNotDeletedNorExcludedInTheirTimes) {
  auto lost = NewTask(10);
  auto applied = NewTask(11);
  auto deleted = NewTask(12);
  deleted.deleted_at = deleted.modified_at;
  deleted.deleted_by = "client:x";
  auto read = NewTask(13);  // its command reached a worker, which made no task of it
  auto recent = NewTask(14);
  recent.modified_at = recent.modified_at + std::chrono::hours(1);
  ASSERT_TRUE(accepted_.Record({lost, applied, deleted, read, recent}, {}).has_value());
  ASSERT_TRUE(store_.ApplyBatch({CreateCommand(applied)}).has_value());
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec_params0(
        "INSERT INTO inbox (event_id, type, subject, source, event_time, payload, kafka_topic,"
        " kafka_partition, kafka_offset) VALUES ($1, 'conveyor.task.update', $2, '/t', now(),"
        " '{}', 'commands', 0, 13)",
        read.event_id.ToString(), read.task.id.ToString());
    tx.commit();
  }
  auto excluded = NewTask(15);
  ASSERT_TRUE(accepted_.Record({excluded}, {}).has_value());
  auto old = NewTask(16);
  old.modified_at = old.modified_at - std::chrono::hours(2);
  ASSERT_TRUE(accepted_.Record({old}, {}).has_value());
  const auto at = lost.modified_at;
  UnappliedQuery query{
      at - std::chrono::hours(1), at + std::chrono::minutes(30), {excluded.task.id}, 10};
  auto found = accepted_.Unapplied(query);
  ASSERT_TRUE(found.has_value()) << found.error().Describe();
  ASSERT_EQ(found->size(), 1u);
  const auto& f = found->front();
  EXPECT_EQ(f.task.id, lost.task.id);
  EXPECT_EQ(f.task.number, lost.task.number);
  EXPECT_EQ(f.task.parameters, lost.task.parameters);
  EXPECT_EQ(f.task.external_refs, lost.task.external_refs);
  EXPECT_EQ(f.task.created_at, lost.task.created_at);
  EXPECT_EQ(f.event_id, lost.event_id);
  EXPECT_EQ(f.offset, 10);
  EXPECT_EQ(f.modified_at, lost.modified_at);
  query.before = at;
  auto none = accepted_.Unapplied(query);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty()) << "recorded at the very time asked: not before it";
}

}  // namespace
}  // namespace conveyor

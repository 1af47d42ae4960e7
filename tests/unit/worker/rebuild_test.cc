// Rebuild (worker/src/rebuild.h) on the in-memory store: where each journal record falls
// between its task's commands, and what a replay leaves out (running handlers, dead letters).
#include "src/rebuild.h"

#include <gtest/gtest.h>

#include <tuple>

#include "unit/worker/engine_fixture.h"

namespace conveyor {
namespace {

// Applies nothing; remembers each record with how many commands were applied before it.
class RecordingRebuildStore final : public RebuildStore {
 public:
  explicit RecordingRebuildStore(const testing::FakeTaskStore& commands) : commands_(commands) {}
  Status CheckEmpty() override { return {}; }
  Status Apply(const std::vector<JournalRecord>& records) override {
    for (const auto& r : records)
      applied.push_back({nlohmann::json::parse(r.row).value("state", ""), commands_.inbox.size()});
    return {};
  }
  Status Finish() override {
    finished = true;
    return {};
  }

  std::vector<std::pair<std::string, std::size_t>> applied;  // (the run's state, commands before)
  bool finished = false;

 private:
  const testing::FakeTaskStore& commands_;
};

class RebuildTest : public CommandProcessorTest {
 protected:
  // A conveyor.run.recorded message of `task`'s `run`, written after its command at `after`.
  static ConsumedMessage Record(const std::string& task, const std::string& run, std::int64_t after,
                                const std::string& state) {
    auto m = JournalMessage(
        std::string(kRunRecordedEvent), "journal", task,
        nlohmann::json{{"row", {{"id", run}, {"state", state}}}, {"command_offset", after}}.dump(),
        after, Timestamp{}, "/test");
    return ConsumedMessage{"journal", 0, after, m.key, m.value, m.headers};
  }

  RecordingRebuildStore rebuilt_{store_};
};

// The run's records are applied after the command they name and before the task's next one;
// of two records of the same run with no command between them, only the later is.
TEST_F(RebuildTest, EachRecordIsAppliedAfterTheCommandItNamesAndBeforeTheTasksNextOne) {
  auto create = CreateCommand(TaskNotification::kNone, 5);
  auto task = create.key;
  auto stop = CancelCommand(task, 9);
  BatchTaskUpdate run_again;
  run_again.run_change = BatchTaskUpdate::RunChange::kRunAgain;
  auto again = BatchUpdateCommand(task, run_again, 12);
  auto first = Uuid::Random().ToString(), second = Uuid::Random().ToString();
  Rebuild rebuild(*processor_, rebuilt_);
  for (const auto& [after, run, state] :
       std::vector<std::tuple<int, std::string, std::string>>{{5, first, "queued"},
                                                              {5, first, "started"},
                                                              {9, first, "cancelled"},
                                                              {12, second, "queued"},
                                                              {12, second, "succeeded"}})
    ASSERT_TRUE(rebuild.AddRecord(Record(task, run, after, state)).has_value());
  for (const auto& m : {create, stop, again}) ASSERT_TRUE(rebuild.ReplayCommand(m).has_value());
  ASSERT_TRUE(rebuild.Finish().has_value());

  using Applied = std::vector<std::pair<std::string, std::size_t>>;
  EXPECT_EQ(rebuilt_.applied, (Applied{{"started", 1}, {"cancelled", 2}, {"succeeded", 3}}));
  EXPECT_TRUE(rebuilt_.finished);
  EXPECT_EQ(rebuild.report().commands, 3u);
  EXPECT_EQ(rebuild.report().applied, 3u);
  EXPECT_EQ(rebuild.report().records, 3u);
}

// A recurring task's records interleave runs and due times; each row's earlier record since
// the last command gives way to its later one, wherever it stands.
TEST_F(RebuildTest, EarlierRecordsOfARowSinceTheLastCommandGiveWayToTheLaterOne) {
  auto create = CreateCommand(TaskNotification::kNone, 5);
  auto task = create.key;
  auto first = Uuid::Random().ToString(), second = Uuid::Random().ToString();
  Rebuild rebuild(*processor_, rebuilt_);
  for (const auto& [run, state] : std::vector<std::pair<std::string, std::string>>{
           {first, "queued"}, {second, "queued"}, {first, "succeeded"}, {second, "failed"}})
    ASSERT_TRUE(rebuild.AddRecord(Record(task, run, 5, state)).has_value());
  ASSERT_TRUE(rebuild.ReplayCommand(create).has_value());
  ASSERT_TRUE(rebuild.Finish().has_value());
  using Applied = std::vector<std::pair<std::string, std::size_t>>;
  EXPECT_EQ(rebuilt_.applied, (Applied{{"succeeded", 1}, {"failed", 1}}));
}

// A command refused when it was first applied is refused again, counted, and the replay goes
// on with the next.
TEST_F(RebuildTest, ACommandRefusedAgainIsCountedAndTheReplayGoesOn) {
  UnsentDeadLetters dead_letters;
  auto processor = CommandProcessor::Create({"dlq"}, store_, dead_letters);
  ASSERT_TRUE(processor.has_value());
  Rebuild rebuild(*processor, rebuilt_);
  ConsumedMessage garbage{"commands", 0, 3, "not-a-task", "{not json", {}};
  ASSERT_TRUE(rebuild.ReplayCommand(garbage).has_value());
  ASSERT_TRUE(rebuild.ReplayCommand(CreateCommand(TaskNotification::kNone, 4)).has_value());
  ASSERT_TRUE(rebuild.Finish().has_value());
  EXPECT_EQ(rebuild.report().dead_lettered, 1u);
  EXPECT_EQ(rebuild.report().applied, 1u);
  EXPECT_EQ(store_.tasks.size(), 1u);
}

TEST_F(RebuildTest, AJournalMessageThatIsNotARecordStopsTheRebuildNamingWhere) {
  Rebuild rebuild(*processor_, rebuilt_);
  auto added = rebuild.AddRecord(ConsumedMessage{"journal", 2, 17, "k", "{}", {}});
  ASSERT_FALSE(added.has_value());
  EXPECT_NE(added.error().message.find("journal partition 2 offset 17"), std::string::npos)
      << added.error().message;
}

}  // namespace
}  // namespace conveyor

#include "src/command_processor.h"

#include <gtest/gtest.h>

#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "support/fakes.h"

namespace conveyor {
namespace {

using testing::FakeTaskStore;
using testing::RecordingPublisher;

class CommandProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.known_types.insert(NoopTaskTypeId());
    auto p = CommandProcessor::Create({"worker-a", "/test", "dlq", "notifications", {}}, store_,
                                      handlers_, publisher_, clock_);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    processor_.emplace(std::move(*p));
  }

  ConsumedMessage CreateCommand(TaskNotification notification, std::int64_t offset,
                                Uuid type = NoopTaskTypeId()) {
    Task t;
    t.id = Uuid::Random();
    t.number = 1000 + offset;
    t.task_type_id = type;
    t.parameters = "{}";
    t.content_type = "application/json";
    t.notification = notification;
    t.created_at = clock_.Now();
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.type = kTaskCreateCommand;
    e.subject = t.id.ToString();
    e.time = t.created_at;
    e.data = TaskToEventData(t);
    return ConsumedMessage{"commands", 0, offset, e.subject, e.Serialize(), {}};
  }

  std::string Header(const OutgoingMessage& m, const std::string& name) {
    for (const auto& [k, v] : m.headers)
      if (k == name) return v;
    return "<absent>";
  }

  FakeClock clock_{*ParseDateTime("2026-11-22T10:00:00Z")};
  FakeTaskStore store_;
  HandlerRegistry handlers_ = HandlerRegistry::WithBuiltins();
  RecordingPublisher publisher_;
  std::optional<CommandProcessor> processor_;
};

TEST_F(CommandProcessorTest, CreateRunsTheTaskOnceAndWritesTheSucceededNotification) {
  auto m = CreateCommand(TaskNotification::kSuccess, 0);
  auto report = processor_->Process({m});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->applied, 1u);
  EXPECT_EQ(report->runs_finished, 1u);
  ASSERT_EQ(store_.runs.size(), 1u);
  const auto& run = store_.runs.begin()->second;
  EXPECT_EQ(run.state, RunState::kSucceeded);
  EXPECT_EQ(run.start_count, 1);
  ASSERT_EQ(store_.outbox.size(), 1u);
  auto event = CloudEvent::Parse(store_.outbox[0].value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, kRunSucceededEvent);
  EXPECT_EQ(event->subject, m.key);
  EXPECT_EQ(store_.outbox[0].key, m.key);
  EXPECT_EQ(store_.outbox[0].topic, "notifications");
}

TEST_F(CommandProcessorTest, NotificationNoneWritesNoNotification) {
  ASSERT_TRUE(processor_->Process({CreateCommand(TaskNotification::kNone, 0)}).has_value());
  EXPECT_EQ(store_.runs.begin()->second.state, RunState::kSucceeded);
  EXPECT_TRUE(store_.outbox.empty());
}

TEST_F(CommandProcessorTest, FailureOnlyPolicyIgnoresSuccess) {
  ASSERT_TRUE(processor_->Process({CreateCommand(TaskNotification::kFailure, 0)}).has_value());
  EXPECT_TRUE(store_.outbox.empty());
}

TEST_F(CommandProcessorTest, RedeliveredEventChangesNothing) {
  auto m = CreateCommand(TaskNotification::kCompletion, 0);
  ASSERT_TRUE(processor_->Process({m}).has_value());
  auto again = processor_->Process({m});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->duplicates, 1u);
  EXPECT_EQ(again->runs_finished, 0u);
  EXPECT_EQ(store_.tasks.size(), 1u);
  ASSERT_EQ(store_.runs.size(), 1u);
  EXPECT_EQ(store_.runs.begin()->second.start_count, 1);
  EXPECT_EQ(store_.outbox.size(), 1u);
}

TEST_F(CommandProcessorTest, RunCutOffByACrashIsStartedAgainOnRedelivery) {
  auto m = CreateCommand(TaskNotification::kSuccess, 0);
  auto command = processor_->Decode(m);
  ASSERT_TRUE(command.has_value());
  // The first owner applied the event and started the run, then died.
  ASSERT_TRUE(store_.ApplyBatch({*command}).has_value());
  auto& run = store_.runs.at(command->event.id);
  run.state = RunState::kStarted;
  run.start_count = 1;

  auto report = processor_->Process({m});
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->duplicates, 1u);
  EXPECT_EQ(report->runs_finished, 1u);
  EXPECT_EQ(run.state, RunState::kSucceeded);
  EXPECT_EQ(run.start_count, 2);
  EXPECT_EQ(store_.outbox.size(), 1u);
}

TEST_F(CommandProcessorTest, PoisonMessagesGoToTheDeadLetterTopicAndTheBatchMovesOn) {
  auto good = CreateCommand(TaskNotification::kNone, 3);
  auto wrong_schema = nlohmann::json::parse(CreateCommand(TaskNotification::kNone, 1).value);
  wrong_schema["data"]["frequency"] = "HOURLY";
  std::vector<ConsumedMessage> batch = {
      {"commands", 2, 0, "k", "not json at all", {{"trace", "t1"}}},
      {"commands", 2, 1, "k", wrong_schema.dump(), {}},
      CreateCommand(TaskNotification::kNone, 2, /*type=*/Uuid::Random()),
      good,
  };
  auto report = processor_->Process(batch);
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->dead_lettered, 3u);
  EXPECT_EQ(report->applied, 1u);
  auto dlq = publisher_.On("dlq");
  ASSERT_EQ(dlq.size(), 3u);
  EXPECT_EQ(dlq[0].value, "not json at all");
  EXPECT_EQ(Header(dlq[0], kDlqReasonHeader), "the message is not JSON");
  EXPECT_EQ(Header(dlq[0], "trace"), "t1");
  EXPECT_EQ(Header(dlq[0], kDlqOriginTopicHeader), "commands");
  EXPECT_EQ(Header(dlq[0], kDlqOriginPartitionHeader), "2");
  EXPECT_EQ(Header(dlq[0], kDlqOriginOffsetHeader), "0");
  EXPECT_NE(Header(dlq[1], kDlqReasonHeader).find("/data/frequency"), std::string::npos);
  EXPECT_EQ(Header(dlq[2], kDlqReasonHeader), "task type is not registered");
  EXPECT_EQ(store_.tasks.size(), 1u);
  EXPECT_TRUE(store_.tasks.contains(*Uuid::Parse(good.key)));
}

TEST_F(CommandProcessorTest, DeadLetterTopicUnreachableFailsTheBatchSoNothingIsCommitted) {
  publisher_.fail_next = true;
  auto report = processor_->Process({{"commands", 0, 0, "k", "garbage", {}}});
  ASSERT_FALSE(report.has_value());
  EXPECT_TRUE(report.error().retryable());
}

}  // namespace
}  // namespace conveyor

// CommandProcessor (with the RunEngine, as the consumer loop drives them) on in-memory fakes:
// decoding, dead-lettering, applying, and what a batch hands over.
#include "src/command_processor.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/files.h"
#include "unit/worker/engine_fixture.h"

namespace conveyor {
namespace {

TEST_F(CommandProcessorTest, CreateRunsTheTaskOnceAndWritesTheSucceededNotification) {
  auto m = CreateCommand(TaskNotification::kSuccess, 0);
  auto report = Process({m});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->applied, 1u);
  EXPECT_EQ(Engine().counters().succeeded, 1u);
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
  ExpectOutboxMatchesSchema();
}

TEST_F(CommandProcessorTest, NotificationNoneWritesNoNotification) {
  ASSERT_TRUE(Process({CreateCommand(TaskNotification::kNone, 0)}).has_value());
  EXPECT_EQ(store_.runs.begin()->second.state, RunState::kSucceeded);
  EXPECT_TRUE(store_.outbox.empty());
}

TEST_F(CommandProcessorTest, FailureOnlyPolicyIgnoresSuccess) {
  ASSERT_TRUE(Process({CreateCommand(TaskNotification::kFailure, 0)}).has_value());
  EXPECT_TRUE(store_.outbox.empty());
}

TEST_F(CommandProcessorTest, RedeliveredEventChangesNothing) {
  auto m = CreateCommand(TaskNotification::kCompletion, 0);
  ASSERT_TRUE(Process({m}).has_value());
  auto again = Process({m});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->duplicates, 1u);
  EXPECT_TRUE(again->runs.empty());
  EXPECT_EQ(Engine().counters().started, 1u);
  EXPECT_EQ(store_.tasks.size(), 1u);
  ASSERT_EQ(store_.runs.size(), 1u);
  EXPECT_EQ(store_.runs.begin()->second.start_count, 1);
  EXPECT_EQ(store_.outbox.size(), 1u);
}

// Both copies' offsets must be reported (as a run's origins, or done), or the partition's
// commits would wait for the forgotten one.
TEST_F(CommandProcessorTest, TwoCopiesOfOneEventInABatchReportBothOrigins) {
  auto m = CreateCommand(TaskNotification::kNone, 0);
  auto command = processor_->Decode(m);
  ASSERT_TRUE(command.has_value());
  ASSERT_TRUE(store_.ApplyBatch({*command}).has_value());  // applied, its run not started
  auto copy = m;
  copy.offset = 1;
  const std::vector<ConsumedMessage> batch{m, copy};  // the report points into it
  auto unfinished = processor_->Ingest(batch);
  ASSERT_TRUE(unfinished.has_value());
  ASSERT_EQ(unfinished->runs.size(), 2u);
  EXPECT_EQ(unfinished->runs[0].second->offset, 0);
  EXPECT_EQ(unfinished->runs[1].second->offset, 1);
  EXPECT_TRUE(unfinished->done.empty());

  store_.runs.at(command->event.id).state = RunState::kSucceeded;
  auto final_already = processor_->Ingest(batch);
  ASSERT_TRUE(final_already.has_value());
  EXPECT_TRUE(final_already->runs.empty());
  EXPECT_EQ(final_already->done.size(), 2u);
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
  run.worker = "worker-dead";
  run.heartbeat_at = clock_.Now() - std::chrono::minutes(5);

  auto report = Process({m});
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->duplicates, 1u);
  EXPECT_EQ(Engine().counters().succeeded, 1u);
  EXPECT_EQ(run.state, RunState::kSucceeded);
  EXPECT_EQ(run.start_count, 2);
  EXPECT_EQ(store_.outbox.size(), 1u);
}

TEST_F(CommandProcessorTest, PoisonMessagesGoToTheDeadLetterTopicAndTheBatchMovesOn) {
  auto good = CreateCommand(TaskNotification::kNone, 3);
  auto wrong_schema = nlohmann::json::parse(CreateCommand(TaskNotification::kNone, 1).value);
  wrong_schema["data"]["frequency"] = "YEARLY";
  std::vector<ConsumedMessage> batch = {
      {"commands", 2, 0, "k", "not json at all", {{"trace", "t1"}}},
      {"commands", 2, 1, "k", wrong_schema.dump(), {}},
      CreateCommand(TaskNotification::kNone, 2, /*type=*/Uuid::Random()),
      good,
  };
  auto report = Process(batch);
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->dead_lettered, 3u);
  EXPECT_EQ(report->applied, 1u);
  auto dlq = publisher_.On("dlq");
  ASSERT_EQ(dlq.size(), 3u);
  EXPECT_EQ(dlq[0].value, "not json at all");
  EXPECT_TRUE(Header(dlq[0], kDlqReasonHeader).starts_with("the message is not a JSON document ("))
      << Header(dlq[0], kDlqReasonHeader);
  EXPECT_EQ(Header(dlq[0], "trace"), "t1");
  EXPECT_EQ(Header(dlq[0], kDlqOriginTopicHeader), "commands");
  EXPECT_EQ(Header(dlq[0], kDlqOriginPartitionHeader), "2");
  EXPECT_EQ(Header(dlq[0], kDlqOriginOffsetHeader), "0");
  EXPECT_NE(Header(dlq[1], kDlqReasonHeader).find("/data/frequency"), std::string::npos);
  EXPECT_EQ(Header(dlq[2], kDlqReasonHeader), "task type is not registered");
  EXPECT_EQ(store_.tasks.size(), 1u);
  EXPECT_TRUE(store_.tasks.contains(*Uuid::Parse(good.key)));
}

// Every command of every schema version this build reads (tests/golden/events/v<N>/) decodes:
// a schema change that breaks an old event fails here (docs/events.md, "Versions").
TEST_F(CommandProcessorTest, GoldenCommandsOfEveryVersionDecode) {
  std::size_t decoded = 0;
  for (const auto& golden : testing::GoldenEvents()) {
    auto event = nlohmann::json::parse(golden.text);
    if (std::ranges::find(kCommandTypes, event["type"].get<std::string>()) == kCommandTypes.end())
      continue;
    auto command = processor_->Decode({"commands", 0, 0, event["subject"], golden.text, {}});
    ASSERT_TRUE(command.has_value()) << golden.path << ": " << command.error().Describe();
    EXPECT_EQ(command->task.id.ToString(), event["subject"].get<std::string>()) << golden.path;
    EXPECT_EQ(command->event.type, event["type"].get<std::string>()) << golden.path;
    ++decoded;
  }
  EXPECT_GE(decoded, kCommandTypes.size());
}

TEST_F(CommandProcessorTest, ACommandOfANewerSchemaVersionIsDeadLetteredNamingTheVersions) {
  auto newer = nlohmann::json::parse(CreateCommand(TaskNotification::kNone, 0).value);
  newer["dataschema"] = "https://conveyor.dev/schemas/events/conveyor.task.create.v2.json";
  auto report = Process({{"commands", 0, 0, newer["subject"], newer.dump(), {}}});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->dead_lettered, 1u);
  auto dlq = publisher_.On("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(Header(dlq[0], kDlqReasonHeader),
            "dataschema: the event follows version 2 of schema conveyor.task.create; this build "
            "reads up to version 1 (upgrade the workers first)");
  EXPECT_TRUE(store_.tasks.empty());
}

TEST_F(CommandProcessorTest, DeadLetterTopicUnreachableFailsTheBatchSoNothingIsCommitted) {
  publisher_.fail_next = true;
  auto report = Process({{"commands", 0, 0, "k", "garbage", {}}});
  ASSERT_FALSE(report.has_value());
  EXPECT_TRUE(report.error().retryable());
}

TEST_F(CommandProcessorTest, MalformedBatchUpdateIsDeadLetteredNamingWhy) {
  auto m = CreateCommand(TaskNotification::kNone, 0);
  BatchTaskUpdate u;
  auto bad = BatchUpdateCommand(m.key, u, 1);
  auto j = nlohmann::json::parse(bad.value);
  j["data"]["run_change"] = "explode";
  bad.value = j.dump();
  auto report = processor_->Ingest({bad});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->dead_lettered, 1u);
  auto dlq = publisher_.On("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(Header(dlq[0], kDlqReasonHeader).find("run_change"), std::string::npos)
      << Header(dlq[0], kDlqReasonHeader);
}

// A command nested a few hundred thousand levels deep overflowed the stack of the worker that
// checked it against its schema, and of every worker that took the partition over next.
TEST_F(CommandProcessorTest, CommandNestedTooDeepIsDeadLetteredNamingTheLimit) {
  auto good = CreateCommand(TaskNotification::kNone, 1);
  auto deep = CreateCommand(TaskNotification::kNone, 0);
  deep.value.replace(deep.value.find("\"data\":{") + 7, 1,
                     "{\"x\":" + std::string(200000, '[') + std::string(200000, ']') + ",");
  auto report = Process({deep, good});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->dead_lettered, 1u);
  EXPECT_EQ(report->applied, 1u);
  auto dlq = publisher_.On("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(Header(dlq[0], kDlqReasonHeader),
            "the message nests JSON arrays and objects deeper than the limit of 32 levels");
}

// A number beyond a double's range made the JSON parser throw past ParseJson: the worker that
// read the command terminated, and so did every worker that took the partition over next.
TEST_F(CommandProcessorTest, CommandWithANumberBeyondADoublesRangeIsDeadLetteredNamingIt) {
  auto good = CreateCommand(TaskNotification::kNone, 1);
  auto huge = CreateCommand(TaskNotification::kNone, 0);
  huge.value.replace(huge.value.find("\"data\":{") + 7, 1, "{\"x\":1e400,");
  auto report = Process({huge, good});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->dead_lettered, 1u);
  EXPECT_EQ(report->applied, 1u);
  auto dlq = publisher_.On("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(Header(dlq[0], kDlqReasonHeader),
            "the message holds a number out of range (number overflow parsing '1e400')");
}

// A due time that came while the task's previous run still ran is recorded as a skipped run
// (SKIP): final, so its event is done at once. (FindPendingRuns once read skipped runs as
// live: the engine then looked at such a run again and again, and the partition's commits
// stopped at its event.)
TEST_F(CommandProcessorTest, FireRecordedSkippedIsDoneAtOnceAndTheEngineHoldsNothing) {
  auto gate = std::make_shared<GateHandler>();
  Uuid type = Uuid::Random();
  store_.known_types.insert(type);
  store_.handler_of[type] = "gate";
  handlers_.Register("gate", gate);
  auto m = CreateCommand(TaskNotification::kNone, 0, type);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  // The report points into the batch: it must outlive the report.
  std::vector<ConsumedMessage> batch{FireCommand(m.key, clock_.Now(), 1)};
  auto report = processor_->Ingest(batch);
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->applied, 1u);
  EXPECT_TRUE(report->runs.empty());
  ASSERT_EQ(report->done.size(), 1u);
  EXPECT_EQ(report->done[0]->offset, 1);
  std::size_t skipped = 0;
  for (const auto& [id, r] : store_.runs) skipped += r.state == RunState::kSkipped ? 1 : 0;
  EXPECT_EQ(skipped, 1u);
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
}

}  // namespace
}  // namespace conveyor

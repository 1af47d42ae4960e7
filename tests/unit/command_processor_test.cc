// CommandProcessor and RunEngine together, as the consumer loop drives them, on in-memory
// fakes: decoding, dead-lettering, applying, running, retrying, cancelling, notifying.
#include "src/command_processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "conveyor/json_schema.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "src/run_engine.h"
#include "support/fakes.h"
#include "support/wait.h"

namespace conveyor {
namespace {

using testing::FakeTaskStore;
using testing::RecordingPublisher;

class CommandProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.known_types.insert(NoopTaskTypeId());
    auto p = CommandProcessor::Create({"dlq"}, store_, publisher_);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    processor_.emplace(std::move(*p));
  }

  RunEngine& Engine() {
    if (!engine_) {
      EngineSettings s;
      s.worker_name = "worker-a";
      s.source = "/test";
      s.notifications_topic = "notifications";
      s.concurrency = concurrency_;
      s.handler_limits = limits_;
      s.heartbeat_interval = std::chrono::milliseconds(20);
      engine_.emplace(s, store_, handlers_, clock_);
    }
    return *engine_;
  }

  // What the consumer loop does with a batch: ingest it, hand its runs to the engine, then
  // tick until the engine holds nothing (or the deadline passes).
  Result<IngestReport> Process(const std::vector<ConsumedMessage>& batch,
                               std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    auto report = processor_->Ingest(batch);
    if (!report) return report;
    HandOver(*report);
    EXPECT_TRUE(testing::PollUntil(
        [&] {
          EXPECT_TRUE(Engine().Tick().has_value());
          return Engine().Load() == 0;
        },
        deadline));
    return report;
  }

  std::size_t concurrency_ = 4;
  std::map<std::string, std::size_t> limits_;

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

  ConsumedMessage CancelCommand(const std::string& task_id, std::int64_t offset) {
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.type = kTaskCancelCommand;
    e.subject = task_id;
    e.time = clock_.Now();
    e.data = {{"task_id", task_id}, {"requested_by", "test"}};
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // conveyor.task.batch-update of the task `task_id`.
  ConsumedMessage BatchUpdateCommand(const std::string& task_id, BatchTaskUpdate u,
                                     std::int64_t offset) {
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.subject = task_id;
    e.time = clock_.Now();
    e.type = kTaskBatchUpdateCommand;
    u.task_id = *Uuid::Parse(task_id);
    u.requested_by = "test";
    e.data = BatchTaskUpdateToEventData(u);
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // conveyor.task.update of the task `task_id` (of type `type`) with `enabled`, or
  // conveyor.task.delete when `del`.
  ConsumedMessage UpdateCommand(const std::string& task_id, Uuid type, std::optional<bool> enabled,
                                std::int64_t offset, bool del = false) {
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.subject = task_id;
    e.time = clock_.Now();
    if (del) {
      e.type = kTaskDeleteCommand;
      e.data = {{"task_id", task_id}, {"requested_by", "test"}};
    } else {
      TaskUpdate u;
      u.task_id = *Uuid::Parse(task_id);
      u.task_type_id = type;
      u.enabled = enabled;
      u.parameters = "{}";
      u.content_type = "application/json";
      u.notification = TaskNotification::kFailure;
      e.type = kTaskUpdateCommand;
      e.data = TaskUpdateToEventData(u);
    }
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // What the consumer loop does with an ingested batch: stops first, then the runs the store
  // started, then the others.
  void HandOver(IngestReport& report) {
    for (const auto& t : report.cancelled_tasks) Engine().Cancel(t);
    for (auto& [run, m] : report.started) Engine().AdmitStarted(run, OriginOf(*m));
    for (auto& [run, m] : report.runs) Engine().Admit(run, OriginOf(*m));
  }
  static RunOrigin OriginOf(const ConsumedMessage& m) { return {m.topic, m.partition, m.offset}; }

  // Ingests a batch and hands its runs to the engine without waiting for them.
  void Feed(const std::vector<ConsumedMessage>& batch) {
    auto report = processor_->Ingest(batch);
    ASSERT_TRUE(report.has_value()) << report.error().Describe();
    HandOver(*report);
  }

  // Like Feed, as the consumer loop does it: the engine's offer lets the store start runs as
  // it queues them, and those go to the pool at once.
  void FeedOffered(const std::vector<ConsumedMessage>& batch) {
    auto report = processor_->Ingest(batch, [this] { return Engine().Offer(); });
    ASSERT_TRUE(report.has_value()) << report.error().Describe();
    HandOver(*report);
  }

  bool TickUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    return testing::PollUntil(
        [&] {
          EXPECT_TRUE(Engine().Tick().has_value());
          return done();
        },
        deadline);
  }

  // Every notification must satisfy its published schema.
  void ExpectOutboxMatchesSchema() {
    auto finished = JsonSchema::Embedded("events/conveyor.run.finished.json");
    auto progress = JsonSchema::Embedded("events/conveyor.run.progress.json");
    ASSERT_TRUE(finished.has_value() && progress.has_value());
    for (const auto& m : store_.outbox) {
      auto& schema = Header(m, "ce_type") == kRunProgressEvent ? *progress : *finished;
      auto valid = schema.Validate(nlohmann::json::parse(m.value));
      EXPECT_TRUE(valid.has_value()) << valid.error().Describe() << "\n" << m.value;
    }
  }

  std::vector<nlohmann::json> OutboxOfType(std::string_view type) {
    std::vector<nlohmann::json> events;
    for (const auto& m : store_.outbox)
      if (auto e = CloudEvent::Parse(m.value); e && e->type == type) events.push_back(e->data);
    return events;
  }

  FakeTaskStore::Run& RunOf(const ConsumedMessage& m) {
    for (auto& [id, r] : store_.runs)
      if (r.task_id.ToString() == m.key) return r;
    throw std::runtime_error("no run for " + m.key);
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
  std::optional<RunEngine> engine_;
};

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

TEST_F(CommandProcessorTest, DeadLetterTopicUnreachableFailsTheBatchSoNothingIsCommitted) {
  publisher_.fail_next = true;
  auto report = Process({{"commands", 0, 0, "k", "garbage", {}}});
  ASSERT_FALSE(report.has_value());
  EXPECT_TRUE(report.error().retryable());
}

// A handler that fails a given number of times (retryable or not), then succeeds, and
// remembers when it was called.
class FlakyHandler final : public Handler {
 public:
  FlakyHandler(int failures, bool retryable) : failures_(failures), retryable_(retryable) {}
  HandlerResult Run(const HandlerContext& c) override {
    std::lock_guard lock(mu_);
    calls.push_back({std::chrono::steady_clock::now(), c.attempt});
    if (static_cast<int>(calls.size()) <= failures_)
      return std::unexpected(
          HandlerFailure{"boom " + std::to_string(calls.size()), retryable_, {}});
    return HandlerOutput{"fine", {}, {}};
  }
  std::mutex mu_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, int>> calls;

 private:
  int failures_;
  bool retryable_;
};

// Blocks until released (or cancelled), counting how many run at once.
class GateHandler final : public Handler {
 public:
  HandlerResult Run(const HandlerContext& c) override {
    int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    while (!open && !c.cancel.WaitFor(std::chrono::milliseconds(5))) {
    }
    --running;
    if (c.cancel.cancelled()) return std::unexpected(HandlerFailure{"cancelled", false, {}});
    return HandlerOutput{"passed", {}, {}};
  }
  std::atomic<int> running{0}, peak{0};
  std::atomic<bool> open{false};
};

// Reports `percent` once, then blocks until released (or cancelled).
class ReportThenWaitHandler final : public Handler {
 public:
  explicit ReportThenWaitHandler(int percent) : percent_(percent) {}
  HandlerResult Run(const HandlerContext& c) override {
    c.progress.Report(percent_, "halfway there");
    while (!open && !c.cancel.WaitFor(std::chrono::milliseconds(5))) {
    }
    return HandlerOutput{"done", {}, {}};
  }
  std::atomic<bool> open{false};

 private:
  int percent_;
};

class RunEngineTest : public CommandProcessorTest {
 protected:
  void Use(const std::string& handler, std::shared_ptr<Handler> h) {
    Uuid type = Uuid::Random();
    store_.known_types.insert(type);
    store_.handler_of[type] = handler;
    handlers_.Register(handler, std::move(h));
    type_ = type;
  }
  Uuid type_;
};

TEST_F(RunEngineTest, FailingHandlerIsRetriedWithBackoffAndEndsFailedAfterItsLastAttemptNotified) {
  auto flaky = std::make_shared<FlakyHandler>(100, /*retryable=*/true);
  Use("flaky", flaky);
  store_.policy.max_attempts = 3;
  store_.policy.retry_backoff = std::chrono::milliseconds(40);
  auto m = CreateCommand(TaskNotification::kFailure, 0, type_);
  ASSERT_TRUE(Process({m}).has_value());
  ASSERT_EQ(flaky->calls.size(), 3u);
  EXPECT_EQ(flaky->calls[0].second, 1);
  EXPECT_EQ(flaky->calls[2].second, 3);
  // Equal jitter: at least half the exponential backoff (40 ms, then 80 ms) between attempts.
  EXPECT_GE(flaky->calls[1].first - flaky->calls[0].first, std::chrono::milliseconds(20));
  EXPECT_GE(flaky->calls[2].first - flaky->calls[1].first, std::chrono::milliseconds(40));
  auto& run = RunOf(m);
  EXPECT_EQ(run.state, RunState::kFailed);
  EXPECT_EQ(run.attempt, 3);
  EXPECT_NE(run.result.find("failed after 3 attempts: boom 3"), std::string::npos) << run.result;
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(store_.outbox[0].value)->type, kRunFailedEvent);
  EXPECT_EQ(Engine().counters().retried, 2u);
  ExpectOutboxMatchesSchema();
}

TEST_F(RunEngineTest, RetryThatSucceedsEndsSucceeded) {
  auto flaky = std::make_shared<FlakyHandler>(1, /*retryable=*/true);
  Use("flaky", flaky);
  store_.policy.max_attempts = 5;
  store_.policy.retry_backoff = std::chrono::milliseconds(1);
  auto m = CreateCommand(TaskNotification::kCompletion, 0, type_);
  ASSERT_TRUE(Process({m}).has_value());
  EXPECT_EQ(flaky->calls.size(), 2u);
  EXPECT_EQ(RunOf(m).state, RunState::kSucceeded);
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(store_.outbox[0].value)->type, kRunSucceededEvent);
}

TEST_F(RunEngineTest, FailureARetryCannotHelpIsNotRetried) {
  auto flaky = std::make_shared<FlakyHandler>(100, /*retryable=*/false);
  Use("flaky", flaky);
  store_.policy.max_attempts = 5;
  auto m = CreateCommand(TaskNotification::kNone, 0, type_);
  ASSERT_TRUE(Process({m}).has_value());
  EXPECT_EQ(flaky->calls.size(), 1u);
  EXPECT_EQ(RunOf(m).state, RunState::kFailed);
  EXPECT_EQ(RunOf(m).result, "boom 1");
}

TEST_F(RunEngineTest, TimeoutCancelsTheHandlerAndFailsTheRunSayingSo) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  store_.policy.timeout = std::chrono::seconds(1);
  auto m = CreateCommand(TaskNotification::kNone, 0, type_);
  ASSERT_TRUE(Process({m}).has_value());
  EXPECT_EQ(RunOf(m).state, RunState::kFailed);
  EXPECT_EQ(RunOf(m).result, "timed out after 1 s");
}

TEST_F(RunEngineTest, CancelStopsTheRunningHandlerAndEndsTheRunCancelledNotified) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto m = CreateCommand(TaskNotification::kFailure, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  Feed({CancelCommand(m.key, 1)});
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(RunOf(m).state, RunState::kCancelled);
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(store_.outbox[0].value)->type, kRunCancelledEvent);
  ExpectOutboxMatchesSchema();
}

TEST_F(RunEngineTest, ProgressBitPublishesProgressWhileTheRunRunsThenTheOutcome) {
  auto h = std::make_shared<ReportThenWaitHandler>(40);
  Use("report", h);
  auto m = CreateCommand(static_cast<TaskNotification>(5), 0, type_);  // SUCCESS | PROGRESS
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return !OutboxOfType(kRunProgressEvent).empty(); }));
  EXPECT_EQ(RunOf(m).state, RunState::kStarted);
  auto progress = OutboxOfType(kRunProgressEvent);
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0]["percent"], 40);
  EXPECT_EQ(progress[0]["description"], "halfway there");
  EXPECT_EQ(progress[0]["task_id"], m.key);
  h->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(OutboxOfType(kRunSucceededEvent).size(), 1u);
  EXPECT_EQ(OutboxOfType(kRunProgressEvent).size(), 1u);
  ExpectOutboxMatchesSchema();
}

TEST_F(RunEngineTest, WithoutTheProgressBitProgressIsRecordedButNotPublished) {
  auto h = std::make_shared<ReportThenWaitHandler>(40);
  Use("report", h);
  auto m = CreateCommand(TaskNotification::kSuccess, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return RunOf(m).progress == 40; }));
  h->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_TRUE(OutboxOfType(kRunProgressEvent).empty());
  EXPECT_EQ(OutboxOfType(kRunSucceededEvent).size(), 1u);
}

TEST_F(RunEngineTest, DisablingAndEnablingInOneBatchCancelsTheRunningRunAndRunsTheTaskAgain) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto m = CreateCommand(TaskNotification::kNone, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  auto disable = UpdateCommand(m.key, type_, false, 1);
  auto enable = UpdateCommand(m.key, type_, true, 2);
  Feed({disable, enable});
  // Runs are named by the event that queued them.
  auto run_of = [&](const ConsumedMessage& e) -> FakeTaskStore::Run& {
    return store_.runs.at(*Uuid::Parse(nlohmann::json::parse(e.value)["id"].get<std::string>()));
  };
  // The stop reaches the first run only; the run the enabling update queued starts.
  ASSERT_TRUE(TickUntil([&] { return run_of(m).state == RunState::kCancelled; }));
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(store_.runs.size(), 2u);
  EXPECT_EQ(run_of(enable).state, RunState::kSucceeded);
  EXPECT_EQ(store_.starts, 2);
  EXPECT_TRUE(store_.tasks.begin()->second.enabled);
}

TEST_F(RunEngineTest, DeleteStopsTheRunningHandlerAndEndsTheRunCancelled) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto m = CreateCommand(TaskNotification::kNone, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  Feed({UpdateCommand(m.key, type_, std::nullopt, 1, /*del=*/true)});
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(RunOf(m).state, RunState::kCancelled);
  EXPECT_EQ(store_.deleted.size(), 1u);
  EXPECT_EQ(store_.starts, 1);
}

TEST_F(RunEngineTest, BatchUpdateStopEndsTheRunningRunCancelledAndSetsTheFields) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto m = CreateCommand(TaskNotification::kNone, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  BatchTaskUpdate u;
  u.description = "stopped by hand";
  u.run_change = BatchTaskUpdate::RunChange::kStop;
  Feed({BatchUpdateCommand(m.key, u, 1)});
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(RunOf(m).state, RunState::kCancelled);
  EXPECT_EQ(store_.tasks.begin()->second.description, "stopped by hand");
  EXPECT_EQ(store_.starts, 1);
}

TEST_F(RunEngineTest, BatchUpdateRunAgainRunsAFinishedTaskAgainUnderTheEventsRunId) {
  auto m = CreateCommand(TaskNotification::kNone, 0);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return RunOf(m).state == RunState::kSucceeded; }));
  BatchTaskUpdate u;
  u.run_change = BatchTaskUpdate::RunChange::kRunAgain;
  auto again = BatchUpdateCommand(m.key, u, 1);
  Feed({again});
  auto again_id = *Uuid::Parse(nlohmann::json::parse(again.value)["id"].get<std::string>());
  ASSERT_TRUE(TickUntil([&] {
    return store_.runs.contains(again_id) && store_.runs.at(again_id).state == RunState::kSucceeded;
  }));
  EXPECT_EQ(store_.runs.size(), 2u);
  EXPECT_EQ(store_.starts, 2);
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

TEST_F(RunEngineTest, CancelOfAWaitingRunEndsItCancelledWithoutRunningIt) {
  concurrency_ = 1;
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto first = CreateCommand(TaskNotification::kNone, 0, type_);
  auto second = CreateCommand(TaskNotification::kFailure, 1, type_);
  Feed({first, second});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  Feed({CancelCommand(second.key, 2)});
  ASSERT_TRUE(TickUntil([&] { return RunOf(second).state == RunState::kCancelled; }));
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_TRUE(CloudEvent::Parse(store_.outbox[0].value)->data["started_at"].is_null());
  ExpectOutboxMatchesSchema();
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(RunOf(first).state, RunState::kSucceeded);
  EXPECT_EQ(RunOf(second).start_count, 0);
  EXPECT_EQ(store_.starts, 1);
}

TEST_F(RunEngineTest, HandlerLimitKeepsRunsOfThatHandlerWithinIt) {
  concurrency_ = 4;
  limits_ = {{"gate", 1}};
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  Feed({CreateCommand(TaskNotification::kNone, 0, type_),
        CreateCommand(TaskNotification::kNone, 1, type_),
        CreateCommand(TaskNotification::kNone, 2, type_)});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(gate->peak, 1);
  EXPECT_EQ(Engine().counters().succeeded, 3u);
}

// The pool wakes one thread at a time (a woken thread wakes the next when more is queued):
// runs that block must still all get a thread, up to the concurrency.
TEST_F(RunEngineTest, RunsThatBlockStartedInOneTickEachGetAThreadUpToTheConcurrency) {
  concurrency_ = 6;
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  std::vector<ConsumedMessage> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(CreateCommand(TaskNotification::kNone, i, type_));
  Feed(batch);
  ASSERT_TRUE(TickUntil([&] { return gate->running == 6; }));
  EXPECT_EQ(Engine().Running(), 6u);
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(gate->peak, 6);
  EXPECT_EQ(Engine().counters().succeeded, 8u);
}

TEST_F(RunEngineTest, RunsOfABatchStartAsTheyAreQueuedWhileThePoolHasRoom) {
  concurrency_ = 2;
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto first = CreateCommand(TaskNotification::kNone, 0, type_);
  auto second = CreateCommand(TaskNotification::kNone, 1, type_);
  auto third = CreateCommand(TaskNotification::kNone, 2, type_);
  FeedOffered({first, second, third});
  EXPECT_EQ(store_.started_as_queued, 2);
  EXPECT_EQ(Engine().Running(), 2u);
  // On the pool without a Tick: the store started them.
  ASSERT_TRUE(testing::PollUntil([&] { return gate->running == 2; }, std::chrono::seconds(10)));
  EXPECT_EQ(RunOf(first).state, RunState::kStarted);
  EXPECT_EQ(RunOf(first).worker, "worker-a");
  EXPECT_EQ(RunOf(third).state, RunState::kQueued);
  EXPECT_EQ(store_.starts, 0);
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  for (const auto* m : {&first, &second, &third}) {
    EXPECT_EQ(RunOf(*m).state, RunState::kSucceeded);
    EXPECT_EQ(RunOf(*m).start_count, 1);
  }
  EXPECT_EQ(store_.starts, 1);  // the third, by StartRuns once there was room
  EXPECT_EQ(gate->peak, 2);
  EXPECT_EQ(Engine().counters().started, 3u);
}

// The batch's statement started a run, then the batch failed (its rejected command could not
// be dead-lettered): the run is still handed over and runs once, with start count 1; the
// retry of the batch only adds its origin.
TEST_F(RunEngineTest, RunStartedByABatchThatFailsAfterItsStatementRunsOnceAndTheRetryJoinsIt) {
  auto good = CreateCommand(TaskNotification::kNone, 0);
  auto unknown_type = CreateCommand(TaskNotification::kNone, 1, Uuid::Random());
  publisher_.fail_next = true;
  auto offer = [this] { return Engine().Offer(); };
  const std::vector<ConsumedMessage> batch{good, unknown_type};  // the origins point into it
  auto failed = processor_->Ingest(batch, offer);
  ASSERT_FALSE(failed.has_value());
  auto unclaimed = processor_->TakeUnclaimedStarted();
  ASSERT_EQ(unclaimed.size(), 1u);
  EXPECT_EQ(unclaimed[0].second->offset, 0);
  EXPECT_EQ(unclaimed[0].first.start_count, 1);
  EXPECT_TRUE(processor_->TakeUnclaimedStarted().empty());  // handed over once
  for (auto& [run, m] : unclaimed) Engine().AdmitStarted(run, OriginOf(*m));
  auto retried = processor_->Ingest(batch, offer);
  ASSERT_TRUE(retried.has_value()) << retried.error().Describe();
  EXPECT_EQ(retried->duplicates, 1u);
  EXPECT_EQ(retried->dead_lettered, 1u);
  EXPECT_TRUE(retried->started.empty());
  HandOver(*retried);
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(RunOf(good).state, RunState::kSucceeded);
  EXPECT_EQ(RunOf(good).start_count, 1);
  EXPECT_EQ(store_.starts, 0);  // never started again
  EXPECT_EQ(Engine().counters().started, 1u);
  EXPECT_EQ(publisher_.On("dlq").size(), 1u);
}

// A handler that ignores cancellation, released only by the test.
class StubbornHandler final : public Handler {
 public:
  HandlerResult Run(const HandlerContext&) override {
    running = true;
    while (!open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return HandlerOutput{"finally", {}, {}};
  }
  std::atomic<bool> running{false}, open{false};
};

TEST_F(RunEngineTest, AbandonedHandlerKeepsItsThreadCountedUntilItReturnsAndRecordsNothing) {
  concurrency_ = 2;
  auto stubborn = std::make_shared<StubbornHandler>();
  Use("stubborn", stubborn);
  auto m = CreateCommand(TaskNotification::kNone, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return stubborn->running.load(); }));
  Engine().Relinquish([](const RunOrigin&) { return true; }, std::chrono::milliseconds(0),
                      std::chrono::milliseconds(20));
  EXPECT_EQ(Engine().Load(), 0u);     // given up
  EXPECT_EQ(Engine().Running(), 1u);  // but its thread is still taken
  EXPECT_EQ(Engine().Offer().room, 1u);
  stubborn->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Running() == 0; }));
  EXPECT_EQ(Engine().Offer().room, 2u);
  EXPECT_EQ(RunOf(m).state, RunState::kStarted);  // its late outcome is not recorded
  EXPECT_EQ(Engine().counters().succeeded, 0u);
}

TEST_F(RunEngineTest, OfferKeepsRoomForWaitingRunsAndHoldsBackLimitedHandlers) {
  concurrency_ = 3;
  limits_ = {{"gate", 1}};
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto offer = Engine().Offer();
  EXPECT_EQ(offer.worker, "worker-a");
  EXPECT_EQ(offer.room, 3u);
  EXPECT_EQ(offer.held_back, std::vector<std::string>{"gate"});
  FeedOffered({CreateCommand(TaskNotification::kNone, 0, type_),
               CreateCommand(TaskNotification::kNone, 1, type_)});
  EXPECT_EQ(store_.started_as_queued, 0);  // held back: the limit is counted at the Tick
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  EXPECT_EQ(Engine().Offer().room, 1u);  // one running, one waiting for the gate's limit
  gate->open = true;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(Engine().Offer().room, 3u);
}

TEST_F(RunEngineTest, RunOfALiveOwnerIsWaitedForAndTakenOverOnlyWhenItGoesQuiet) {
  auto m = CreateCommand(TaskNotification::kNone, 0);
  auto command = processor_->Decode(m);
  ASSERT_TRUE(command.has_value());
  ASSERT_TRUE(store_.ApplyBatch({*command}).has_value());
  auto& run = RunOf(m);
  run.state = RunState::kStarted;  // worker-b runs it and heartbeats
  run.start_count = 1;
  run.worker = "worker-b";
  run.heartbeat_at = clock_.Now();
  Feed({m});
  // Several rounds of looking: worker-b is alive, so nothing starts.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Engine().Tick().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(store_.starts, 0);
  EXPECT_EQ(Engine().Load(), 1u);
  clock_.Advance(std::chrono::minutes(1));  // worker-b went quiet
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(run.state, RunState::kSucceeded);
  EXPECT_EQ(run.start_count, 2);
  EXPECT_EQ(run.worker, "worker-a");
}

TEST_F(RunEngineTest, OutcomesAreKeptWhileTheDatabaseIsAwayAndRecordedWhenItReturns) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto m = CreateCommand(TaskNotification::kSuccess, 0, type_);
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  store_.unavailable = true;
  gate->open = true;
  ASSERT_TRUE(
      testing::PollUntil([&] { return Engine().HasCompletions(); }, std::chrono::seconds(5)));
  EXPECT_FALSE(Engine().Tick().has_value());
  EXPECT_EQ(RunOf(m).state, RunState::kStarted);
  store_.unavailable = false;
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  EXPECT_EQ(RunOf(m).state, RunState::kSucceeded);
  EXPECT_EQ(store_.outbox.size(), 1u);
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

}  // namespace
}  // namespace conveyor

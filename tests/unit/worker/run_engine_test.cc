// RunEngine, fed by the CommandProcessor as the consumer loop does, on in-memory fakes:
// running, retrying, cancelling, timeouts, limits, progress and notifying.
#include "src/run_engine.h"

#include <gtest/gtest.h>

#include "unit/worker/engine_fixture.h"

namespace conveyor {
namespace {

TEST_F(RunEngineTest, FailingHandlerIsRetriedWithBackoffAndEndsFailedAfterItsLastAttemptNotified) {
  auto flaky = std::make_shared<FlakyHandler>(100, /*retryable=*/true, monotonic_);
  Use("flaky", flaky);
  store_.policy.max_attempts = 3;
  store_.policy.retry_backoff = std::chrono::milliseconds(40);
  auto m = CreateCommand(TaskNotification::kFailure, 0, type_);
  Feed({m});
  // Equal jitter: attempt n + 1 waits at least half the exponential backoff of attempt n
  // (40 ms, then 80 ms), and at most all of it.
  for (std::size_t failed = 1; failed <= 2; ++failed) {
    ASSERT_TRUE(TickUntil([&] { return RunOf(m).state == RunState::kRetryWait; }));
    auto backoff = std::chrono::milliseconds(40) * (1 << (failed - 1));
    AdvanceTime(backoff / 2 - std::chrono::milliseconds(1));
    ASSERT_TRUE(Engine().Tick().has_value());
    EXPECT_EQ(RunOf(m).state, RunState::kRetryWait) << "attempt " << failed + 1 << " began early";
    AdvanceTime(backoff / 2 + std::chrono::milliseconds(1));
    ASSERT_TRUE(TickUntil([&] { return flaky->Calls() == failed + 1; }));
  }
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  ASSERT_EQ(flaky->calls.size(), 3u);
  EXPECT_EQ(flaky->calls[0].second, 1);
  EXPECT_EQ(flaky->calls[2].second, 3);
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
  auto flaky = std::make_shared<FlakyHandler>(1, /*retryable=*/true, monotonic_);
  Use("flaky", flaky);
  store_.policy.max_attempts = 5;
  store_.policy.retry_backoff = std::chrono::milliseconds(1);
  time_per_tick_ = std::chrono::milliseconds(1);
  auto m = CreateCommand(TaskNotification::kCompletion, 0, type_);
  ASSERT_TRUE(Process({m}).has_value());
  EXPECT_EQ(flaky->calls.size(), 2u);
  EXPECT_EQ(RunOf(m).state, RunState::kSucceeded);
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_EQ(CloudEvent::Parse(store_.outbox[0].value)->type, kRunSucceededEvent);
}

TEST_F(RunEngineTest, CountsStartsAndEachAttemptsOutcomeAndDurationByHandler) {
  auto flaky = std::make_shared<FlakyHandler>(1, /*retryable=*/true, monotonic_);
  Use("flaky", flaky);
  store_.policy.max_attempts = 5;
  store_.policy.retry_backoff = std::chrono::milliseconds(1);
  time_per_tick_ = std::chrono::milliseconds(1);
  ASSERT_TRUE(Process({CreateCommand(TaskNotification::kNone, 0, type_)}).has_value());
  auto text = registry_.Render();
  for (const char* line :
       {R"(conveyor_runs_started_total{handler="flaky"} 2)",
        R"(conveyor_run_attempts_ended_total{handler="flaky",outcome="retried"} 1)",
        R"(conveyor_run_attempts_ended_total{handler="flaky",outcome="succeeded"} 1)",
        R"(conveyor_run_duration_seconds_count{handler="flaky"} 1)"})
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  EXPECT_EQ(text.find(R"(outcome="failed")"), std::string::npos) << text;
}

TEST_F(RunEngineTest, FailureARetryCannotHelpIsNotRetried) {
  auto flaky = std::make_shared<FlakyHandler>(100, /*retryable=*/false, monotonic_);
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
  Feed({m});
  ASSERT_TRUE(TickUntil([&] { return gate->running == 1; }));
  AdvanceTime(std::chrono::milliseconds(999));
  ASSERT_TRUE(Engine().Tick().has_value());
  EXPECT_EQ(gate->running, 1);  // not yet
  AdvanceTime(std::chrono::milliseconds(1));
  ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
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
  time_per_tick_ = std::chrono::milliseconds(20);  // progress goes out with heartbeats
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
  time_per_tick_ = std::chrono::milliseconds(20);  // progress goes out with heartbeats
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
  EXPECT_EQ(Engine().Threads(), 6u);
  EXPECT_NE(registry_.Render().find("conveyor_run_threads 6\n"), std::string::npos)
      << registry_.Render();
  EXPECT_EQ(Engine().counters().succeeded, 8u);
}

// Threads are started as queued runs find none idle: runs that each end before the next is
// queued all run on the first thread, however high the concurrency.
TEST_F(RunEngineTest, RunsThatComeOneAtATimeShareOneThreadWhateverTheConcurrency) {
  concurrency_ = 64;
  auto gate = std::make_shared<GateHandler>();
  gate->open = true;
  Use("gate", gate);
  for (int i = 0; i < 20; ++i) {
    Feed({CreateCommand(TaskNotification::kNone, i, type_)});
    ASSERT_TRUE(TickUntil([&] { return Engine().Load() == 0; }));
  }
  EXPECT_EQ(Engine().counters().succeeded, 20u);
  EXPECT_EQ(Engine().Threads(), 1u);
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
  stubborn->Open();
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
  // Several rounds of looking (one per heartbeat interval, 20 ms): worker-b is alive, so
  // nothing starts.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Engine().Tick().has_value());
    AdvanceTime(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(store_.starts, 0);
  EXPECT_EQ(Engine().Load(), 1u);
  AdvanceTime(std::chrono::minutes(1));  // worker-b went quiet
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

TEST_F(RunEngineTest, RunThatIsFinalAlreadyIsDoneAtOnceAndNeverLookedAtAgain) {
  PendingRun skipped;
  skipped.run_id = Uuid::Random();
  skipped.state = RunState::kSkipped;
  Engine().Admit(skipped, {"commands", 0, 7});
  EXPECT_EQ(Engine().Load(), 0u);
  auto done = Engine().TakeDone();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].offset, 7);
}

}  // namespace
}  // namespace conveyor

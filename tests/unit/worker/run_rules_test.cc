// The rules of a run's life (run_rules.h), as pure functions.
#include "src/run_rules.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

using Kind = CompletionDecision::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Timestamp kNow{std::chrono::hours(24 * 365 * 56)};
const milliseconds kStale{15000};

RunFacts StartedBy(std::string worker, std::optional<Timestamp> heartbeat) {
  return {RunState::kStarted, 1, std::move(worker), heartbeat, false, false};
}

TEST(RunLease, OwnerIsPresumedAliveWhileItsHeartbeatIsAtMostStaleAfterOld) {
  EXPECT_TRUE(OwnerPresumedAlive(StartedBy("b", kNow - seconds(15)), "a", kNow, kStale));
  EXPECT_FALSE(OwnerPresumedAlive(StartedBy("b", kNow - seconds(16)), "a", kNow, kStale));
  EXPECT_FALSE(OwnerPresumedAlive(StartedBy("b", std::nullopt), "a", kNow, kStale));  // released
  EXPECT_FALSE(OwnerPresumedAlive(StartedBy("a", kNow), "a", kNow, kStale));          // itself
  RunFacts queued{RunState::kQueued, 0, "b", kNow, false, false};
  EXPECT_FALSE(OwnerPresumedAlive(queued, "a", kNow, kStale));
}

TEST(RunLease, RunMayStartWhenLiveAsReadNotCancelledNotWaitingAndNotHeldByALiveOwner) {
  RunFacts queued{RunState::kQueued, 0, "", std::nullopt, false, false};
  EXPECT_TRUE(MayStart(queued, 0, "a", kNow, kStale));
  EXPECT_FALSE(MayStart(queued, 1, "a", kNow, kStale));  // started meanwhile
  auto cancelled = queued;
  cancelled.cancel_requested = true;
  EXPECT_FALSE(MayStart(cancelled, 0, "a", kNow, kStale));
  auto behind = queued;
  behind.waits_for_previous = true;
  EXPECT_FALSE(MayStart(behind, 0, "a", kNow, kStale));
  RunFacts retrying{RunState::kRetryWait, 1, "a", std::nullopt, false, false};
  EXPECT_TRUE(MayStart(retrying, 1, "a", kNow, kStale));
  EXPECT_FALSE(MayStart(StartedBy("b", kNow), 1, "a", kNow, kStale));
  EXPECT_TRUE(MayStart(StartedBy("b", kNow - seconds(20)), 1, "a", kNow, kStale));
  EXPECT_TRUE(MayStart(StartedBy("a", kNow), 1, "a", kNow, kStale));  // itself, restarted
  for (RunState final_state : FinalRunStates()) {
    RunFacts done{final_state, 1, "", std::nullopt, false, false};
    EXPECT_FALSE(MayStart(done, 1, "a", kNow, kStale)) << RunStateName(final_state);
  }
}

TEST(RunLease, StartingCountsTheStartAndTakesTheRunFromQueuedOrRetryWaitByTheMachine) {
  for (RunState from : {RunState::kQueued, RunState::kRetryWait, RunState::kStarted}) {
    RunFacts run{from, 2, "b", std::nullopt, false, false};
    auto started = Started(run, "a", kNow);
    EXPECT_EQ(started.state, RunState::kStarted) << RunStateName(from);
    EXPECT_EQ(started.start_count, 3);
    EXPECT_EQ(started.worker, "a");
    EXPECT_EQ(started.heartbeat_at, kNow);
  }
}

TEST(RunLease, OnlyTheLatestStartRecordsAndOnlyWhileTheRunIsLiveOrStarted) {
  auto run = StartedBy("a", kNow);
  EXPECT_TRUE(MayRecordOutcome(run, 1));
  EXPECT_FALSE(MayRecordOutcome(run, 0));
  EXPECT_TRUE(HoldsStart(run, 1));
  EXPECT_FALSE(HoldsStart(run, 2));
  RunFacts waiting{RunState::kRetryWait, 1, "a", std::nullopt, false, false};
  EXPECT_TRUE(MayRecordOutcome(waiting, 1));  // cancelled while it waits to retry
  EXPECT_FALSE(HoldsStart(waiting, 1));
  RunFacts skipped{RunState::kSkipped, 0, "", std::nullopt, false, false};
  EXPECT_FALSE(MayRecordOutcome(skipped, 0));
}

TEST(FinalRunStates, AreSucceededFailedCancelledAndSkipped) {
  EXPECT_EQ(FinalRunStates(), (std::vector<RunState>{RunState::kSucceeded, RunState::kFailed,
                                                     RunState::kCancelled, RunState::kSkipped}));
  EXPECT_EQ(AllRunStates().size(), 8u);
  for (RunState s : AllRunStates()) EXPECT_EQ(RunStateFromName(RunStateName(s)), s);
}

TEST(StartAsQueued, FreshStartableRunsStartInBatchOrderWhileTheRoomLasts) {
  StartOffer offer{"a", kNow, 2, {"limited"}};
  std::vector<QueuedRun> runs = {{"noop", false, false},    // redelivered
                                 {"limited", false, true},  // held back
                                 {"noop", true, true},      // another command names its task
                                 {"noop", false, true},    {"noop", false, true},
                                 {"noop", false, true}};
  EXPECT_EQ(StartAsQueued(runs, offer),
            (std::vector<bool>{false, false, false, true, true, false}));
  offer.room = 0;
  EXPECT_EQ(StartAsQueued(runs, offer), std::vector<bool>(6, false));
}

TEST(ChooseRunsToStart, InOrderWithinTheRoomSkippingHandlersAtTheirLimit) {
  std::vector<WaitingRun> waiting = {{"gate"}, {"gate"}, {"noop"}, {"noop"}, {"noop"}};
  std::map<std::string, std::size_t> limits = {{"gate", 1}, {"noop", 0}};
  EXPECT_EQ(ChooseRunsToStart(waiting, 3, {}, limits),
            (std::vector<bool>{true, false, true, true, false}));
  // One gate run on the pool already: no gate run starts.
  EXPECT_EQ(ChooseRunsToStart(waiting, 5, {{"gate", 1}}, limits),
            (std::vector<bool>{false, false, true, true, true}));
  EXPECT_EQ(ChooseRunsToStart(waiting, 0, {}, limits), std::vector<bool>(5, false));
}

TEST(Admit, FinalRunsAreDoneAndTheOthersCancelRetryWatchOrWait) {
  PendingRun run;
  run.state = RunState::kSkipped;
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kDone);
  run.state = RunState::kQueued;
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kWait);
  run.cancel_requested = true;
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kCancel);
  run.cancel_requested = false;
  run.state = RunState::kRetryWait;
  run.not_before = kNow + seconds(1);
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kRetry);
  run.not_before = kNow;
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kWait);
  run.state = RunState::kStarted;
  run.worker = "b";
  run.heartbeat_at = kNow - seconds(1);
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kWatch);
  run.heartbeat_at = kNow - seconds(60);
  EXPECT_EQ(Admit(run, "a", kNow, kStale), Admission::kWait);
}

TEST(StopReaches, EveryLiveRunAndNoFinalOne) {
  for (RunState s : AllRunStates())
    EXPECT_EQ(StopReaches({s, 1, "", std::nullopt, false, false}), !IsFinal(s)) << RunStateName(s);
}

TEST(EnablingQueuesARun, OnlyWhenEveryEarlierRunWasCancelledOrSkippedOrIsBeingCancelled) {
  EXPECT_TRUE(EnablingQueuesARun({}));
  auto runs = [](RunState s, bool cancel) {
    return std::vector<RunFacts>{{s, 1, "", std::nullopt, cancel, false}};
  };
  EXPECT_TRUE(EnablingQueuesARun(runs(RunState::kCancelled, false)));
  EXPECT_TRUE(EnablingQueuesARun(runs(RunState::kSkipped, false)));
  EXPECT_TRUE(EnablingQueuesARun(runs(RunState::kStarted, true)));
  EXPECT_FALSE(EnablingQueuesARun(runs(RunState::kStarted, false)));
  EXPECT_FALSE(EnablingQueuesARun(runs(RunState::kQueued, false)));
  EXPECT_FALSE(EnablingQueuesARun(runs(RunState::kSucceeded, false)));
  EXPECT_FALSE(EnablingQueuesARun(runs(RunState::kFailed, true)));
}

TEST(RunAgainQueuesARun, OnlyWhenTheTaskHasNoLiveRun) {
  std::vector<RunFacts> finished = {{RunState::kSucceeded, 1, "", std::nullopt, false, false},
                                    {RunState::kSkipped, 0, "", std::nullopt, false, false}};
  EXPECT_TRUE(RunAgainQueuesARun(finished));
  finished.push_back({RunState::kRetryWait, 1, "", std::nullopt, true, false});
  EXPECT_FALSE(RunAgainQueuesARun(finished));
}

PendingRun RunOnAttempt(int attempt, int max_attempts) {
  PendingRun run;
  run.state = RunState::kStarted;
  run.attempt = attempt;
  run.policy.max_attempts = max_attempts;
  return run;
}

HandlerResult Ok(std::string result) { return HandlerOutput{std::move(result), {}, {}}; }
HandlerResult Failed(std::string message, bool retryable) {
  return std::unexpected(HandlerFailure{std::move(message), retryable, {}});
}

TEST(DecideCompletion, ResultSucceedsEvenWhenAStopCameMeanwhile) {
  for (auto reason : {CancelReason::kNone, CancelReason::kStopRequested, CancelReason::kTimedOut}) {
    auto d = DecideCompletion(RunOnAttempt(1, 1), Ok("fine"), reason);
    EXPECT_EQ(d.kind, Kind::kSucceed);
    EXPECT_EQ(d.state, RunState::kSucceeded);
    EXPECT_EQ(d.result, "fine");
  }
}

TEST(DecideCompletion, ShutdownReleasesTheRunWhateverTheHandlerReturned) {
  for (const auto& result : {Ok("fine"), Failed("stopped", true)}) {
    auto d = DecideCompletion(RunOnAttempt(1, 3), result, CancelReason::kShutdown);
    EXPECT_EQ(d.kind, Kind::kRelease);
    EXPECT_EQ(d.state, RunState::kStarted);
  }
}

TEST(DecideCompletion, StopRequestedByACallerCancelsSayingWhatTheHandlerSaid) {
  auto d = DecideCompletion(RunOnAttempt(1, 3), Failed("interrupted", true),
                            CancelReason::kStopRequested);
  EXPECT_EQ(d.kind, Kind::kCancel);
  EXPECT_EQ(d.state, RunState::kCancelled);
  EXPECT_EQ(d.result, "cancelled: interrupted");
}

TEST(DecideCompletion, RetryableFailureWithAttemptsLeftWaitsToRetry) {
  auto d = DecideCompletion(RunOnAttempt(2, 3), Failed("boom", true), CancelReason::kNone);
  EXPECT_EQ(d.kind, Kind::kRetry);
  EXPECT_EQ(d.state, RunState::kRetryWait);
  EXPECT_EQ(d.result, "attempt 2 of 3 failed: boom");
}

TEST(DecideCompletion, FailureARetryCannotHelpOrTheLastAttemptFails) {
  auto first =
      DecideCompletion(RunOnAttempt(1, 3), Failed("bad input", false), CancelReason::kNone);
  EXPECT_EQ(first.kind, Kind::kFail);
  EXPECT_EQ(first.state, RunState::kFailed);
  EXPECT_EQ(first.result, "bad input");
  auto last = DecideCompletion(RunOnAttempt(3, 3), Failed("boom", true), CancelReason::kNone);
  EXPECT_EQ(last.kind, Kind::kFail);
  EXPECT_EQ(last.result, "failed after 3 attempts: boom");
}

TEST(DecideCompletion, TimeoutIsRetriedLikeARetryableFailureAndNamesTheTimeout) {
  auto run = RunOnAttempt(1, 2);
  run.policy.timeout = std::chrono::seconds(30);
  auto d = DecideCompletion(run, Failed("SIGTERM", false), CancelReason::kTimedOut);
  EXPECT_EQ(d.kind, Kind::kRetry);
  EXPECT_EQ(d.result, "attempt 1 of 2 failed: timed out after 30 s");
  run.attempt = 2;
  EXPECT_EQ(DecideCompletion(run, Failed("SIGTERM", false), CancelReason::kTimedOut).result,
            "failed after 2 attempts: timed out after 30 s");
}

TEST(RetryBackoff, DoublesPerAttemptWithEqualJitterUpToTheCap) {
  RunPolicy policy;
  policy.retry_backoff = milliseconds(1000);
  EXPECT_EQ(RetryBackoff(policy, 1, milliseconds(60000), 0.0), milliseconds(500));
  EXPECT_EQ(RetryBackoff(policy, 1, milliseconds(60000), 0.5), milliseconds(750));
  EXPECT_EQ(RetryBackoff(policy, 3, milliseconds(60000), 0.0), milliseconds(2000));
  EXPECT_LT(RetryBackoff(policy, 3, milliseconds(60000), 0.999), milliseconds(4000));
  EXPECT_EQ(RetryBackoff(policy, 20, milliseconds(60000), 0.0), milliseconds(30000));
}

}  // namespace
}  // namespace conveyor

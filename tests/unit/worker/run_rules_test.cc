// The rules of a run's life (run_rules.h), as pure functions.
#include "src/run_rules.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

using Kind = CompletionDecision::Kind;
using std::chrono::milliseconds;

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

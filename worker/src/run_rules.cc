#include "run_rules.h"

#include <algorithm>
#include <cmath>

namespace conveyor {
namespace {

// The state `event` takes a started run to; the machine allows every event used here.
RunState FromStarted(RunEvent event) {
  return RunStateMachine::Next(RunState::kStarted, event).value_or(RunState::kStarted);
}

}  // namespace

CompletionDecision DecideCompletion(const PendingRun& run, const HandlerResult& result,
                                    CancelReason reason) {
  using Kind = CompletionDecision::Kind;
  if (reason == CancelReason::kShutdown) return {Kind::kRelease, RunState::kStarted, {}};
  if (result) return {Kind::kSucceed, FromStarted(RunEvent::kSucceed), result->result};
  if (reason == CancelReason::kStopRequested)
    return {Kind::kCancel, FromStarted(RunEvent::kCancel), "cancelled: " + result.error().message};
  bool timed_out = reason == CancelReason::kTimedOut;
  std::string message =
      timed_out && run.policy.timeout
          ? "timed out after " + std::to_string(run.policy.timeout->count()) + " s"
          : result.error().message;
  if ((timed_out || result.error().retryable) && run.attempt < run.policy.max_attempts)
    return {Kind::kRetry, FromStarted(RunEvent::kFailWithRetry),
            "attempt " + std::to_string(run.attempt) + " of " +
                std::to_string(run.policy.max_attempts) + " failed: " + message};
  if (run.attempt > 1)
    message = "failed after " + std::to_string(run.attempt) + " attempts: " + message;
  return {Kind::kFail, FromStarted(RunEvent::kFail), std::move(message)};
}

std::chrono::milliseconds RetryBackoff(const RunPolicy& policy, int attempt,
                                       std::chrono::milliseconds cap, double jitter) {
  double base =
      static_cast<double>(policy.retry_backoff.count()) * std::pow(2.0, std::max(0, attempt - 1));
  base = std::min(base, static_cast<double>(cap.count()));
  return std::chrono::milliseconds(static_cast<long long>(base * (0.5 + jitter / 2)));
}

}  // namespace conveyor

#include "run_rules.h"

#include <algorithm>
#include <cmath>

namespace conveyor {
namespace {

// The state `event` takes a started run to; the machine allows every event used here.
RunState FromStarted(RunEvent event) {
  return RunStateMachine::Next(RunState::kStarted, event).value_or(RunState::kStarted);
}

constexpr RunState kAllStates[] = {RunState::kQueued,    RunState::kAcquired,  RunState::kStarted,
                                   RunState::kRetryWait, RunState::kSucceeded, RunState::kFailed,
                                   RunState::kCancelled, RunState::kSkipped};

bool IsLive(RunState s) { return !IsFinal(s); }

}  // namespace

RunFacts FactsOf(const PendingRun& run) {
  return {run.state, run.start_count, run.worker, run.heartbeat_at, run.cancel_requested, false};
}

std::span<const RunState> AllRunStates() { return kAllStates; }

std::vector<RunState> FinalRunStates() {
  std::vector<RunState> out;
  for (RunState s : kAllStates)
    if (IsFinal(s)) out.push_back(s);
  return out;
}

bool OwnerPresumedAlive(const RunFacts& run, std::string_view worker, Timestamp now,
                        std::chrono::milliseconds stale_after) {
  return run.state == RunState::kStarted && run.worker != worker && run.heartbeat_at &&
         *run.heartbeat_at >= now - stale_after;
}

bool MayStart(const RunFacts& run, int seen_start_count, std::string_view worker, Timestamp now,
              std::chrono::milliseconds stale_after) {
  return run.start_count == seen_start_count && IsLive(run.state) && !run.cancel_requested &&
         !run.waits_for_previous && !OwnerPresumedAlive(run, worker, now, stale_after);
}

RunFacts Started(RunFacts run, std::string_view worker, Timestamp now) {
  RunState s = run.state;
  if (s == RunState::kRetryWait) s = RunStateMachine::Next(s, RunEvent::kRequeue).value_or(s);
  if (s == RunState::kQueued) s = RunStateMachine::Next(s, RunEvent::kAcquire).value_or(s);
  run.state = RunStateMachine::Next(s, RunEvent::kStart).value_or(run.state);
  ++run.start_count;
  run.worker = std::string(worker);
  run.heartbeat_at = now;
  return run;
}

bool MayRecordOutcome(const RunFacts& run, int start_count) {
  return run.start_count == start_count && IsLive(run.state);
}

bool HoldsStart(const RunFacts& run, int start_count) {
  return run.start_count == start_count && run.state == RunState::kStarted;
}

bool StartableAsQueued(const QueuedRun& run, const StartOffer& offer) {
  return !run.named_by_others && std::find(offer.held_back.begin(), offer.held_back.end(),
                                           run.handler) == offer.held_back.end();
}

std::vector<bool> StartAsQueued(const std::vector<QueuedRun>& runs, const StartOffer& offer) {
  std::vector<bool> out(runs.size(), false);
  std::size_t room = offer.room;
  for (std::size_t i = 0; i < runs.size() && room > 0; ++i) {
    if (!runs[i].fresh || !StartableAsQueued(runs[i], offer)) continue;
    out[i] = true;
    --room;
  }
  return out;
}

std::vector<bool> ChooseRunsToStart(const std::vector<WaitingRun>& waiting, std::size_t room,
                                    const std::map<std::string, std::size_t>& running,
                                    const std::map<std::string, std::size_t>& limits) {
  std::vector<bool> out(waiting.size(), false);
  std::map<std::string, std::size_t> planned = running;
  for (std::size_t i = 0; i < waiting.size() && room > 0; ++i) {
    const auto& handler = waiting[i].handler;
    auto limit = limits.find(handler);
    if (limit != limits.end() && limit->second > 0 && planned[handler] >= limit->second) continue;
    ++planned[handler];
    out[i] = true;
    --room;
  }
  return out;
}

Admission Admit(const PendingRun& run, std::string_view worker, Timestamp now,
                std::chrono::milliseconds stale_after) {
  if (IsFinal(run.state)) return Admission::kDone;
  if (run.cancel_requested) return Admission::kCancel;
  if (run.state == RunState::kRetryWait && run.not_before && *run.not_before > now)
    return Admission::kRetry;
  if (OwnerPresumedAlive(FactsOf(run), worker, now, stale_after)) return Admission::kWatch;
  return Admission::kWait;
}

bool StopReaches(const RunFacts& run) { return IsLive(run.state); }

bool EnablingQueuesARun(std::span<const RunFacts> runs_of_task) {
  return std::none_of(runs_of_task.begin(), runs_of_task.end(), [](const RunFacts& r) {
    return r.state == RunState::kSucceeded || r.state == RunState::kFailed ||
           (IsLive(r.state) && !r.cancel_requested);
  });
}

bool RunAgainQueuesARun(std::span<const RunFacts> runs_of_task) {
  return std::none_of(runs_of_task.begin(), runs_of_task.end(),
                      [](const RunFacts& r) { return IsLive(r.state); });
}

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

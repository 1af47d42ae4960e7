// The rules of a run's life on a worker, as pure functions of domain values (no I/O, no
// clock of their own): what a handler's return makes of its run, and how long a failed
// attempt waits before the next. Transitions follow RunStateMachine (conveyor/run_state.h).
// The RunEngine applies them; unit-tested in tests/unit/worker/run_rules_test.cc.
#pragma once

#include <chrono>
#include <string>

#include "conveyor/run_state.h"
#include "handlers.h"
#include "task_store.h"

namespace conveyor {

// What a handler's return makes of its run.
struct CompletionDecision {
  enum class Kind {
    kSucceed,  // succeeded: the handler returned a result (even when asked to stop meanwhile)
    kCancel,   // cancelled: a caller stopped it
    kRetry,    // retry_wait: a failure a retry may help (or a timeout), attempts left
    kFail,     // failed
    kRelease,  // stopped by a shutdown or a lost partition: stays started, for the next owner
  };
  Kind kind = Kind::kSucceed;
  RunState state = RunState::kSucceeded;  // after the transition (started for kRelease)
  std::string result;                     // recorded as the run's result (the error, retrying)
};

// The decision for `run` (started, attempt `run.attempt` of `run.policy.max_attempts`) whose
// handler returned `result` after the engine asked it to stop for `reason` (kNone: it was
// not asked). A shutdown releases whatever the handler returned; otherwise a result
// succeeds, a stop requested by a caller cancels, and a failure is retried when a retry can
// help (the failure says so, or the run timed out) and attempts are left, else fails.
CompletionDecision DecideCompletion(const PendingRun& run, const HandlerResult& result,
                                    CancelReason reason);

// How long a run waits after failed attempt `attempt` (1 for the first): the policy's backoff
// doubled for each attempt before, at most `cap`, with equal jitter: half of it fixed, half
// scaled by `jitter` in [0, 1), so that runs failing together do not retry together.
std::chrono::milliseconds RetryBackoff(const RunPolicy& policy, int attempt,
                                       std::chrono::milliseconds cap, double jitter);

}  // namespace conveyor

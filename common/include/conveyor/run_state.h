// The state machine of one run (one execution of a task).
//
//   queued ──acquire──▶ acquired ──start──▶ started ──succeed──▶ succeeded
//     ▲                    │                   │──fail──▶ failed
//     │                    │                   │──fail (attempts left)──▶ retry_wait ──requeue──▶
//     queued └──── restart (owner died: start count goes up on the next start) ─┘
//   any non-final state ──cancel──▶ cancelled
//   skipped: a scheduled due time that came while the task's previous run still ran (the SKIP
//            overlap policy, docs/scheduling.md) is recorded as a run born final, never started.
//
// SuperOffice names: queued = New, acquired = Aquired (sic), started = Started,
// succeeded = Succeeded, failed and cancelled = Failed. Final states accept no transition.
// RunStateMachine is a pure function of (state, event); it does no I/O.
#pragma once

#include <optional>
#include <string_view>

#include "conveyor/result.h"

namespace conveyor {

enum class RunState {
  kQueued,
  kAcquired,
  kStarted,
  kRetryWait,
  kSucceeded,
  kFailed,
  kCancelled,
  kSkipped
};

enum class RunEvent { kAcquire, kStart, kSucceed, kFail, kFailWithRetry, kRequeue, kCancel };

std::string_view RunStateName(RunState s);  // "queued", "started", ... as stored in PostgreSQL
std::optional<RunState> RunStateFromName(std::string_view name);
std::string_view RunEventName(RunEvent e);
bool IsFinal(RunState s);

class RunStateMachine {
 public:
  // The state after `event`, or kFailedPrecondition naming both when the transition is not
  // allowed (for example succeed before start, or anything after a final state).
  static Result<RunState> Next(RunState from, RunEvent event);
};

}  // namespace conveyor

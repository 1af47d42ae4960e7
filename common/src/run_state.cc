#include "conveyor/run_state.h"

#include <array>
#include <string>

namespace conveyor {

std::string_view RunStateName(RunState s) {
  switch (s) {
    case RunState::kQueued:
      return "queued";
    case RunState::kAcquired:
      return "acquired";
    case RunState::kStarted:
      return "started";
    case RunState::kRetryWait:
      return "retry_wait";
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kCancelled:
      return "cancelled";
    case RunState::kSkipped:
      return "skipped";
  }
  return "queued";
}

std::optional<RunState> RunStateFromName(std::string_view name) {
  constexpr std::array all = {RunState::kQueued,    RunState::kAcquired,  RunState::kStarted,
                              RunState::kRetryWait, RunState::kSucceeded, RunState::kFailed,
                              RunState::kCancelled, RunState::kSkipped};
  for (RunState s : all)
    if (RunStateName(s) == name) return s;
  return std::nullopt;
}

std::string_view RunEventName(RunEvent e) {
  switch (e) {
    case RunEvent::kAcquire:
      return "acquire";
    case RunEvent::kStart:
      return "start";
    case RunEvent::kSucceed:
      return "succeed";
    case RunEvent::kFail:
      return "fail";
    case RunEvent::kFailWithRetry:
      return "fail_with_retry";
    case RunEvent::kRequeue:
      return "requeue";
    case RunEvent::kCancel:
      return "cancel";
  }
  return "?";
}

bool IsFinal(RunState s) {
  return s == RunState::kSucceeded || s == RunState::kFailed || s == RunState::kCancelled ||
         s == RunState::kSkipped;
}

Result<RunState> RunStateMachine::Next(RunState from, RunEvent event) {
  auto refuse = [&] {
    return Fail(ErrorCode::kFailedPrecondition, "a run in state " +
                                                    std::string(RunStateName(from)) + " cannot " +
                                                    std::string(RunEventName(event)));
  };
  if (IsFinal(from)) return refuse();
  switch (event) {
    case RunEvent::kCancel:
      return RunState::kCancelled;
    case RunEvent::kAcquire:
      if (from == RunState::kQueued) return RunState::kAcquired;
      return refuse();
    case RunEvent::kStart:
      // A started run whose owner died is started again by the next owner.
      if (from == RunState::kAcquired || from == RunState::kStarted) return RunState::kStarted;
      return refuse();
    case RunEvent::kSucceed:
      if (from == RunState::kStarted) return RunState::kSucceeded;
      return refuse();
    case RunEvent::kFail:
      if (from == RunState::kStarted) return RunState::kFailed;
      return refuse();
    case RunEvent::kFailWithRetry:
      if (from == RunState::kStarted) return RunState::kRetryWait;
      return refuse();
    case RunEvent::kRequeue:
      if (from == RunState::kRetryWait) return RunState::kQueued;
      return refuse();
  }
  return refuse();
}

}  // namespace conveyor

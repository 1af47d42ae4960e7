#include "conveyor/run_state.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

TEST(RunStateMachine, HappyPathEndsSucceeded) {
  RunState s = RunState::kQueued;
  for (RunEvent e : {RunEvent::kAcquire, RunEvent::kStart, RunEvent::kSucceed}) {
    auto next = RunStateMachine::Next(s, e);
    ASSERT_TRUE(next.has_value()) << next.error().message;
    s = *next;
  }
  EXPECT_EQ(s, RunState::kSucceeded);
}

TEST(RunStateMachine, FailWithAttemptsLeftWaitsThenRequeues) {
  EXPECT_EQ(*RunStateMachine::Next(RunState::kStarted, RunEvent::kFailWithRetry),
            RunState::kRetryWait);
  EXPECT_EQ(*RunStateMachine::Next(RunState::kRetryWait, RunEvent::kRequeue), RunState::kQueued);
}

TEST(RunStateMachine, StartedRunCanBeStartedAgainAfterItsOwnerDied) {
  EXPECT_EQ(*RunStateMachine::Next(RunState::kStarted, RunEvent::kStart), RunState::kStarted);
}

TEST(RunStateMachine, CancelWhileStartedEndsCancelled) {
  EXPECT_EQ(*RunStateMachine::Next(RunState::kStarted, RunEvent::kCancel), RunState::kCancelled);
}

TEST(RunStateMachine, SucceedBeforeStartIsRefusedNamingBoth) {
  auto next = RunStateMachine::Next(RunState::kQueued, RunEvent::kSucceed);
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(next.error().message, "a run in state queued cannot succeed");
}

TEST(RunStateMachine, FinalStatesAcceptNoTransition) {
  for (RunState final_state : {RunState::kSucceeded, RunState::kFailed, RunState::kCancelled})
    for (RunEvent e : {RunEvent::kAcquire, RunEvent::kStart, RunEvent::kSucceed, RunEvent::kFail,
                       RunEvent::kFailWithRetry, RunEvent::kRequeue, RunEvent::kCancel})
      EXPECT_FALSE(RunStateMachine::Next(final_state, e).has_value())
          << RunStateName(final_state) << " + " << RunEventName(e);
}

TEST(RunStateNames, RoundTripAsStoredInPostgres) {
  for (RunState s :
       {RunState::kQueued, RunState::kAcquired, RunState::kStarted, RunState::kRetryWait,
        RunState::kSucceeded, RunState::kFailed, RunState::kCancelled})
    EXPECT_EQ(RunStateFromName(RunStateName(s)), s);
  EXPECT_FALSE(RunStateFromName("Aquired").has_value());
}

}  // namespace
}  // namespace conveyor

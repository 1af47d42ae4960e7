// The rules of a run's life, as pure functions of domain values and the time given (no I/O,
// no clock of their own): which run may start and who holds it (the lease), which runs of a
// batch start as they are queued, where the engine puts a run it is given, which runs a stop
// reaches, when enabling or running a task again queues a run, what a handler's return makes
// of its run, and how long a failed attempt waits. Transitions follow RunStateMachine
// (conveyor/run_state.h).
//
// The RunEngine and the in-memory FakeTaskStore apply them. PgTaskStore decides the same
// in SQL, for speed (one statement per batch of runs); tests/integration/worker/
// run_rules_sql_test.cc holds its statements to these functions case by case. Unit-tested in
// tests/unit/worker/run_rules_test.cc.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/run_state.h"
#include "handlers.h"
#include "task_store.h"

namespace conveyor {

// A run as the store holds it, as far as the rules look at it.
struct RunFacts {
  RunState state = RunState::kQueued;
  int start_count = 0;
  std::string worker;                     // who started it last
  std::optional<Timestamp> heartbeat_at;  // its owner's last sign of life; none once released
  bool cancel_requested = false;
  bool waits_for_previous = false;  // queued behind a run of its task that has not finished
};
RunFacts FactsOf(const PendingRun& run);  // waits_for_previous: false (not read)

// Every state, and the states a run can no longer leave (IsFinal): succeeded, failed,
// cancelled, skipped. A run is live while its state is not final.
std::span<const RunState> AllRunStates();
std::vector<RunState> FinalRunStates();

// --- The lease ------------------------------------------------------------------------------
// A started run belongs to the worker that started it while that worker heartbeats: its owner
// is presumed alive while its last heartbeat is at most `stale_after` old at `now`. A released
// run (no heartbeat) has no owner to wait for.
bool OwnerPresumedAlive(const RunFacts& run, std::string_view worker, Timestamp now,
                        std::chrono::milliseconds stale_after);

// Whether `worker` may start `run` at `now`, having read it at start count `seen_start_count`:
// it is still as read, live, not being cancelled, not queued behind an unfinished run, and
// either not started or started by `worker` itself (before a restart) or by an owner presumed
// dead.
bool MayStart(const RunFacts& run, int seen_start_count, std::string_view worker, Timestamp now,
              std::chrono::milliseconds stale_after);
// The run once `worker` started it at `now`: started (queued runs are acquired and started in
// one step; a run waiting to retry is requeued first), its start count one more, heartbeating.
RunFacts Started(RunFacts run, std::string_view worker, Timestamp now);

// Whether the outcome of the start `start_count` may still be recorded: the run was not
// started again since, and is not final.
bool MayRecordOutcome(const RunFacts& run, int start_count);
// Whether a heartbeat, a retry or a release of the start `start_count` may still be recorded:
// the run is started and was not started again since.
bool HoldsStart(const RunFacts& run, int start_count);

// --- Starting runs --------------------------------------------------------------------------
// A run of a create in a polled batch, as the store queues it.
struct QueuedRun {
  std::string handler;
  bool named_by_others = false;  // another command of the batch names its task
  bool fresh = true;             // its create is new to the inbox (not a redelivery)
};
// Whether a run may start as it is queued at all: no other command of its batch names its task
// (it may change the run) and its handler is not held back (a handler with a limit of its own
// is counted at the engine's next Tick).
bool StartableAsQueued(const QueuedRun& run, const StartOffer& offer);
// Which of a batch's queued runs start as they are queued (StartOffer): in batch order, the
// fresh startable ones while the offer's room lasts.
std::vector<bool> StartAsQueued(const std::vector<QueuedRun>& runs, const StartOffer& offer);

// A run waiting on the engine for a thread, in the order the engine admitted them.
struct WaitingRun {
  std::string handler;
};
// Which waiting runs the engine starts now: in order, while `room` threads are free, skipping
// a run whose handler already runs as many runs as its limit (`limits`, 0 or absent: none)
// allows. `running` counts the runs of each handler on the pool.
std::vector<bool> ChooseRunsToStart(const std::vector<WaitingRun>& waiting, std::size_t room,
                                    const std::map<std::string, std::size_t>& running,
                                    const std::map<std::string, std::size_t>& limits);

// Where the engine puts a run it is given (read from the store) as `worker` at `now`.
enum class Admission {
  kDone,    // final already: nothing to do
  kCancel,  // a cancel was requested: it ends cancelled without running
  kRetry,   // waiting to retry: it waits until not_before
  kWatch,   // started by an owner presumed alive: looked at again until it finishes or goes
            // quiet
  kWait,    // to start when there is room
};
Admission Admit(const PendingRun& run, std::string_view worker, Timestamp now,
                std::chrono::milliseconds stale_after);

// --- Stopping and running again -------------------------------------------------------------
// Whether a stop of the run's task (cancel, delete, disabling update, batch-update stop)
// reaches the run: it is live. A stop marks it cancel_requested; a running handler is told.
bool StopReaches(const RunFacts& run);
// Whether enabling a disabled task queues a run: none of its runs succeeded or failed, and
// none is live without a cancel requested.
bool EnablingQueuesARun(std::span<const RunFacts> runs_of_task);
// Whether a batch-update's run_again queues a run: the task has no live run.
bool RunAgainQueuesARun(std::span<const RunFacts> runs_of_task);

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

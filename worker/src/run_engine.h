// RunEngine executes runs on a pool of executor threads, apart from the poll loop, and records
// what happens to them. The pool starts its threads as runs need them (one more each time a
// queued run finds none idle), up to the concurrency. The poll loop owns it: Admit, Cancel,
// Tick and Relinquish are called from that one thread; handlers run on the pool's threads.
//
// Time comes from two injected clocks: `clock` (wall time, recorded in the store and compared
// with the heartbeats other workers recorded) and `monotonic` (when to look again, heartbeat
// and progress intervals, timeouts, grace periods); nothing reads the system's clocks itself.
//
// A run admitted to the engine is, at any moment, in one of four places:
//   waiting   ready to start when the pool and its handler's limit have room;
//   watching  started by another worker that still heartbeats: checked again until that
//             worker finishes it or goes quiet (then this worker starts it: start count + 1);
//   retrying  failed with attempts left: waits until its backoff (exponential, with jitter)
//             has passed;
//   running   on an executor thread, heartbeating, its progress recorded throttled.
// Tick records outcomes in batches (one transaction for many runs, notifications in the
// outbox in the same transaction), applies timeouts, starts what has room, and reports the
// origins (Kafka events) whose work is complete so the loop may commit past them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/clock.h"
#include "handlers.h"
#include "monotonic_clock.h"
#include "run_rules.h"
#include "task_store.h"
#include "worker_metrics.h"

namespace conveyor {

struct EngineSettings {
  std::string worker_name;  // recorded on runs (LastRunBy); owner of its heartbeats
  std::string source;       // CloudEvents source of the notifications
  std::string notifications_topic = "conveyor.notifications";
  std::size_t concurrency = 8;                        // runs at once on this worker
  std::map<std::string, std::size_t> handler_limits;  // runs at once per handler (0/absent: none)
  std::chrono::milliseconds heartbeat_interval{2000};
  std::chrono::milliseconds stale_after{15000};  // a run's owner is presumed dead after this
  std::chrono::milliseconds progress_interval{1000};
  int progress_step = 5;  // percent points that are recorded without waiting for the interval
  std::chrono::milliseconds max_retry_backoff{300000};
  // Called after notifications were written to the outbox (wakes the relay); may be empty.
  std::function<void()> notification_written;
};

// The Kafka event a run came from.
struct RunOrigin {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

struct EngineCounters {
  std::uint64_t started = 0, succeeded = 0, failed = 0, cancelled = 0, retried = 0, released = 0;
};

class RunEngine {
 public:
  // `metrics` (may be null: nothing is counted) must outlive the engine.
  RunEngine(EngineSettings settings, TaskStore& store, const HandlerRegistry& handlers,
            const Clock& clock, const MonotonicClock& monotonic, WorkerMetrics* metrics = nullptr);
  ~RunEngine();  // cancels what still runs (as a shutdown) and joins the pool
  RunEngine(const RunEngine&) = delete;
  RunEngine& operator=(const RunEngine&) = delete;

  // Takes a run read from the store and places it as Admit (run_rules.h) says; one that is
  // final already is done at once (TakeDone). A run the engine holds already only gains the
  // origin.
  void Admit(PendingRun run, RunOrigin origin);
  // Takes a run the store started for this worker as it queued it (StartOffer) and puts it
  // on the pool at once.
  void AdmitStarted(StartedRun run, RunOrigin origin);
  // What this worker can start at once: its executors not taken by running runs or by runs
  // waiting to start (those go first). Handlers with a limit of their own are held back:
  // their runs wait for StartWaiting, which counts them.
  StartOffer Offer();
  // A cancel was applied for this task: a running run is signalled, a waiting one ends
  // cancelled at the next Tick.
  void Cancel(const Uuid& task_id);
  // One step; an error (database away) leaves everything in place for the next Tick.
  Status Tick();
  // Waits up to `d` (of the monotonic clock) for a handler to finish (returns early when one
  // does).
  void WaitForCompletion(std::chrono::milliseconds d);

  // Gives up the runs of the origins `matches` selects (a revoked partition, or all at
  // shutdown): runs not started are dropped (the next owner consumes their events again);
  // running ones get `grace` to finish, then are cancelled as a shutdown and released so the
  // next owner starts them again at once. Returns when none of them runs, or after
  // `grace` + `hard_limit` (a handler that ignores cancellation is abandoned, and logged).
  void Relinquish(const std::function<bool(const RunOrigin&)>& matches,
                  std::chrono::milliseconds grace, std::chrono::milliseconds hard_limit);

  std::vector<RunOrigin> TakeDone();  // origins whose work is complete, since the last call
  std::size_t Load() const { return jobs_.size(); }  // runs held, in any place
  // Runs on the pool, abandoned ones (Relinquish) included until their handler returns.
  std::size_t Running() const { return running_; }
  bool HasCompletions();
  // Pool threads started so far: none until a run is queued, then one more each time queued
  // runs find none idle, up to the concurrency.
  std::size_t Threads();
  const EngineCounters& counters() const { return counters_; }

 private:
  class Progress;
  struct Job;
  struct Completion {
    std::string run_id;
    int start_count = 0;
    HandlerResult result;
    CancelReason cancel_reason = CancelReason::kNone;
  };
  enum class Place { kWaiting, kWatching, kRetrying, kRunning };
  // A batch of completions as it is recorded: what the store writes, and what becomes of each
  // job once it is written.
  struct Recording {
    struct Next {
      std::string run_id;
      CompletionDecision::Kind kind;
      std::chrono::milliseconds delay{};  // kRetry
    };
    std::vector<FinishedRun> finished;
    std::vector<RetryingRun> retrying;
    std::vector<StartedRun> released;
    std::vector<Next> next;
  };

  void Worker();  // a pool thread; WakeOneLocked starts it, counted in wakes_pending_
  // mu_ held: wakes a pool thread for the queue, or starts one, if one is needed
  void WakeOneLocked();
  void Launch(Job& job, StartedRun started);
  // Records the outcomes handlers returned since the last call: Classify decides each
  // (run_rules.h), the store records them all, Report logs and counts them, Settle frees their
  // threads and completes their jobs or puts them back to wait for a retry.
  Status RecordCompletions();
  void Classify(const Completion& c, Recording& recording);
  void Report(const Recording& recording);
  static void Count(const Recording& recording, WorkerMetrics& metrics);
  void Settle(const Recording::Next& next);
  Status CancelWaiting();
  Status StartWaiting();
  Status CheckWatched();
  // The runs among `ids` that are not final yet, by id (a missing one is final).
  Result<std::map<std::string, PendingRun>> Reread(const std::vector<Uuid>& ids);
  Status SendHeartbeats(bool all);
  void Finish(Job& job, RunState state, std::string result, std::optional<std::string> file,
              std::string log, std::vector<FinishedRun>* out);
  std::optional<OutgoingMessage> Notification(const StartedRun& run,
                                              const RunOutcome& outcome) const;
  OutgoingMessage ProgressNotification(const StartedRun& run, int percent,
                                       const std::string& description) const;
  std::chrono::milliseconds Backoff(const Job& job);
  MonotonicTime MonotonicAt(Timestamp at) const;  // when the wall clock shows `at`
  void Complete(const std::string& run_id);

  EngineSettings settings_;
  TaskStore& store_;
  const HandlerRegistry& handlers_;
  const Clock& clock_;
  const MonotonicClock& monotonic_;
  WorkerMetrics* metrics_;

  std::map<std::string, std::unique_ptr<Job>> jobs_;  // by run id
  std::map<std::string, std::size_t> running_by_handler_;
  std::size_t running_ = 0;
  std::uint64_t next_seq_ = 0;
  std::vector<std::string> cancel_waiting_;  // run ids
  // Runs whose handler ignored cancellation and was abandoned by Relinquish, by run id and
  // start count, with their handler: counted in running_ until the handler returns.
  std::map<std::pair<std::string, int>, std::string> abandoned_;
  std::vector<RunOrigin> done_;
  std::optional<MonotonicTime> last_heartbeat_;
  std::optional<MonotonicTime> last_progress_;
  std::mt19937_64 random_{std::random_device{}()};
  EngineCounters counters_;

  // The executor pool.
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::function<Completion()>> queue_;  // runs to execute: each gives its outcome
  std::size_t idle_ = 0;                           // pool threads waiting for work
  std::size_t wakes_pending_ = 0;                  // woken and not yet running (WakeOneLocked)
  std::vector<Completion> completions_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // grows under mu_ (WakeOneLocked) until stopping_
};

}  // namespace conveyor

// What a task type runs. A Handler gets the task's parameters, a progress reporter, a
// cancellation token and a deadline, and returns a result or a failure that says whether a
// retry can help. Handlers run at least once: a run interrupted by a crash is started again by
// the worker that takes over, so handlers must be idempotent.
//
// Handlers run on the worker's executor threads, never on the poll loop; one Handler object
// serves many runs at once, so Run must be thread-safe.
//
// HandlerRegistry maps handler names (task_types.handler) to handlers. It is filled before
// the worker starts and read-only afterwards, so lookups are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "conveyor/result.h"
#include "conveyor/task.h"

namespace conveyor {

// Receives a running handler's progress. Report is cheap to call often: the worker records
// progress throttled (on a time and a percent step), not on every call.
class ProgressReporter {
 public:
  virtual ~ProgressReporter() = default;
  // percent in [0, 100] (clamped); description is free text shown to API callers.
  virtual void Report(int percent, std::string description) = 0;
};

// Why a run is asked to stop.
enum class CancelReason {
  kNone = 0,
  kStopRequested,  // a caller stopped the task (StopBatchJob, Enabled=false, Oracle status)
  kTimedOut,       // the task type's timeout passed
  kShutdown,       // the worker drains (SIGTERM) or lost the partition; the run will be resumed
};
std::string_view CancelReasonName(CancelReason r);

// Set once by the worker, read by the handler. Thread-safe.
class CancellationToken {
 public:
  // Asks the handler to stop; the first reason wins.
  void Cancel(CancelReason reason);
  bool cancelled() const { return reason_.load() != CancelReason::kNone; }
  CancelReason reason() const { return reason_.load(); }
  // Waits up to `d`; true as soon as the token is cancelled. For handlers that pause.
  bool WaitFor(std::chrono::steady_clock::duration d) const;

 private:
  std::atomic<CancelReason> reason_{CancelReason::kNone};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
};

struct HandlerContext {
  const Task& task;
  const Uuid& run_id;
  int start_count = 1;  // how often this run was started (crash recovery counts)
  int attempt = 1;      // 1 for the first attempt, 2 for the first retry, ...
  ProgressReporter& progress;
  const CancellationToken& cancel;
  // The type's timeout (time_point::max(): none), on the engine's monotonic clock: the steady
  // clock in the worker (a fake one in tests). The engine cancels the run (kTimedOut) once it
  // passed; a handler may use it to bound what it waits for.
  std::chrono::steady_clock::time_point deadline;
};

// What a successful run leaves on its record.
struct HandlerOutput {
  std::string result;                    // the run's result text (SuperOffice Response)
  std::optional<std::string> file_name;  // a file the run produced (SuperOffice FileName)
  std::string log;                       // bounded diagnostic text (e.g. a program's stderr)
};

// Why a run did not succeed.
struct HandlerFailure {
  std::string message;
  bool retryable = false;  // true when running it again may succeed
  std::string log;
};

using HandlerResult = std::expected<HandlerOutput, HandlerFailure>;

class Handler {
 public:
  virtual ~Handler() = default;
  // Runs the task. When `context.cancel` is cancelled the handler should stop soon and
  // return a failure; the worker records the run as cancelled (or resumes it later for
  // kShutdown) whatever the failure says.
  virtual HandlerResult Run(const HandlerContext& context) = 0;
};

// Does nothing and succeeds: for demos, tests and benchmarks.
class NoopHandler final : public Handler {
 public:
  HandlerResult Run(const HandlerContext&) override { return HandlerOutput{"ok", {}, {}}; }
};

// Sleeps for the task's Parameters {"seconds": S (default 1), "steps": N (default 10)}, reporting
// progress N times; stops early when cancelled. For demos, tests and benchmarks.
class SleepHandler final : public Handler {
 public:
  HandlerResult Run(const HandlerContext& context) override;
};

class HandlerRegistry {
 public:
  // A registry holding the built-in handlers (noop, sleep).
  static HandlerRegistry WithBuiltins();

  void Register(std::string name, std::shared_ptr<Handler> handler);
  Handler* Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<Handler>> handlers_;
};

}  // namespace conveyor

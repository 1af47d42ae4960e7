// WorkerMetrics: what a worker counts and measures for Prometheus, registered once in the
// process's metrics::Registry (docs/operations.md explains each). The components call the
// typed methods below; a component given no WorkerMetrics (tests) records nothing.
//
// Label values are bounded: a handler name (from the worker's configuration), an outcome from
// a fixed list. Thread-safe: every method may be called from any thread.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/kafka.h"
#include "conveyor/metrics.h"

namespace conveyor {

class WorkerMetrics {
 public:
  explicit WorkerMetrics(metrics::Registry& registry);

  // A batch of commands: applied, seen before (deduplicated by the inbox), dead-lettered.
  void CommandsIngested(std::size_t applied, std::size_t duplicates, std::size_t dead_lettered);

  void RunStarted(const std::string& handler);
  // `outcome`: succeeded, failed or cancelled; `seconds` from its start to its end.
  void RunFinished(const std::string& handler, std::string_view outcome, double seconds);
  void RunRetried(const std::string& handler);   // an attempt failed; the run waits to retry
  void RunReleased(const std::string& handler);  // handed over at shutdown or rebalance
  void RunTimedOut(const std::string& handler);  // cancelled at its task type's timeout
  void RunCancelledBeforeStart(const std::string& handler);  // cancelled while waiting

  // Threads the run pool has started (it starts them as runs need them, up to --concurrency).
  void RunThreads(std::size_t threads);

  // The consumer loop's state, set on each pass.
  void LoopState(std::size_t held, std::size_t running, std::size_t partitions, bool paused);

  // Each assigned partition's lag; partitions reported before and missing now (revoked) are
  // set to 0, so that only their new owner reports them.
  void ConsumerLag(const std::vector<PartitionLag>& lags);

  // A due time fired, `lag_seconds` after it was due.
  void Fired(double lag_seconds);

 private:
  metrics::CounterFamily& commands_;
  metrics::CounterFamily& runs_started_;
  metrics::CounterFamily& runs_ended_;
  metrics::HistogramFamily& run_duration_;
  metrics::CounterFamily& run_timeouts_;
  metrics::Gauge& runs_held_;
  metrics::Gauge& runs_running_;
  metrics::Gauge& run_threads_;
  metrics::Gauge& partitions_;
  metrics::Gauge& paused_;
  metrics::GaugeFamily& lag_;
  std::mutex lag_mutex_;
  std::set<std::pair<std::string, std::int32_t>> lag_reported_;
  metrics::Counter& fired_;
  metrics::Histogram& firing_lag_;
};

}  // namespace conveyor

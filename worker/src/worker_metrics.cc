#include "worker_metrics.h"

namespace conveyor {

WorkerMetrics::WorkerMetrics(metrics::Registry& r)
    : commands_(r.AddCounter("conveyor_commands_total",
                             "Command events consumed, by what became of them: applied, "
                             "duplicate (seen before; the inbox kept them from applying twice) "
                             "or dead_lettered (sent to the DLQ topic)",
                             {"outcome"})),
      runs_started_(r.AddCounter("conveyor_runs_started_total",
                                 "Run starts on this worker (a retry is a new start)",
                                 {"handler"})),
      runs_ended_(r.AddCounter(
          "conveyor_run_attempts_ended_total",
          "Run attempts that ended on this worker: succeeded, failed, cancelled (final), "
          "retried (failed with attempts left) or released (handed over at shutdown or "
          "rebalance)",
          {"handler", "outcome"})),
      run_duration_(r.AddHistogram("conveyor_run_duration_seconds",
                                   "From a run's start to its final outcome on this worker",
                                   metrics::ExponentialBuckets(0.001, 4, 12), {"handler"})),
      run_timeouts_(r.AddCounter("conveyor_run_timeouts_total",
                                 "Run attempts cancelled at their task type's timeout",
                                 {"handler"})),
      runs_held_(r.AddGauge("conveyor_runs_held",
                            "Runs this worker holds: running, waiting for a slot or a retry")
                     .With({})),
      runs_running_(
          r.AddGauge("conveyor_runs_running", "Runs executing on this worker's pool now").With({})),
      run_threads_(r.AddGauge("conveyor_run_threads",
                              "Threads this worker's run pool has started: one more each time a "
                              "run finds none idle, up to --concurrency")
                       .With({})),
      partitions_(r.AddGauge("conveyor_consumer_assigned_partitions",
                             "Command partitions assigned to this group member")
                      .With({})),
      paused_(r.AddGauge("conveyor_consumer_paused",
                         "1 while fetching is paused because the worker holds as many runs as "
                         "it may (backpressure)")
                  .With({})),
      lag_(r.AddGauge("conveyor_consumer_lag_messages",
                      "Command events of an assigned partition not consumed yet, from the latest "
                      "fetch (frozen while the partition is paused)",
                      {"topic", "partition"})),
      fired_(r.AddCounter("conveyor_schedule_fires_total",
                          "Due times this worker's scheduler fired (published a fire command)")
                 .With({})),
      firing_lag_(r.AddHistogram("conveyor_schedule_firing_lag_seconds",
                                 "From a due time to its fire command's acknowledgement",
                                 metrics::ExponentialBuckets(0.005, 2, 14))
                      .With({})) {
  commands_.With({"applied"});
  commands_.With({"duplicate"});
  commands_.With({"dead_lettered"});
}

void WorkerMetrics::CommandsIngested(std::size_t applied, std::size_t duplicates,
                                     std::size_t dead_lettered) {
  commands_.With({"applied"}).Add(static_cast<double>(applied));
  commands_.With({"duplicate"}).Add(static_cast<double>(duplicates));
  commands_.With({"dead_lettered"}).Add(static_cast<double>(dead_lettered));
}

void WorkerMetrics::RunStarted(const std::string& handler) { runs_started_.With({handler}).Inc(); }

void WorkerMetrics::RunFinished(const std::string& handler, std::string_view outcome,
                                double seconds) {
  runs_ended_.With({handler, std::string(outcome)}).Inc();
  run_duration_.With({handler}).Observe(seconds);
}

void WorkerMetrics::RunRetried(const std::string& handler) {
  runs_ended_.With({handler, "retried"}).Inc();
}

void WorkerMetrics::RunReleased(const std::string& handler) {
  runs_ended_.With({handler, "released"}).Inc();
}

void WorkerMetrics::RunCancelledBeforeStart(const std::string& handler) {
  runs_ended_.With({handler, "cancelled"}).Inc();
}

void WorkerMetrics::RunTimedOut(const std::string& handler) { run_timeouts_.With({handler}).Inc(); }

void WorkerMetrics::RunThreads(std::size_t threads) {
  run_threads_.Set(static_cast<double>(threads));
}

void WorkerMetrics::LoopState(std::size_t held, std::size_t running, std::size_t partitions,
                              bool paused) {
  runs_held_.Set(static_cast<double>(held));
  runs_running_.Set(static_cast<double>(running));
  partitions_.Set(static_cast<double>(partitions));
  paused_.Set(paused ? 1 : 0);
}

void WorkerMetrics::ConsumerLag(const std::vector<PartitionLag>& lags) {
  std::lock_guard lock(lag_mutex_);
  auto gone = std::move(lag_reported_);
  lag_reported_.clear();
  for (const auto& l : lags) {
    lag_.With({l.topic, std::to_string(l.partition)}).Set(static_cast<double>(l.lag));
    lag_reported_.insert({l.topic, l.partition});
    gone.erase({l.topic, l.partition});
  }
  for (const auto& [topic, partition] : gone) lag_.With({topic, std::to_string(partition)}).Set(0);
}

void WorkerMetrics::Fired(double lag_seconds) {
  fired_.Inc();
  firing_lag_.Observe(lag_seconds);
}

}  // namespace conveyor

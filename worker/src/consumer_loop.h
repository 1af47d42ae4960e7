// ConsumerLoop drives one consumer-group member through its EventSource. It polls, ingests each
// batch (apply to PostgreSQL, dead-letter what cannot be applied), hands the runs to the RunEngine,
// and commits per partition up to the oldest event whose run is not final yet. It never blocks on
// a run: when the engine holds as many runs as it may (`max_held`), it pauses its partitions
// and keeps polling, so the member stays in the group however long a task takes; it resumes
// them when the engine has room again.
//
// On a revoke (rebalance) it stops taking events of those partitions, gives their running
// runs a grace period, cancels the rest as a shutdown (the next owner starts them again),
// commits and lets the partitions go. Run returns when `stop` is set, after the same drain
// for every partition, or on a fatal consumer error.
#pragma once

#include <atomic>
#include <chrono>

#include "command_processor.h"
#include "conveyor/kafka.h"
#include "event_source.h"
#include "monotonic_clock.h"
#include "offset_tracker.h"
#include "run_engine.h"

namespace conveyor {

struct ConsumerLoopSettings {
  std::size_t batch_size = 500;
  std::size_t max_held = 0;  // most runs held by the engine before pausing; 0: 4 × concurrency
  std::chrono::milliseconds poll_timeout{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds commit_interval{200};
  std::chrono::milliseconds revoke_grace{10000};    // running runs of a lost partition
  std::chrono::milliseconds shutdown_grace{20000};  // running runs at SIGTERM
  std::chrono::milliseconds cancel_limit{30000};    // after the grace, for handlers to stop
};

// Where the member stands in its group, as readiness and metrics see it from other threads.
struct GroupStatus {
  bool joined = false;         // an assignment arrived (possibly empty: more members than
                               // partitions), and the member has not left since
  std::size_t partitions = 0;  // assigned now
  bool paused = false;         // fetching paused for backpressure
};

struct LoopReport {
  bool drained_cleanly = true;  // no run had to be cancelled at shutdown
  std::size_t pauses = 0;
};

class ConsumerLoop final : public RebalanceListener {
 public:
  // `clock` times commits and backoffs; every argument must outlive the loop. `metrics` may be
  // null (nothing is counted).
  ConsumerLoop(ConsumerLoopSettings settings, CommandProcessor& processor, RunEngine& engine,
               std::size_t concurrency, const MonotonicClock& clock,
               WorkerMetrics* metrics = nullptr);

  // Until `stop` is set (then drains) or the source fails fatally. The source must tell
  // this loop (its RebalanceListener) of the partitions it gains and loses.
  Result<LoopReport> Run(EventSource& source, const std::atomic<bool>& stop);

  void OnAssigned(const std::vector<TopicPartition>& partitions) override;
  void OnRevoked(const std::vector<TopicPartition>& partitions, bool lost) override;

  // Thread-safe.
  GroupStatus group_status() const;

 private:
  // true when applied; false when `stop` was set while the database was away.
  Result<bool> IngestWithRetry(const std::vector<ConsumedMessage>& batch,
                               const std::atomic<bool>& stop);
  // Waits up to `d`, waking early when `stop` is set. Backoff between retries, not a sync.
  void PauseUnlessStopped(const std::atomic<bool>& stop, std::chrono::milliseconds d);
  void Commit(std::vector<PartitionOffset> offsets);
  void FlushDone();

  ConsumerLoopSettings settings_;
  CommandProcessor& processor_;
  RunEngine& engine_;
  const MonotonicClock& clock_;
  WorkerMetrics* metrics_;
  EventSource* source_ = nullptr;
  OffsetTracker tracker_;
  LoopReport report_;
  std::atomic<bool> joined_{false};
  std::atomic<std::size_t> partitions_{0};
  std::atomic<bool> paused_{false};
};

}  // namespace conveyor

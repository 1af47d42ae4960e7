#include "consumer_loop.h"

#include <map>
#include <thread>

#include "conveyor/logging.h"

namespace conveyor {
namespace {

std::vector<PartitionOffset> NextOffsets(const std::vector<ConsumedMessage>& batch) {
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> next;
  for (const auto& m : batch) {
    auto& n = next[{m.topic, m.partition}];
    n = std::max(n, m.offset + 1);
  }
  std::vector<PartitionOffset> out;
  for (const auto& [tp, offset] : next) out.push_back({tp.first, tp.second, offset});
  return out;
}

// Waits up to `d`, waking early when `stop` is set. Backoff between retries, not a sync.
void PauseUnlessStopped(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!stop && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

Status ConsumerLoop::Run(const std::atomic<bool>& stop) {
  auto log = logging::Get("worker");
  while (!stop) {
    auto batch = consumer_.Poll(settings_.batch_size, settings_.poll_timeout);
    if (!batch) return std::unexpected(batch.error());
    if (batch->empty()) continue;

    std::chrono::milliseconds backoff(100);
    while (true) {
      auto report = processor_.Process(*batch);
      if (report) {
        log->debug("batch of {}: {} applied, {} seen before, {} dead-lettered, {} runs finished",
                   batch->size(), report->applied, report->duplicates, report->dead_lettered,
                   report->runs_finished);
        break;
      }
      if (!report.error().retryable()) {
        // A defect, not a passing fault: stop rather than commit past unprocessed events.
        log->error("batch failed: {}", report.error().Describe());
        consumer_.Close();
        return std::unexpected(report.error());
      }
      log->warn("batch of {} not processed, retrying in {} ms: {}", batch->size(), backoff.count(),
                report.error().Describe());
      PauseUnlessStopped(stop, backoff);
      if (stop) {
        consumer_.Close();  // uncommitted: the next owner gets the batch again
        return {};
      }
      backoff = std::min(backoff * 2, settings_.max_backoff);
    }

    if (auto committed = consumer_.Commit(NextOffsets(*batch)); !committed)
      // The events are recorded; a redelivery after a failed commit is a no-op.
      log->warn("{}", committed.error().Describe());
  }
  consumer_.Close();
  return {};
}

}  // namespace conveyor

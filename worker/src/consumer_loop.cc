#include "consumer_loop.h"

#include <set>

#include "conveyor/logging.h"

namespace conveyor {
namespace {

RunOrigin OriginOf(const ConsumedMessage& m) { return {m.topic, m.partition, m.offset}; }

}  // namespace

ConsumerLoop::ConsumerLoop(ConsumerLoopSettings settings, CommandProcessor& processor,
                           RunEngine& engine, std::size_t concurrency, const MonotonicClock& clock,
                           WorkerMetrics* metrics)
    : settings_(settings),
      processor_(processor),
      engine_(engine),
      clock_(clock),
      metrics_(metrics) {
  if (settings_.max_held == 0) settings_.max_held = 4 * std::max<std::size_t>(1, concurrency);
}

void ConsumerLoop::PauseUnlessStopped(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  auto until = clock_.Now() + d;
  while (!stop && clock_.Now() < until)
    clock_.SleepFor(std::min(std::chrono::milliseconds(20),
                             std::chrono::ceil<std::chrono::milliseconds>(until - clock_.Now())));
}

void ConsumerLoop::FlushDone() {
  for (const auto& o : engine_.TakeDone()) tracker_.Done({o.topic, o.partition}, o.offset);
}

void ConsumerLoop::Commit(std::vector<PartitionOffset> offsets) {
  if (offsets.empty() || !source_) return;
  if (auto s = source_->Commit(offsets); !s)
    // The events are recorded; committing later (or a redelivery) is harmless.
    logging::Get("worker")->warn("{}", s.error().Describe());
}

Result<bool> ConsumerLoop::IngestWithRetry(const std::vector<ConsumedMessage>& batch,
                                           const std::atomic<bool>& stop) {
  auto log = logging::Get("worker");
  std::chrono::milliseconds backoff(100);
  while (true) {
    auto report = processor_.Ingest(batch, [this] { return engine_.Offer(); });
    // Started by a batch statement that committed before the batch failed: run them now
    // (the retry finds their events seen before and only adds the origins).
    for (auto& [run, m] : processor_.TakeUnclaimedStarted())
      engine_.AdmitStarted(std::move(run), OriginOf(*m));
    if (report) {
      // Stops first: a run this batch queued (a re-enabled task) is not one they stop.
      for (const auto& task : report->cancelled_tasks) engine_.Cancel(task);
      for (auto& [run, m] : report->started) engine_.AdmitStarted(std::move(run), OriginOf(*m));
      for (auto& [run, m] : report->runs) engine_.Admit(std::move(run), OriginOf(*m));
      for (const auto* m : report->done) tracker_.Done({m->topic, m->partition}, m->offset);
      if (metrics_)
        metrics_->CommandsIngested(report->applied, report->duplicates, report->dead_lettered);
      log->debug(
          "batch of {}: {} applied, {} seen before, {} dead-lettered, {} runs started, {} to do",
          batch.size(), report->applied, report->duplicates, report->dead_lettered,
          report->started.size(), report->runs.size());
      return true;
    }
    if (!report.error().retryable()) return std::unexpected(report.error());
    log->warn("batch of {} not applied, retrying in {} ms: {}", batch.size(), backoff.count(),
              report.error().Describe());
    // Keep the member alive and the running runs recorded while the database is away.
    if (auto s = engine_.Tick(); !s) log->debug("{}", s.error().Describe());
    PauseUnlessStopped(stop, backoff);
    if (stop) return false;  // stopping: nothing of the batch is committed
    backoff = std::min(backoff * 2, settings_.max_backoff);
  }
}

Result<LoopReport> ConsumerLoop::Run(EventSource& source, const std::atomic<bool>& stop) {
  source_ = &source;
  auto log = logging::Get("worker");
  auto last_commit = clock_.Now();
  Status failure;
  while (!stop) {
    // Backpressure: the engine holds at most max_held runs; beyond that the partitions wait.
    std::size_t held = engine_.Load();
    if (!source.paused() && held >= settings_.max_held) {
      if (auto s = source.Pause(); s) {
        ++report_.pauses;
        paused_ = true;
        log->info("paused: {} runs held (limit {})", held, settings_.max_held);
      }
    } else if (source.paused() && held < settings_.max_held / 2 + 1) {
      if (auto s = source.Resume(); s) {
        paused_ = false;
        log->info("resumed: {} runs held", held);
      }
    }
    std::size_t room =
        source.paused() ? 1 : settings_.max_held - std::min(held, settings_.max_held);
    auto timeout = engine_.HasCompletions() ? std::chrono::milliseconds(0)
                   : engine_.Running() > 0  ? std::chrono::milliseconds(20)
                                            : settings_.poll_timeout;
    auto batch = source.Poll(std::clamp<std::size_t>(room, 1, settings_.batch_size), timeout);
    if (!batch) {
      failure = std::unexpected(batch.error());
      break;
    }
    if (!batch->empty()) {
      for (const auto& m : *batch) tracker_.Track({m.topic, m.partition}, m.offset);
      auto ingested = IngestWithRetry(*batch, stop);
      if (!ingested) {
        failure = std::unexpected(ingested.error());
        break;
      }
      if (!*ingested) break;
    }
    if (auto s = engine_.Tick(); !s) log->warn("{}", s.error().Describe());
    FlushDone();
    if (metrics_)
      metrics_->LoopState(engine_.Load(), engine_.Running(), partitions_, source.paused());
    auto now = clock_.Now();
    if (now - last_commit >= settings_.commit_interval) {
      Commit(tracker_.TakeCommittable());
      last_commit = now;
      if (metrics_) metrics_->ConsumerLag(source.Lag());
    }
  }

  // Drain: no more events; running runs get the shutdown grace, then are cancelled and
  // released for the next owner.
  std::size_t running = engine_.Running();
  if (running > 0)
    log->info("draining: {} run(s) running, {} ms to finish", running,
              settings_.shutdown_grace.count());
  auto before = engine_.counters().released;
  engine_.Relinquish([](const RunOrigin&) { return true; }, settings_.shutdown_grace,
                     settings_.cancel_limit);
  report_.drained_cleanly = engine_.counters().released == before && engine_.Running() == 0;
  FlushDone();
  Commit(tracker_.TakeCommittable());
  source.Close();
  source_ = nullptr;
  joined_ = false;
  partitions_ = 0;
  if (!failure) return std::unexpected(failure.error());
  return report_;
}

void ConsumerLoop::OnAssigned(const std::vector<TopicPartition>& partitions) {
  logging::Get("worker")->debug("assigned {} partition(s)", partitions.size());
  partitions_ += partitions.size();
  joined_ = true;
}

GroupStatus ConsumerLoop::group_status() const {
  return {joined_.load(), partitions_.load(), paused_.load()};
}

void ConsumerLoop::OnRevoked(const std::vector<TopicPartition>& partitions, bool lost) {
  auto log = logging::Get("worker");
  std::set<std::pair<std::string, std::int32_t>> gone;
  for (const auto& p : partitions) gone.insert({p.topic, p.partition});
  engine_.Relinquish(
      [&](const RunOrigin& o) {
        return gone.contains({o.topic, o.partition});
      },
      lost ? std::chrono::milliseconds(0) : settings_.revoke_grace, settings_.cancel_limit);
  FlushDone();
  std::vector<OffsetTracker::Partition> ps(gone.begin(), gone.end());
  if (!lost) Commit(tracker_.Committable(ps));
  for (const auto& p : ps) tracker_.Forget(p);
  partitions_ -= std::min(partitions_.load(), ps.size());
  log->info("{} {} partition(s): work handed over", lost ? "lost" : "gave up", ps.size());
}

}  // namespace conveyor

#include "commands/create_redrive.h"

#include <algorithm>
#include <utility>

namespace conveyor {

CreateRedrive::CreateRedrive(Progress progress, UnappliedCreates& records,
                             TaskCommandService& commands, const Clock& clock,
                             RedriveSettings settings, metrics::Registry& registry)
    : progress_(std::move(progress)),
      records_(records),
      commands_(commands),
      clock_(clock),
      settings_(settings),
      republished_(registry
                       .AddCounter("conveyor_creates_republished_total",
                                   "Acknowledged creates that no worker read, published again "
                                   "and acknowledged (docs/faults.md)")
                       .With({})) {}

CreateRedrive::~CreateRedrive() { Stop(); }

bool CreateRedrive::Passed(const std::vector<PartitionProgress>& now, const Mark& mark) {
  return std::ranges::all_of(mark.partitions, [&](const PartitionProgress& then) {
    if (then.end <= then.start) return true;  // it held nothing to consume
    auto p = std::ranges::find(now, then.partition, &PartitionProgress::partition);
    return p != now.end() && p->committed >= then.end;
  });
}

Result<std::size_t> CreateRedrive::RunOnce() {
  auto progress = progress_();
  if (!progress) return std::unexpected(progress.error());
  Mark next{clock_.Now(), std::move(*progress)};
  if (mark_ && !Passed(next.partitions, *mark_)) return 0;  // a backlog, or the group is away
  auto passed = std::exchange(mark_, std::move(next));
  if (!passed) return 0;
  return Redrive(passed->at - settings_.margin);
}

Result<std::size_t> CreateRedrive::Redrive(Timestamp before) {
  auto lost = records_.Unapplied(before, settings_.batch);
  if (!lost) return std::unexpected(lost.error());
  // One published again before `before` and still unapplied was lost again: it may go again.
  std::erase_if(redriven_, [&](const auto& entry) { return entry.second < before; });
  std::size_t sent = 0;
  for (const auto& record : *lost) {
    const auto id = record.task.id;
    if (!redriven_.try_emplace(id, clock_.Now()).second) continue;  // not yet passed since
    log_->warn(
        "task={} event={} create acknowledged at offset {} was not consumed by the workers, who "
        "have passed that point: publishing it again",
        id.ToString(), record.event_id.ToString(), record.offset);
    commands_.RepublishCreateThen(record, [this, id](Status s) {
      if (s) return republished_.Inc();
      log_->warn(
          "task={} create published again was not acknowledged ({}); a later pass tries "
          "again",
          id.ToString(), s.error().Describe());
    });
    ++sent;
  }
  return sent;
}

void CreateRedrive::Start() {
  if (settings_.every.count() == 0) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      if (auto pass = RunOnce(); !pass)
        log_->warn("the pass for lost creates failed: {}", pass.error().Describe());
      lock.lock();
      wake_.wait_for(lock, settings_.every, [this] { return stopping_; });
    }
  });
}

void CreateRedrive::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace conveyor

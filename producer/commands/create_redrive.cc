#include "commands/create_redrive.h"

#include <algorithm>
#include <utility>

#include "conveyor/time_format.h"

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

bool CreateRedrive::Passed(const std::vector<PartitionProgress>& now, const Mark& mark) {
  return std::ranges::all_of(mark.partitions, [&](const PartitionProgress& then) {
    if (then.end <= then.start) return true;  // it held nothing to consume
    auto p = std::ranges::find(now, then.partition, &PartitionProgress::partition);
    return p != now.end() && p->committed >= then.end;
  });
}

Result<std::size_t> CreateRedrive::RunOnce() {
  // The time before the ends: a slow answer must not move the mark past what it read.
  const auto now = clock_.Now();
  auto progress = progress_();
  if (!progress) return std::unexpected(progress.error());
  Mark next{now, std::move(*progress)};
  if (mark_ && !Passed(next.partitions, *mark_)) {  // a backlog, long runs, or the group away
    ReportWaiting(now);
    return 0;
  }
  auto passed = std::exchange(mark_, std::move(next));
  mark_reported_ = false;
  if (!passed) return 0;
  return Redrive(passed->at - settings_.margin);
}

void CreateRedrive::ReportWaiting(Timestamp now) {
  if (mark_reported_ || now - mark_->at < std::chrono::minutes(10)) return;
  mark_reported_ = true;
  log_->info(
      "the workers' group has not passed the commands topic's ends of {} yet (a backlog, "
      "or a run still going): lost creates are looked for once it has",
      FormatRfc3339(mark_->at));
}

Result<std::size_t> CreateRedrive::Redrive(Timestamp before) {
  UnappliedQuery query{before - settings_.max_age, before, {}, settings_.batch};
  query.excluded.assign(given_up_.begin(), given_up_.end());
  std::erase_if(copies_, [&](const auto& c) { return c.second.at < query.after; });
  auto lost = records_.Unapplied(query);
  if (!lost) return std::unexpected(lost.error());
  std::size_t sent = 0;
  for (const auto& record : *lost) {
    if (!MayCopy(record, before)) continue;
    const auto id = record.task.id;
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

bool CreateRedrive::MayCopy(const AcceptedTask& record, Timestamp before) {
  auto& copies = copies_[record.task.id];
  // A copy sent after `before` may not have been read yet.
  if (copies.times > 0 && copies.at >= before) return false;
  if (copies.times == kMaxCopies) {
    log_->error(
        "task={} event={} create was published again {} times and no worker took it (see "
        "the dead-letter topic); giving it up",
        record.task.id.ToString(), record.event_id.ToString(), kMaxCopies);
    given_up_.insert(record.task.id);
    copies_.erase(record.task.id);
    return false;
  }
  copies = {clock_.Now(), copies.times + 1};
  return true;
}

void CreateRedrive::Start() {
  if (settings_.every.count() == 0) return;
  passes_.Start(settings_.every, [this] {
    if (auto pass = RunOnce(); !pass)
      log_->warn("the pass for lost creates failed: {}", pass.error().Describe());
  });
}

void CreateRedrive::Stop() { passes_.Stop(); }

}  // namespace conveyor

#include "offset_tracker.h"

#include <algorithm>

namespace conveyor {

void OffsetTracker::Track(const Partition& p, std::int64_t offset) {
  auto& s = partitions_[p];
  s.in_flight.insert(offset);
  s.next = std::max(s.next, offset + 1);
}

void OffsetTracker::Done(const Partition& p, std::int64_t offset) {
  auto it = partitions_.find(p);
  if (it == partitions_.end()) return;  // forgotten: revoked meanwhile
  it->second.in_flight.erase(offset);
}

std::int64_t OffsetTracker::CommittableOf(const State& s) {
  return s.in_flight.empty() ? s.next : *s.in_flight.begin();
}

std::vector<PartitionOffset> OffsetTracker::TakeCommittable() {
  std::vector<PartitionOffset> out;
  for (auto& [p, s] : partitions_) {
    auto c = CommittableOf(s);
    if (c < 0 || c == s.committed) continue;
    s.committed = c;
    out.push_back({p.first, p.second, c});
  }
  return out;
}

std::vector<PartitionOffset> OffsetTracker::Committable(const std::vector<Partition>& ps) const {
  std::vector<PartitionOffset> out;
  for (const auto& p : ps) {
    auto it = partitions_.find(p);
    if (it == partitions_.end()) continue;
    auto c = CommittableOf(it->second);
    if (c >= 0) out.push_back({p.first, p.second, c});
  }
  return out;
}

void OffsetTracker::Forget(const Partition& p) { partitions_.erase(p); }

std::size_t OffsetTracker::InFlight() const {
  std::size_t n = 0;
  for (const auto& [p, s] : partitions_) n += s.in_flight.size();
  return n;
}

}  // namespace conveyor

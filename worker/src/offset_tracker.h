// OffsetTracker knows, per partition, which consumed events are still in flight (their run is
// not final yet) and so how far the consumer may commit: up to the oldest event in flight, or
// past the newest event seen when none is. Committing no further than that means an event
// whose run a crash cut off is consumed again by the partition's next owner. Pure logic; not
// thread-safe (the poll loop owns it).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/kafka.h"

namespace conveyor {

class OffsetTracker {
 public:
  using Partition = std::pair<std::string, std::int32_t>;

  // An event was consumed and is in flight.
  void Track(const Partition& p, std::int64_t offset);
  // Its work is done (applied, and its run final or handed over).
  void Done(const Partition& p, std::int64_t offset);
  // The partitions whose committable offset moved since the last call, with that offset.
  std::vector<PartitionOffset> TakeCommittable();
  // The committable offsets of these partitions, whether or not they moved (for a revoke).
  std::vector<PartitionOffset> Committable(const std::vector<Partition>& ps) const;
  // Forgets a partition (revoked or lost).
  void Forget(const Partition& p);

  std::size_t InFlight() const;

 private:
  struct State {
    std::set<std::int64_t> in_flight;
    std::int64_t next = -1;       // one past the newest offset seen
    std::int64_t committed = -1;  // what TakeCommittable last handed out
  };
  static std::int64_t CommittableOf(const State& s);
  std::map<Partition, State> partitions_;
};

}  // namespace conveyor

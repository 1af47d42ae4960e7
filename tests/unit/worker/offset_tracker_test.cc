// OffsetTracker: how far each partition may be committed, given the events still in flight.
#include "src/offset_tracker.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

const OffsetTracker::Partition kP0{"commands", 0};
const OffsetTracker::Partition kP1{"commands", 1};

// The committable offset TakeCommittable hands out for `p`, or -1 when it hands out none.
std::int64_t Taken(const std::vector<PartitionOffset>& offsets, const OffsetTracker::Partition& p) {
  for (const auto& o : offsets)
    if (o.topic == p.first && o.partition == p.second) return o.next_offset;
  return -1;
}

TEST(OffsetTracker, NothingTrackedHasNothingToCommit) {
  OffsetTracker t;
  EXPECT_TRUE(t.TakeCommittable().empty());
  EXPECT_TRUE(t.Committable({kP0}).empty());
  EXPECT_EQ(t.InFlight(), 0u);
}

TEST(OffsetTracker, CommitNeverPassesTheOldestEventInFlight) {
  OffsetTracker t;
  for (std::int64_t o : {10, 11, 12}) t.Track(kP0, o);
  EXPECT_EQ(Taken(t.TakeCommittable(), kP0), 10);  // 10 is in flight: nothing past it
  t.Done(kP0, 11);
  t.Done(kP0, 12);
  // 11 and 12 are done, 10 is not: still 10, and unchanged offsets are not handed out again.
  EXPECT_TRUE(t.TakeCommittable().empty());
  EXPECT_EQ(t.Committable({kP0})[0].next_offset, 10);
  t.Done(kP0, 10);
  EXPECT_EQ(Taken(t.TakeCommittable(), kP0), 13);  // all done: one past the newest seen
  EXPECT_EQ(t.InFlight(), 0u);
}

TEST(OffsetTracker, OffsetsAdvanceToTheNextEventStillInFlightOverGaps) {
  OffsetTracker t;
  // Offsets with gaps (compacted or transaction markers): 3, 7, 20.
  for (std::int64_t o : {3, 7, 20}) t.Track(kP0, o);
  t.Done(kP0, 3);
  EXPECT_EQ(Taken(t.TakeCommittable(), kP0), 7);
  t.Done(kP0, 20);
  EXPECT_TRUE(t.TakeCommittable().empty());  // 7 still in flight
  t.Done(kP0, 7);
  EXPECT_EQ(Taken(t.TakeCommittable(), kP0), 21);
}

TEST(OffsetTracker, PartitionsAreTrackedApart) {
  OffsetTracker t;
  t.Track(kP0, 5);
  t.Track(kP1, 100);
  t.Track(kP1, 101);
  t.Done(kP1, 100);
  t.Done(kP1, 101);
  auto taken = t.TakeCommittable();
  EXPECT_EQ(Taken(taken, kP0), 5);  // held back by its own event in flight only
  EXPECT_EQ(Taken(taken, kP1), 102);
  EXPECT_EQ(t.InFlight(), 1u);
}

TEST(OffsetTracker, DoneOfAnUntrackedOffsetOrForgottenPartitionChangesNothing) {
  OffsetTracker t;
  t.Track(kP0, 1);
  t.Done(kP1, 1);  // never tracked: no partition appears
  t.Done(kP0, 0);  // not in flight
  EXPECT_EQ(t.InFlight(), 1u);
  auto taken = t.TakeCommittable();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(Taken(taken, kP0), 1);
}

TEST(OffsetTracker, RevokedPartitionIsCommittedUpToItsWorkInFlightThenForgotten) {
  OffsetTracker t;
  t.Track(kP0, 40);
  t.Track(kP0, 41);
  t.Track(kP1, 7);
  t.Done(kP0, 41);
  // The revoke commits what it can of the revoked partition alone, moved or not.
  auto revoked = t.Committable({kP0});
  ASSERT_EQ(revoked.size(), 1u);
  EXPECT_EQ(revoked[0].next_offset, 40);
  t.Forget(kP0);
  EXPECT_EQ(t.InFlight(), 1u);
  // Its late completion is ignored; the partition, assigned again, starts afresh.
  t.Done(kP0, 40);
  auto taken = t.TakeCommittable();
  EXPECT_EQ(Taken(taken, kP0), -1);
  EXPECT_EQ(Taken(taken, kP1), 7);
  t.Track(kP0, 45);
  EXPECT_EQ(Taken(t.TakeCommittable(), kP0), 45);
}

TEST(OffsetTracker, CommittableOfAnUnknownPartitionIsNothing) {
  OffsetTracker t;
  t.Track(kP0, 1);
  EXPECT_TRUE(t.Committable({kP1}).empty());
}

}  // namespace
}  // namespace conveyor

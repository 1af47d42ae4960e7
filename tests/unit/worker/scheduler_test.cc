// The Scheduler and the task-level scheduling rules (scheduling.h) against an in-memory store,
// a recording publisher and a fake clock: what fires, under which id, and what is recorded.
#include "src/scheduler.h"

#include <gtest/gtest.h>

#include <map>

#include "conveyor/cloud_event.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"
#include "support/fakes.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

const Timestamp kT0 = *ParseDateTime("2027-01-04T06:00:00Z");  // a Monday

// Schedules in a map; a claim takes every due one (no other scheduler holds any).
class FakeScheduleStore final : public ScheduleStore {
 public:
  Result<std::size_t> ClaimDue(Timestamp now, std::size_t limit, const FireFn& fire) override {
    std::vector<DueSchedule> due;
    for (const auto& [id, s] : schedules)
      if (s.next_due && *s.next_due <= now && due.size() < limit)
        due.push_back({s.task, *s.next_due});
    if (due.empty()) return std::size_t{0};
    auto n = due.size();
    auto advances = fire(std::move(due));
    if (!advances) return std::unexpected(advances.error());
    for (const auto& a : *advances) {
      schedules[a.task_id].next_due = a.next_due;
      if (a.last_fired) schedules[a.task_id].last_fired = a.last_fired;
    }
    return n;
  }
  Result<std::optional<Timestamp>> EarliestDue() override {
    std::optional<Timestamp> earliest;
    for (const auto& [id, s] : schedules)
      if (s.next_due && (!earliest || *s.next_due < *earliest)) earliest = s.next_due;
    return earliest;
  }
  struct Entry {
    Task task;
    std::optional<Timestamp> next_due;
    std::optional<Timestamp> last_fired;
  };
  std::map<Uuid, Entry> schedules;
};

class SchedulerTest : public ::testing::Test {
 protected:
  // A task repeating as `frequency` from kT0, due first at kT0.
  Task Add(Frequency frequency, CatchUp catch_up = CatchUp::kOne, int limit = 10) {
    Task t;
    t.id = Uuid::TimeOrdered();
    t.frequency = frequency;
    t.start_date = kT0;
    t.created_at = kT0 - 1h;
    t.schedule.catch_up = catch_up;
    t.schedule.catch_up_limit = limit;
    store_.schedules[t.id] = {t, FirstDueTime(t, t.created_at), std::nullopt};
    return t;
  }
  // The due times of the fire commands published so far, for `task`.
  std::vector<Timestamp> Fired(const Task& task) {
    std::vector<Timestamp> out;
    for (const auto& m : publisher_.sent) {
      auto e = CloudEvent::Parse(m.value);
      EXPECT_TRUE(e.has_value());
      auto fire = FireFromEventData(e->data);
      EXPECT_TRUE(fire.has_value());
      if (fire->task_id != task.id) continue;
      EXPECT_EQ(e->id, FireEventId(task.id, fire->due_at)) << "the id is derived";
      EXPECT_EQ(m.key, task.id.ToString());
      out.push_back(fire->due_at);
    }
    return out;
  }

  FakeScheduleStore store_;
  testing::RecordingPublisher publisher_;
  FakeClock clock_{kT0 - 1s};
  Scheduler scheduler_{{"w1", "/test", "commands", 500, 1000ms}, store_, publisher_, clock_};
};

TEST_F(SchedulerTest, NothingFiresBeforeTheFirstDueTime) {
  auto t = Add(Frequency::kDaily);
  auto fired = scheduler_.Pass();
  ASSERT_TRUE(fired.has_value()) << fired.error().Describe();
  EXPECT_EQ(*fired, 0u);
  EXPECT_TRUE(publisher_.sent.empty());
  EXPECT_EQ(store_.schedules[t.id].next_due, kT0);
}

TEST_F(SchedulerTest, DueTimeFiresOnceUnderItsDerivedIdAndTheNextIsRecorded) {
  auto t = Add(Frequency::kDaily);
  clock_.Advance(2s);
  ASSERT_EQ(*scheduler_.Pass(), 1u);
  ASSERT_EQ(*scheduler_.Pass(), 0u);  // the same due time is not fired again
  EXPECT_EQ(Fired(t), std::vector<Timestamp>{kT0});
  EXPECT_EQ(store_.schedules[t.id].next_due, kT0 + 24h);
  EXPECT_EQ(store_.schedules[t.id].last_fired, kT0);
}

// The store records nothing when Kafka did not acknowledge: the next pass fires the same
// due time under the same id, so a worker applies one run.
TEST_F(SchedulerTest, PublishThatFailsRecordsNothingAndTheNextPassFiresTheSameId) {
  auto t = Add(Frequency::kHourly);
  clock_.Advance(2s);
  publisher_.fail_next = true;
  EXPECT_FALSE(scheduler_.Pass().has_value());
  EXPECT_EQ(store_.schedules[t.id].next_due, kT0);
  ASSERT_EQ(*scheduler_.Pass(), 1u);
  EXPECT_EQ(Fired(t), std::vector<Timestamp>{kT0});
}

TEST_F(SchedulerTest, CatchUpOneFiresOneRunForTheMissedWindowAndResumesAfterNow) {
  auto t = Add(Frequency::kDaily);
  clock_.Advance(3 * 24h + 12h);  // every worker was down across four due times
  ASSERT_EQ(*scheduler_.Pass(), 1u);
  EXPECT_EQ(Fired(t), std::vector<Timestamp>{kT0});
  EXPECT_EQ(store_.schedules[t.id].next_due, kT0 + 4 * 24h);
}

TEST_F(SchedulerTest, CatchUpAllFiresEachMissedDueTimeOldestFirstUpToItsLimit) {
  auto t = Add(Frequency::kDaily, CatchUp::kAll, 3);
  clock_.Advance(5 * 24h + 12h);  // six due times missed
  ASSERT_EQ(*scheduler_.Pass(), 3u);
  EXPECT_EQ(Fired(t), (std::vector<Timestamp>{kT0, kT0 + 24h, kT0 + 48h}));
  EXPECT_EQ(store_.schedules[t.id].next_due, kT0 + 6 * 24h);
}

TEST_F(SchedulerTest, NoDueTimeAfterFinishDateFires) {
  auto t = Add(Frequency::kDaily);
  store_.schedules[t.id].task.finish_date = kT0 + 36h;
  t.finish_date = kT0 + 36h;
  for (int day = 0; day < 4; ++day) {
    clock_.Advance(24h);
    ASSERT_TRUE(scheduler_.Pass().has_value());
  }
  EXPECT_EQ(Fired(t), (std::vector<Timestamp>{kT0, kT0 + 24h}));
  EXPECT_FALSE(store_.schedules[t.id].next_due.has_value());
}

// Two schedulers that both fire a due time (the first died before recording it) publish the
// same id: the workers' inbox and the runs' key keep one run.
TEST(FireEventId, IsTheSameForTheSameTaskAndDueTimeAndDiffersOtherwise) {
  auto task = Uuid::TimeOrdered();
  auto id = FireEventId(task, kT0);
  EXPECT_EQ(id, FireEventId(task, kT0));
  EXPECT_NE(id, FireEventId(task, kT0 + 1us));
  EXPECT_NE(id, FireEventId(Uuid::TimeOrdered(), kT0));
  auto text = id.ToString();
  EXPECT_EQ(text[14], '5') << text;  // version 5
  EXPECT_TRUE(text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b') << text;
}

TEST(DecideFire, SkipBufferAndRunNowFollowTheOverlapPolicy) {
  TaskFire scheduled{Uuid::TimeOrdered(), kT0, false, "scheduler:w"};
  TaskFire now = scheduled;
  now.run_now = true;
  EXPECT_EQ(DecideFire(scheduled, Overlap::kSkip, false, false), FireAction::kQueue);
  EXPECT_EQ(DecideFire(scheduled, Overlap::kSkip, true, false), FireAction::kSkip);
  EXPECT_EQ(DecideFire(scheduled, Overlap::kBufferOne, true, false), FireAction::kQueueAfter);
  EXPECT_EQ(DecideFire(scheduled, Overlap::kBufferOne, true, true), FireAction::kSkip);
  EXPECT_EQ(DecideFire(now, Overlap::kSkip, true, true), FireAction::kQueue);
}

TEST(RunsOnSchedule, RepeatingOrLaterStartWaitsAndTheRestRunsAtOnce) {
  Task t;
  EXPECT_FALSE(RunsOnSchedule(t, kT0));
  t.start_date = kT0 - 1s;
  EXPECT_FALSE(RunsOnSchedule(t, kT0));
  t.start_date = kT0 + 1s;
  EXPECT_TRUE(RunsOnSchedule(t, kT0));
  t.start_date.reset();
  t.frequency = Frequency::kWeekly;
  EXPECT_TRUE(RunsOnSchedule(t, kT0));
  t.frequency = Frequency::kNone;
  t.schedule.recurrence = "FREQ=SECONDLY;INTERVAL=2";
  EXPECT_TRUE(RunsOnSchedule(t, kT0));
}

TEST(AnchorSchedule, RepeatingTaskWithoutStartDateStartsWhenItsScheduleWasSet) {
  Task t;
  t.frequency = Frequency::kDaily;
  AnchorSchedule(t, kT0);
  EXPECT_EQ(t.start_date, kT0);
  Task once;
  AnchorSchedule(once, kT0);
  EXPECT_FALSE(once.start_date.has_value());
  Task later;
  later.frequency = Frequency::kDaily;
  later.start_date = kT0 + 1h;
  AnchorSchedule(later, kT0);
  EXPECT_EQ(later.start_date, kT0 + 1h);
}

TEST(FirstDueTime, NoneWithALaterStartIsDueAtItsStartAndARuleAtItsFirstOccurrence) {
  Task once;
  once.start_date = kT0 + 90min;
  EXPECT_EQ(FirstDueTime(once, kT0), kT0 + 90min);
  Task weekly;
  weekly.schedule.recurrence = "FREQ=WEEKLY;BYDAY=WE;BYHOUR=6;BYMINUTE=0;BYSECOND=0";
  weekly.start_date = kT0;                               // Monday 06:00
  EXPECT_EQ(FirstDueTime(weekly, kT0 + 1s), kT0 + 48h);  // Wednesday 06:00
}

}  // namespace
}  // namespace conveyor

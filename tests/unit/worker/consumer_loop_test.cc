// ConsumerLoop on a fake event source, with the CommandProcessor and RunEngine on in-memory
// fakes: backpressure, what is committed, and handing partitions over.
#include "src/consumer_loop.h"

#include <gtest/gtest.h>

#include "support/worker_fakes.h"
#include "unit/worker/engine_fixture.h"

namespace conveyor {
namespace {

using testing::FakeEventSource;
using Partition = FakeEventSource::Partition;

const Partition kP0{"commands", 0};
const Partition kP1{"commands", 1};

class ConsumerLoopTest : public RunEngineTest {
 protected:
  void SetUp() override {
    RunEngineTest::SetUp();
    settings_.commit_interval = std::chrono::milliseconds(0);
    settings_.revoke_grace = std::chrono::milliseconds(0);
    settings_.shutdown_grace = std::chrono::milliseconds(0);
  }

  ConsumerLoop& Loop() {
    if (!loop_) loop_.emplace(settings_, *processor_, Engine(), concurrency_, monotonic_);
    return *loop_;
  }

  // Runs the loop until `done` holds (checked at each poll, after `hook`), or 20 s passed.
  Result<LoopReport> RunUntil(const std::function<bool()>& done,
                              const std::function<void()>& hook = {}) {
    source_.listener = &Loop();
    std::atomic<bool> stop{false};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    source_.on_poll = [&] {
      if (hook) hook();
      if (done()) stop = true;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the loop did not get there in time";
        stop = true;
      }
    };
    return Loop().Run(source_, stop);
  }

  ConsumedMessage On(const Partition& p, ConsumedMessage m) {
    m.topic = p.first;
    m.partition = p.second;
    return m;
  }

  // The offsets committed for `p`, in order.
  std::vector<std::int64_t> CommitsOf(const Partition& p) {
    std::vector<std::int64_t> out;
    for (const auto& c : source_.commits)
      if (c.topic == p.first && c.partition == p.second) out.push_back(c.next_offset);
    return out;
  }

  ConsumerLoopSettings settings_;
  FakeEventSource source_;
  std::optional<ConsumerLoop> loop_;
};

TEST_F(ConsumerLoopTest, PausesWhenTheEngineHoldsMaxHeldKeepsPollingAndResumesWithRoom) {
  concurrency_ = 1;
  settings_.max_held = 2;
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  for (int i = 0; i < 4; ++i)
    source_.queued.push_back(CreateCommand(TaskNotification::kNone, i, type_));
  std::size_t most_held = 0, polls_paused = 0;
  auto report = RunUntil([&] { return source_.CommittedOf(kP0) == 4; },
                         [&] {
                           most_held = std::max(most_held, Engine().Load());
                           // Paused, it keeps polling (the member stays in its group).
                           if (source_.paused() && ++polls_paused == 5) gate->open = true;
                         });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_GE(polls_paused, 5u);
  EXPECT_GE(source_.pauses, 1u);
  EXPECT_GE(source_.resumes, 1u);
  EXPECT_EQ(report->pauses, source_.pauses);
  EXPECT_LE(most_held, 2u);  // never took more than max_held runs
  EXPECT_EQ(Engine().counters().succeeded, 4u);
  EXPECT_TRUE(report->drained_cleanly);
  EXPECT_TRUE(source_.closed);
}

TEST_F(ConsumerLoopTest, CommitsNoFurtherThanTheOldestEventWhoseRunIsNotFinal) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto slow = CreateCommand(TaskNotification::kNone, 0, type_);
  auto quick1 = CreateCommand(TaskNotification::kNone, 1);
  auto quick2 = CreateCommand(TaskNotification::kNone, 2);
  source_.queued = {slow, quick1, quick2};
  auto finished = [&](const ConsumedMessage& m) { return RunOf(m).state == RunState::kSucceeded; };
  std::int64_t committed_while_slow_ran = -1;
  auto report = RunUntil([&] { return source_.CommittedOf(kP0) == 3; },
                         [&] {
                           if (gate->open || store_.runs.size() < 3) return;
                           committed_while_slow_ran =
                               std::max(committed_while_slow_ran, source_.CommittedOf(kP0));
                           if (finished(quick1) && finished(quick2)) gate->open = true;
                         });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  // The later events were done while the first ran: nothing past the first was committed.
  EXPECT_EQ(committed_while_slow_ran, 0);
  auto commits = CommitsOf(kP0);
  EXPECT_TRUE(std::is_sorted(commits.begin(), commits.end()));
  EXPECT_EQ(commits.back(), 3);
}

TEST_F(ConsumerLoopTest, RevokedPartitionsRunIsCancelledAfterItsGraceReleasedAndCommittedUpToIt) {
  settings_.revoke_grace = std::chrono::milliseconds(20);
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto slow = On(kP0, CreateCommand(TaskNotification::kNone, 5, type_));
  auto other = On(kP1, CreateCommand(TaskNotification::kNone, 9));
  source_.queued = {slow, other};
  bool revoked = false;
  auto report = RunUntil([&] { return revoked; },
                         [&] {
                           if (gate->running != 1 || source_.CommittedOf(kP1) != 10) return;
                           source_.Revoke({kP0}, /*lost=*/false);
                           revoked = true;
                         });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  // Committed up to the event whose run did not finish, not past it: its next owner consumes
  // it again and starts the run again at once (released: no heartbeat to wait for).
  EXPECT_EQ(source_.CommittedOf(kP0), 5);
  for (auto c : CommitsOf(kP0)) EXPECT_LE(c, 5);
  EXPECT_EQ(Engine().counters().released, 1u);
  EXPECT_EQ(RunOf(slow).state, RunState::kStarted);
  EXPECT_FALSE(RunOf(slow).heartbeat_at.has_value());
  EXPECT_EQ(RunOf(other).state, RunState::kSucceeded);
  EXPECT_EQ(Engine().Load(), 0u);
}

TEST_F(ConsumerLoopTest, LostPartitionIsHandedOverAtOnceWithoutACommit) {
  settings_.revoke_grace = std::chrono::hours(1);  // a lost partition gets none
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto slow = CreateCommand(TaskNotification::kNone, 5, type_);
  source_.queued = {slow};
  std::size_t commits_before = 0;
  bool lost = false;
  auto report = RunUntil([&] { return lost; },
                         [&] {
                           if (gate->running != 1 || source_.CommittedOf(kP0) != 5) return;
                           commits_before = CommitsOf(kP0).size();
                           source_.Revoke({kP0}, /*lost=*/true);
                           lost = true;
                         });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(CommitsOf(kP0).size(), commits_before);  // the group gave it away: no commit
  EXPECT_EQ(Engine().counters().released, 1u);
  EXPECT_FALSE(RunOf(slow).heartbeat_at.has_value());
}

TEST_F(ConsumerLoopTest, StopDrainsRunsThatFinishWithinTheGraceCommitsAndLeavesTheGroup) {
  settings_.shutdown_grace = std::chrono::seconds(10);
  source_.queued = {CreateCommand(TaskNotification::kNone, 0)};
  auto report = RunUntil([&] { return source_.delivered == 1; });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_TRUE(report->drained_cleanly);
  EXPECT_EQ(source_.CommittedOf(kP0), 1);
  EXPECT_TRUE(source_.closed);
}

TEST_F(ConsumerLoopTest, StopCancelsARunStillRunningAfterTheShutdownGraceAndSaysSo) {
  auto gate = std::make_shared<GateHandler>();
  Use("gate", gate);
  auto slow = CreateCommand(TaskNotification::kNone, 0, type_);
  source_.queued = {slow};
  auto report = RunUntil([&] { return gate->running == 1; });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_FALSE(report->drained_cleanly);
  EXPECT_EQ(Engine().counters().released, 1u);
  EXPECT_EQ(source_.CommittedOf(kP0), 0);  // its event is consumed again by the next owner
  EXPECT_TRUE(source_.closed);
}

TEST_F(ConsumerLoopTest, BatchIsRetriedWithGrowingBackoffWhileTheDatabaseIsAwayThenCommitted) {
  store_.apply_failures = 3;
  source_.queued = {CreateCommand(TaskNotification::kNone, 0)};
  auto before = monotonic_.Now();
  auto report = RunUntil([&] { return source_.CommittedOf(kP0) == 1; });
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(store_.apply_failures, 0);
  // 100, 200 and 400 ms between the attempts.
  EXPECT_GE(monotonic_.Now() - before, std::chrono::milliseconds(700));
  auto commits = CommitsOf(kP0);
  EXPECT_TRUE(std::is_sorted(commits.begin(), commits.end()));
  EXPECT_EQ(commits.back(), 1);
  EXPECT_EQ(Engine().counters().succeeded, 1u);
}

TEST_F(ConsumerLoopTest, StopWhileTheDatabaseIsAwayEndsTheRetriesAndCommitsNothingOfTheBatch) {
  store_.unavailable = true;
  source_.queued = {CreateCommand(TaskNotification::kNone, 0)};
  source_.listener = &Loop();
  std::atomic<bool> stop{false};
  // The signal comes after a few backoffs (their time passes at once on the fake clock).
  auto start = monotonic_.Now();
  std::thread signal([&] {
    testing::PollUntil([&] { return monotonic_.Now() - start >= std::chrono::seconds(1); },
                       std::chrono::seconds(10));
    stop = true;
  });
  auto report = Loop().Run(source_, stop);
  signal.join();
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(source_.delivered, 1u);
  // At most "read it again from offset 0": the next owner consumes the batch again.
  for (auto c : CommitsOf(kP0)) EXPECT_EQ(c, 0);
  EXPECT_TRUE(store_.runs.empty());
  EXPECT_TRUE(source_.closed);
}

TEST_F(ConsumerLoopTest, FatalSourceErrorEndsTheLoopWithIt) {
  source_.fail_poll = true;
  auto report = RunUntil([] { return false; });
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code, ErrorCode::kInternal);
  EXPECT_EQ(report.error().message, "consumer failed (fake)");
  EXPECT_TRUE(source_.closed);
}

}  // namespace
}  // namespace conveyor

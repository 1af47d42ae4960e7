// PeriodicThread: the first pass at once, then one every period, and Stop ends the wait at
// once rather than at the next period.
#include "conveyor/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>

#include "support/wait.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicThread, RunsTheFirstPassAtOnceAndStopEndsTheWaitForTheNext) {
  std::atomic<int> passes = 0;
  PeriodicThread thread;
  thread.Start(std::chrono::hours(1), [&] { ++passes; });
  ASSERT_TRUE(testing::PollUntil([&] { return passes == 1; }, 10s));
  auto asked = std::chrono::steady_clock::now();
  thread.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "Stop waited for the hour";
  EXPECT_EQ(passes, 1);
  thread.Stop();  // again: nothing to do
}

TEST(PeriodicThread, RepeatsItsPassEveryPeriod) {
  std::atomic<int> passes = 0;
  PeriodicThread thread;
  thread.Start(1ms, [&] { ++passes; });
  EXPECT_TRUE(testing::PollUntil([&] { return passes >= 5; }, 10s)) << passes;
}

}  // namespace
}  // namespace conveyor

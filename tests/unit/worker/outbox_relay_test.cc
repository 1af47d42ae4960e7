// OutboxRelay on an in-memory outbox and a recording publisher: what a pass claims, publishes
// and marks sent.
#include "src/outbox_relay.h"

#include <gtest/gtest.h>

#include "support/fakes.h"
#include "support/wait.h"
#include "support/worker_fakes.h"

namespace conveyor {
namespace {

using testing::FakeOutboxStore;
using testing::RecordingPublisher;

class OutboxRelayTest : public ::testing::Test {
 protected:
  std::int64_t Add(const std::string& value) {
    return outbox_.Add({"notifications", "task-1", value, {}});
  }
  std::vector<std::string> Published() {
    std::lock_guard lock(publisher_.mutex);
    std::vector<std::string> out;
    for (const auto& m : publisher_.sent) out.push_back(m.value);
    return out;
  }

  FakeOutboxStore outbox_;
  RecordingPublisher publisher_;
  OutboxRelaySettings settings_;
  FakeMonotonicClock clock_;
};

TEST_F(OutboxRelayTest, PublishesUnsentRowsInOrderAndMarksThemSent) {
  for (int i = 0; i < 5; ++i) Add("n" + std::to_string(i));
  OutboxRelay relay(settings_, outbox_, publisher_, clock_);
  auto relayed = relay.RelayOnce();
  ASSERT_TRUE(relayed.has_value()) << relayed.error().Describe();
  EXPECT_EQ(*relayed, 5u);
  EXPECT_EQ(Published(), (std::vector<std::string>{"n0", "n1", "n2", "n3", "n4"}));
  EXPECT_TRUE(outbox_.Unsent().empty());
  auto again = relay.RelayOnce();  // nothing left: nothing published twice
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(Published().size(), 5u);
}

TEST_F(OutboxRelayTest, PassClaimsAtMostTheBatchSizeOldestFirst) {
  for (int i = 0; i < 5; ++i) Add("n" + std::to_string(i));
  settings_.batch_size = 2;
  OutboxRelay relay(settings_, outbox_, publisher_, clock_);
  ASSERT_EQ(relay.RelayOnce().value_or(0), 2u);
  EXPECT_EQ(Published(), (std::vector<std::string>{"n0", "n1"}));
  ASSERT_EQ(relay.RelayOnce().value_or(0), 2u);
  ASSERT_EQ(relay.RelayOnce().value_or(0), 1u);
  EXPECT_EQ(Published(), (std::vector<std::string>{"n0", "n1", "n2", "n3", "n4"}));
}

TEST_F(OutboxRelayTest, RowTheBrokerDidNotAcknowledgeStaysUnsentAndTheRestAreMarkedSent) {
  Add("n0");
  auto refused = Add("n1");
  Add("n2");
  publisher_.refuse = [](const OutgoingMessage& m) { return m.value == "n1"; };
  OutboxRelay relay(settings_, outbox_, publisher_, clock_);
  auto relayed = relay.RelayOnce();
  ASSERT_FALSE(relayed.has_value());
  EXPECT_EQ(relayed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(relayed.error().message, "relaying notifications: not acknowledged (fake)");
  EXPECT_EQ(outbox_.Unsent(), std::vector<std::int64_t>{refused});
  EXPECT_EQ(Published(), (std::vector<std::string>{"n0", "n2"}));
  // The broker is back: the next pass sends what was left, and only that.
  publisher_.refuse = nullptr;
  ASSERT_EQ(relay.RelayOnce().value_or(0), 1u);
  EXPECT_EQ(Published(), (std::vector<std::string>{"n0", "n2", "n1"}));
  EXPECT_TRUE(outbox_.Unsent().empty());
}

TEST_F(OutboxRelayTest, StoreAwayIsAnErrorAndNothingIsPublished) {
  Add("n0");
  outbox_.unavailable = true;
  OutboxRelay relay(settings_, outbox_, publisher_, clock_);
  auto relayed = relay.RelayOnce();
  ASSERT_FALSE(relayed.has_value());
  EXPECT_EQ(relayed.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(Published().empty());
  EXPECT_EQ(outbox_.Unsent().size(), 1u);
}

// Two relays share the outbox: rows one of them has claimed are not published by the other
// while it publishes them.
TEST_F(OutboxRelayTest, RowsClaimedByOneRelayAreNotPublishedByAnotherMeanwhile) {
  Add("n0");
  Add("n1");
  RecordingPublisher other_publisher;
  OutboxRelay other(settings_, outbox_, other_publisher, clock_);
  std::optional<Result<std::size_t>> seen_by_other;
  publisher_.refuse = [&](const OutgoingMessage&) {
    if (!seen_by_other) seen_by_other = other.RelayOnce();  // while the first claim holds
    return false;
  };
  OutboxRelay relay(settings_, outbox_, publisher_, clock_);
  ASSERT_EQ(relay.RelayOnce().value_or(0), 2u);
  ASSERT_TRUE(seen_by_other.has_value() && seen_by_other->has_value());
  EXPECT_EQ(**seen_by_other, 0u);
  EXPECT_TRUE(other_publisher.sent.empty());
  EXPECT_EQ(Published().size(), 2u);
}

TEST_F(OutboxRelayTest, WakeRelaysAtOnceAndStopJoins) {
  SteadyClock steady;  // real waits: only a Wake makes it look again within the hour
  settings_.idle_poll = std::chrono::hours(1);
  OutboxRelay relay(settings_, outbox_, publisher_, steady);
  relay.Start();
  ASSERT_TRUE(testing::PollUntil([&] { return outbox_.claims >= 1; }, std::chrono::seconds(10)));
  Add("n0");
  relay.Wake();
  EXPECT_TRUE(
      testing::PollUntil([&] { return outbox_.Unsent().empty(); }, std::chrono::seconds(10)));
  relay.Stop();
  EXPECT_EQ(Published(), std::vector<std::string>{"n0"});
}

TEST_F(OutboxRelayTest, SentRowsAreDeletedOnceACleanupIntervalPassed) {
  settings_.cleanup_interval = std::chrono::seconds(60);
  // Each idle wait moves the fake clock by the idle poll, past the cleanup interval.
  settings_.idle_poll = std::chrono::hours(2);
  Add("n0");
  OutboxRelay relay(settings_, outbox_, publisher_, clock_);
  relay.Start();
  ASSERT_TRUE(testing::PollUntil([&] { return outbox_.cleanups >= 1; }, std::chrono::seconds(10)));
  relay.Stop();
  EXPECT_TRUE(outbox_.rows.empty());  // sent, then deleted
}

}  // namespace
}  // namespace conveyor

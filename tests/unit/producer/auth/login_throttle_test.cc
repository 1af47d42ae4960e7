#include "auth/login_throttle.h"

#include <gtest/gtest.h>

#include "conveyor/time_format.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginThrottleSettings Settings(double per_id, double per_address) {
    LoginThrottleSettings s;
    s.failures_per_id = per_id;
    s.failures_per_address = per_address;
    s.window = 60s;
    return s;
  }
  FakeClock clock_{*ParseDateTime("2026-12-05T10:00:00Z")};
};

TEST_F(LoginThrottleTest, PastTheLimitForAnIdTheNextAttemptIsRefusedNamingTheLimitAndTheWait) {
  LoginThrottle throttle(clock_, Settings(10, 0));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(throttle.Check("client-a", "10.0.0.1").has_value()) << i;
    throttle.Failed("client-a", "10.0.0.1");
  }
  auto refused = throttle.Check("client-a", "10.0.0.9");  // from anywhere
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(refused.error().retry_after, 6s);  // one failure drains in 60 s / 10
  EXPECT_EQ(refused.error().message,
            "too many failed logins for this client id (the limit is 10 per 60 s); try again "
            "in 6 s");
  EXPECT_TRUE(throttle.Check("client-b", "10.0.0.1").has_value()) << "another id";
  clock_.Advance(5s);
  EXPECT_FALSE(throttle.Check("client-a", "10.0.0.1").has_value());
  clock_.Advance(1s);
  EXPECT_TRUE(throttle.Check("client-a", "10.0.0.1").has_value());
}

TEST_F(LoginThrottleTest, PastTheLimitForAnAddressEveryIdFromItIsRefused) {
  LoginThrottle throttle(clock_, Settings(10, 30));
  for (int i = 0; i < 30; ++i) throttle.Failed("id-" + std::to_string(i), "192.0.2.7");
  auto refused = throttle.Check("id-new", "192.0.2.7");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("source address (the limit is 30 per 60 s)"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().retry_after, 2s);
  EXPECT_TRUE(throttle.Check("id-new", "192.0.2.8").has_value());
}

TEST_F(LoginThrottleTest, FailuresSpreadOverTimeDrainAndAreNeverRefused) {
  LoginThrottle throttle(clock_, Settings(10, 30));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(throttle.Check("client-a", "10.0.0.1").has_value()) << i;
    throttle.Failed("client-a", "10.0.0.1");
    clock_.Advance(7s);  // slower than one per 6 s
  }
}

TEST_F(LoginThrottleTest, ALimitOfZeroIsNoLimit) {
  LoginThrottle throttle(clock_, Settings(0, 0));
  for (int i = 0; i < 1000; ++i) throttle.Failed("client-a", "10.0.0.1");
  EXPECT_TRUE(throttle.Check("client-a", "10.0.0.1").has_value());
  EXPECT_EQ(throttle.tracked(), 0u);
}

TEST_F(LoginThrottleTest, AFloodOfAddressesKeepsAtMostTheCapacity) {
  auto settings = Settings(10, 30);
  settings.capacity = 100;
  LoginThrottle throttle(clock_, settings);
  for (int i = 0; i < 10000; ++i) throttle.Failed("client-a", "addr-" + std::to_string(i));
  EXPECT_LE(throttle.tracked(), 100u);
  EXPECT_FALSE(throttle.Check("client-a", "elsewhere").has_value()) << "the id is still held";
}

}  // namespace
}  // namespace conveyor

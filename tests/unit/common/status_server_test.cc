#include "conveyor/status_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

namespace conveyor {
namespace {

using namespace std::chrono_literals;

TEST(ParseListenAddress, SplitsHostAndPortAtTheLastColon) {
  EXPECT_EQ(ParseListenAddress("127.0.0.1:9464").value(),
            std::pair(std::string("127.0.0.1"), 9464));
  EXPECT_EQ(ParseListenAddress("::1:0").value(), std::pair(std::string("::1"), 0));
}

TEST(ParseListenAddress, RefusesAMissingHostOrAPortThatIsNotANumberInRange) {
  for (const char* bad : {"", "9464", ":80", "host:", "host:eighty", "host:65536", "host:-1"}) {
    auto parsed = ParseListenAddress(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(StatusServer, ServesLivenessReadinessAndMetricsOnLoopback) {
  FakeClock clock(Timestamp(std::chrono::seconds(1)));
  Readiness readiness(clock);
  bool up = true;
  readiness.Add("postgresql", [&up]() -> Status {
    if (up) return {};
    return Fail(ErrorCode::kUnavailable, "gone");
  });
  StatusServer server("127.0.0.1", 0, {&readiness, [] { return std::string("up 1\n"); }});
  ASSERT_TRUE(server.Start().has_value());
  httplib::Client c("127.0.0.1", server.port());

  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, R"({"checks":{"postgresql":"ok"},"status":"ready"})");
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "up 1\n");
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(c.Get("/other")->status, 404);

  up = false;
  clock.Advance(2s);
  auto down = c.Get("/readyz");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->body, R"({"checks":{"postgresql":"gone"},"status":"not ready"})");
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  server.Stop();
}

TEST(StatusServer, StartFailsNamingTheAddressWhenThePortIsTaken) {
  StatusServer first("127.0.0.1", 0, {});
  ASSERT_TRUE(first.Start().has_value());
  StatusServer second("127.0.0.1", first.port(), {});
  auto s = second.Start();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace conveyor

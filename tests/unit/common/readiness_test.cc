#include "conveyor/readiness.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace conveyor {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class ReadinessTest : public ::testing::Test {
 protected:
  FakeClock clock_{Timestamp(std::chrono::seconds(1'000'000))};
  Readiness readiness_{clock_, 1000ms};
  bool db_up_ = true;
  int db_checks_ = 0;

  void SetUp() override {
    readiness_.Add("postgresql", [this]() -> Status {
      ++db_checks_;
      if (db_up_) return {};
      return Fail(ErrorCode::kUnavailable, "connection refused");
    });
    readiness_.Add("kafka", [] { return Status{}; });
  }
};

TEST_F(ReadinessTest, ReadyWhenEveryCheckPassesWithEachNamedOk) {
  auto report = readiness_.Check();
  EXPECT_TRUE(report.ready());
  EXPECT_EQ(json::parse(report.ToJson()),
            (json{{"status", "ready"}, {"checks", {{"postgresql", "ok"}, {"kafka", "ok"}}}}));
}

TEST_F(ReadinessTest, NotReadyNamingTheFailedCheckAndItsReason) {
  db_up_ = false;
  auto report = readiness_.Check();
  ASSERT_FALSE(report.ready());
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].check, "postgresql");
  EXPECT_EQ(json::parse(report.ToJson()),
            (json{{"status", "not ready"},
                  {"checks", {{"postgresql", "connection refused"}, {"kafka", "ok"}}}}));
}

TEST_F(ReadinessTest, AReportIsReusedForMaxAgeThenTheChecksRunAgain) {
  readiness_.Check();
  db_up_ = false;
  clock_.Advance(999ms);
  EXPECT_TRUE(readiness_.Check().ready());
  EXPECT_EQ(db_checks_, 1);
  clock_.Advance(1ms);
  EXPECT_FALSE(readiness_.Check().ready());
  EXPECT_EQ(db_checks_, 2);
}

}  // namespace
}  // namespace conveyor

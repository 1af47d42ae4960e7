#include "conveyor/time_format.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

using std::chrono::microseconds;

TEST(ParseDateTime, ReadsDotNetSevenDigitFractionWithOffset) {
  auto t = ParseDateTime("2026-02-22T04:10:00.9543747+00:00");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(FormatRfc3339(*t), "2026-02-22T04:10:00.954374Z");
}

TEST(ParseDateTime, AppliesPositiveAndNegativeOffsets) {
  auto plus = ParseDateTime("2024-12-22T09:54:10+02:00");
  auto minus = ParseDateTime("2024-12-22T09:54:10-0530");
  ASSERT_TRUE(plus && minus);
  EXPECT_EQ(FormatRfc3339(*plus), "2024-12-22T07:54:10.000000Z");
  EXPECT_EQ(FormatRfc3339(*minus), "2024-12-22T15:24:10.000000Z");
}

TEST(ParseDateTime, TakesNoOffsetAsUtc) {
  auto t = ParseDateTime("2024-12-22T09:54:10");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatRfc3339(*t), "2024-12-22T09:54:10.000000Z");
}

TEST(ParseDateTime, RejectsWhatIsNotADateTimeAndSaysWhatItExpects) {
  for (const char* bad : {"", "yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z",
                          "2024-12-22", "2024-12-22T25:00:00Z", "2024-12-22T09:54:10+2",
                          "2024-12-22T09:54:10.Z", "2024-12-22T09:54:10Zjunk"}) {
    auto t = ParseDateTime(bad);
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(t.error().message.find("ISO 8601"), std::string::npos) << t.error().message;
  }
}

// An offset carried 9999-12-31 into year 10000 (written "10000-...", which nothing reads back:
// the worker dead-lettered the task the producer had accepted) and 0000-01-01 into year -1
// (found by fuzz/ time's round trip); PostgreSQL has no year 0 at all.
TEST(ParseDateTime, AnInstantOutsideTheYears0001To9999InUtcIsRefusedNamingTheRange) {
  for (const char* outside : {"9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00",
                              "0000-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00"}) {
    auto t = ParseDateTime(outside);
    ASSERT_FALSE(t.has_value()) << outside;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(t.error().message,
              "'" + std::string(outside) + "' is outside the years 0001 to 9999 in UTC");
  }
}

TEST(ParseDateTime, TheFirstAndLastInstantsOfTheRangeFormatAndParseBack) {
  for (const char* edge : {"0001-01-01T00:00:00Z", "0001-01-01T00:30:00-01:00",
                           "9999-12-31T23:59:59.9999999+00:00", "9999-12-31T23:59:59+01:00"}) {
    auto t = ParseDateTime(edge);
    ASSERT_TRUE(t.has_value()) << edge << ": " << t.error().message;
    for (const auto& written : {FormatRfc3339(*t), FormatDotNet(*t)}) {
      auto back = ParseDateTime(written);
      ASSERT_TRUE(back.has_value()) << written << ": " << back.error().message;
      EXPECT_EQ(*back, *t) << written;
    }
  }
}

TEST(FormatDotNet, WritesSevenFractionalDigitsAndUtcOffsetLikeTheSeeds) {
  Timestamp t = *ParseDateTime("2026-02-22T04:10:00.962000Z");
  EXPECT_EQ(FormatDotNet(t), "2026-02-22T04:10:00.9620000+00:00");
}

TEST(FormatDotNet, RoundTripsThroughParse) {
  Timestamp t = *ParseDateTime("1999-12-31T23:59:59.123456Z");
  EXPECT_EQ(*ParseDateTime(FormatDotNet(t)), t);
}

}  // namespace
}  // namespace conveyor

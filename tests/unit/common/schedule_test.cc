#include "conveyor/schedule.h"

#include <gtest/gtest.h>
#include <libical/ical.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/time_format.h"

namespace conveyor {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Timestamp T(const char* text) { return *ParseDateTime(text); }

// "2027-03-28T01:30:00Z", or with the fraction when there is one.
std::string Iso(Timestamp t) {
  std::string s = FormatRfc3339(t);
  auto dot = s.find(".000000Z");
  return dot == std::string::npos ? s : s.substr(0, dot) + "Z";
}

std::vector<std::string> Iso(const std::vector<Timestamp>& ts) {
  std::vector<std::string> out;
  for (auto t : ts) out.push_back(Iso(t));
  return out;
}

// A fixed instant that stands for the task's creation time in these tests.
const Timestamp kCreated = T("2027-01-01T00:00:00Z");

Schedule Make(ScheduleSpec spec, Timestamp anchor = kCreated) {
  auto s = Schedule::Create(spec, anchor);
  EXPECT_TRUE(s.has_value()) << s.error().Describe();
  return *s;
}

ScheduleSpec Rule(std::string recurrence, const char* start, std::string zone = "UTC") {
  ScheduleSpec spec;
  spec.recurrence = std::move(recurrence);
  spec.time_zone = std::move(zone);
  spec.start = T(start);
  return spec;
}

ScheduleSpec Every(Frequency f, const char* start, std::string zone = "UTC") {
  ScheduleSpec spec;
  spec.frequency = f;
  spec.time_zone = std::move(zone);
  spec.start = T(start);
  return spec;
}

std::vector<std::string> FirstN(const Schedule& s, std::size_t n) {
  return Iso(s.Between(s.first() - seconds(1), T("2600-01-01T00:00:00Z"), n));
}

Error CreateError(const ScheduleSpec& spec) {
  auto s = Schedule::Create(spec, kCreated);
  EXPECT_FALSE(s.has_value());
  return s ? Error{} : s.error();
}

// --- NONE ----------------------------------------------------------------------------------

TEST(Schedule, NoneRunsOnceAtItsStart) {
  ScheduleSpec spec;
  spec.start = T("2027-05-01T12:00:00.123456Z");
  auto s = Make(spec);
  EXPECT_FALSE(s.repeats());
  EXPECT_EQ(Iso(s.first()), "2027-05-01T12:00:00.123456Z");
  EXPECT_EQ(s.NextAfter(T("2027-01-01T00:00:00Z")), spec.start);
  EXPECT_EQ(s.NextAfter(*spec.start), std::nullopt);
  EXPECT_EQ(Iso(s.Between(kCreated, T("2028-01-01T00:00:00Z"), 10)),
            std::vector<std::string>{"2027-05-01T12:00:00.123456Z"});
}

TEST(Schedule, NoneWithoutStartRunsOnceAtTheAnchor) {
  auto s = Make(ScheduleSpec{}, T("2027-02-03T04:05:06Z"));
  EXPECT_FALSE(s.repeats());
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-02-03T04:05:05Z"))), "2027-02-03T04:05:06Z");
  EXPECT_EQ(s.NextAfter(T("2027-02-03T04:05:06Z")), std::nullopt);
}

TEST(Schedule, SpecIsKeptAsGiven) {
  auto spec = Rule("FREQ=DAILY", "2027-01-01T06:00:00Z", "Europe/Oslo");
  EXPECT_EQ(Make(spec).spec().recurrence, "FREQ=DAILY");
  EXPECT_EQ(Make(spec).spec().time_zone, "Europe/Oslo");
}

// --- daylight saving (RFC 5545 §3.3.5) ------------------------------------------------------

TEST(ScheduleDst, DailyOsloAcrossSpringForwardFiresAt0330LocalThenBackAt0230) {
  // 02:30 CET = 01:30Z. On 2027-03-28 02:00-03:00 does not exist in Europe/Oslo.
  auto s = Make(Every(Frequency::kDaily, "2027-03-26T01:30:00Z", "Europe/Oslo"));
  EXPECT_EQ(FirstN(s, 5), (std::vector<std::string>{
                              "2027-03-26T01:30:00Z", "2027-03-27T01:30:00Z",
                              "2027-03-28T01:30:00Z",  // 02:30 read with +01:00 = 03:30 CEST
                              "2027-03-29T00:30:00Z",  // 02:30 CEST
                              "2027-03-30T00:30:00Z"}));
}

TEST(ScheduleDst, DailyOsloAcrossFallBackFiresOnceAtTheFirst0230) {
  // On 2027-10-31 02:00-03:00 happens twice in Europe/Oslo (CEST, then CET).
  auto s = Make(Every(Frequency::kDaily, "2027-10-29T00:30:00Z", "Europe/Oslo"));
  EXPECT_EQ(FirstN(s, 4),
            (std::vector<std::string>{"2027-10-29T00:30:00Z", "2027-10-30T00:30:00Z",
                                      "2027-10-31T00:30:00Z",  // 02:30 CEST, not also 02:30 CET
                                      "2027-11-01T01:30:00Z"}));
}

TEST(ScheduleDst, DailyNewYorkAcrossSpringForwardFiresAt0330LocalThenBackAt0230) {
  // 2027-03-14 02:00 EST becomes 03:00 EDT.
  auto s = Make(Rule("FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0", "2027-03-12T00:00:00Z",
                     "America/New_York"));
  EXPECT_EQ(FirstN(s, 4),
            (std::vector<std::string>{"2027-03-12T07:30:00Z", "2027-03-13T07:30:00Z",
                                      "2027-03-14T07:30:00Z",  // 02:30 read with -05:00 = 03:30 EDT
                                      "2027-03-15T06:30:00Z"}));
}

TEST(ScheduleDst, DailyNewYorkAcrossFallBackFiresOnceAtTheFirst0130) {
  // 2027-11-07 02:00 EDT becomes 01:00 EST: 01:30 happens twice.
  auto s = Make(Every(Frequency::kDaily, "2027-11-05T05:30:00Z", "America/New_York"));
  EXPECT_EQ(FirstN(s, 4),
            (std::vector<std::string>{"2027-11-05T05:30:00Z", "2027-11-06T05:30:00Z",
                                      "2027-11-07T05:30:00Z",  // 01:30 EDT, not also 01:30 EST
                                      "2027-11-08T06:30:00Z"}));
}

TEST(ScheduleDst, HourlyAcrossSpringForwardFiresEveryHourOnce) {
  // 23:00 CET on 2027-03-27 to 05:00 CEST on 2027-03-28: 02:00 local does not exist; it is
  // read as 03:00 CEST, the same instant as 03:00 itself, and fires once.
  auto s = Make(Every(Frequency::kHourly, "2027-03-27T22:00:00Z", "Europe/Oslo"));
  auto due = s.Between(T("2027-03-27T21:59:59Z"), T("2027-03-28T03:00:00Z"), 100);
  EXPECT_EQ(Iso(due), (std::vector<std::string>{"2027-03-27T22:00:00Z", "2027-03-27T23:00:00Z",
                                                "2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z",
                                                "2027-03-28T02:00:00Z", "2027-03-28T03:00:00Z"}));
}

TEST(ScheduleDst, HourlyAcrossFallBackFiresOncePerWallClockHour) {
  // 02:00-03:00 CEST and CET on 2027-10-31 are one wall-clock hour, so it fires once, at the
  // first (00:00Z); RFC 5545 §3.8.5.3 reads a repeated local time as its first occurrence.
  auto s = Make(Every(Frequency::kHourly, "2027-10-30T22:00:00Z", "Europe/Oslo"));
  auto due = s.Between(T("2027-10-30T21:59:59Z"), T("2027-10-31T03:00:00Z"), 100);
  EXPECT_EQ(Iso(due), (std::vector<std::string>{"2027-10-30T22:00:00Z", "2027-10-30T23:00:00Z",
                                                "2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z",
                                                "2027-10-31T03:00:00Z"}));
}

TEST(ScheduleDst, QuarterHoursAcrossSpringForwardAreStrictlyIncreasingWithoutDuplicates) {
  // 02:00..02:45 local are read with +01:00 and equal 03:00..03:45 CEST: each instant once.
  auto s = Make(
      Rule("FREQ=HOURLY;BYMINUTE=0,15,30,45;BYSECOND=0", "2027-03-28T00:00:00Z", "Europe/Oslo"));
  auto due = s.Between(T("2027-03-28T00:00:00Z"), T("2027-03-28T02:30:00Z"), 100);
  std::vector<std::string> want;
  for (auto t = T("2027-03-28T00:15:00Z"); t <= T("2027-03-28T02:30:00Z"); t += minutes(15))
    want.push_back(Iso(t));
  EXPECT_EQ(Iso(due), want);
}

TEST(ScheduleDst, NextAfterAgreesWithBetweenAcrossBothTransitions) {
  auto s = Make(
      Rule("FREQ=MINUTELY;INTERVAL=20;BYSECOND=0", "2027-03-01T00:00:00Z", "America/New_York"));
  for (const char* from : {"2027-03-14T05:00:00Z", "2027-11-07T04:00:00Z"}) {
    auto all = s.Between(T(from), T(from) + hours(5), 1000);
    ASSERT_FALSE(all.empty());
    Timestamp t = T(from);
    for (auto want : all) {
      auto next = s.NextAfter(t);
      ASSERT_TRUE(next.has_value());
      EXPECT_EQ(Iso(*next), Iso(want));
      t = *next;
    }
    for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1], all[i]);
  }
}

// --- the rules ------------------------------------------------------------------------------

TEST(ScheduleRules, MonthlyOnThe31stSkipsThirtyDayMonthsAndFebruary) {
  auto s = Make(Every(Frequency::kMonthly, "2027-01-31T06:30:00Z"));
  EXPECT_EQ(FirstN(s, 5), (std::vector<std::string>{"2027-01-31T06:30:00Z", "2027-03-31T06:30:00Z",
                                                    "2027-05-31T06:30:00Z", "2027-07-31T06:30:00Z",
                                                    "2027-08-31T06:30:00Z"}));
}

TEST(ScheduleRules, ByMonthDayMinusOneIsTheLastDayOfEachMonth) {
  auto s = Make(Rule("FREQ=MONTHLY;BYMONTHDAY=-1", "2028-01-01T09:00:00Z"));
  EXPECT_EQ(FirstN(s, 4),
            (std::vector<std::string>{"2028-01-31T09:00:00Z", "2028-02-29T09:00:00Z",
                                      "2028-03-31T09:00:00Z", "2028-04-30T09:00:00Z"}));
}

TEST(ScheduleRules, LeapDayYearlyOnlyInLeapYears) {
  auto s = Make(Rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "2027-01-01T00:00:00Z"));
  EXPECT_EQ(FirstN(s, 3), (std::vector<std::string>{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z",
                                                    "2036-02-29T00:00:00Z"}));
  // And one started on a leap day, without BY parts, keeps to leap years too.
  auto from_leap_day = Make(Rule("FREQ=YEARLY", "2096-02-29T12:00:00Z"));
  EXPECT_EQ(FirstN(from_leap_day, 3),
            (std::vector<std::string>{"2096-02-29T12:00:00Z", "2104-02-29T12:00:00Z",
                                      "2108-02-29T12:00:00Z"}));
}

TEST(ScheduleRules, WeeklyOnMondayAndWednesdayAtSix) {
  // 2027-01-05 is a Tuesday; minutes and seconds come from the start (00:00:00).
  auto s = Make(Rule("FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6", "2027-01-05T00:00:00Z"));
  EXPECT_EQ(FirstN(s, 4),
            (std::vector<std::string>{"2027-01-06T06:00:00Z", "2027-01-11T06:00:00Z",
                                      "2027-01-13T06:00:00Z", "2027-01-18T06:00:00Z"}));
}

TEST(ScheduleRules, PartsTheRuleLeavesOutComeFromTheStart) {
  auto s = Make(Rule("FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6", "2027-01-05T14:23:17Z"));
  EXPECT_EQ(Iso(s.first()), "2027-01-06T06:23:17Z");
}

TEST(ScheduleRules, TheStartIsDueOnlyWhenTheRuleProducesIt) {
  // Tuesday 14:23 matches neither rule.
  EXPECT_EQ(Iso(Make(Rule("FREQ=DAILY;BYHOUR=6", "2027-01-05T14:23:00Z")).first()),
            "2027-01-06T06:23:00Z");
  EXPECT_EQ(Iso(Make(Rule("FREQ=MONTHLY;BYDAY=-1FR", "2027-01-05T14:23:00Z")).first()),
            "2027-01-29T14:23:00Z");
  // Friday 2027-01-29 14:23 does.
  EXPECT_EQ(Iso(Make(Rule("FREQ=MONTHLY;BYDAY=-1FR", "2027-01-29T14:23:00Z")).first()),
            "2027-01-29T14:23:00Z");
}

TEST(ScheduleRules, ByListsInAnyOrderGiveDueTimesInOrder) {
  // libical 3.0.16 walks BYHOUR as written; Create sorts it.
  auto s = Make(Rule("FREQ=DAILY;BYHOUR=18,6;BYMINUTE=0;BYSECOND=0", "2027-01-05T00:00:00Z"));
  EXPECT_EQ(FirstN(s, 3), (std::vector<std::string>{"2027-01-05T06:00:00Z", "2027-01-05T18:00:00Z",
                                                    "2027-01-06T06:00:00Z"}));
}

TEST(ScheduleRules, LastWorkdayOfTheMonthWithBySetPos) {
  auto s = Make(Rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17;BYMINUTE=0",
                     "2027-01-01T00:00:00Z"));
  EXPECT_EQ(FirstN(s, 3), (std::vector<std::string>{"2027-01-29T17:00:00Z", "2027-02-26T17:00:00Z",
                                                    "2027-03-31T17:00:00Z"}));
}

TEST(ScheduleRules, SecondlyEveryTwoSeconds) {
  auto s = Make(Rule("FREQ=SECONDLY;INTERVAL=2", "2027-01-01T00:00:00Z"));
  EXPECT_TRUE(s.repeats());
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-01-01T00:00:00Z"))), "2027-01-01T00:00:02Z");
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-01-01T00:00:02.5Z"))), "2027-01-01T00:00:04Z");
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-01-01T00:00:03Z"))), "2027-01-01T00:00:04Z");
}

TEST(ScheduleRules, CountEndsIt) {
  auto s = Make(Rule("FREQ=DAILY;COUNT=3", "2027-01-01T08:00:00Z"));
  EXPECT_EQ(FirstN(s, 10), (std::vector<std::string>{"2027-01-01T08:00:00Z", "2027-01-02T08:00:00Z",
                                                     "2027-01-03T08:00:00Z"}));
  EXPECT_EQ(s.NextAfter(T("2027-01-03T08:00:00Z")), std::nullopt);
  EXPECT_FALSE(Make(Rule("FREQ=DAILY;COUNT=1", "2027-01-01T08:00:00Z")).repeats());
}

TEST(ScheduleRules, CountCountsFromTheStartNotFromTheTimeAsked) {
  auto s = Make(Rule("FREQ=MINUTELY;INTERVAL=7;COUNT=10000", "2027-01-01T00:00:00Z"));
  // The 10000th: 9999 x 7 minutes after the start.
  auto last = T("2027-01-01T00:00:00Z") + minutes(9999 * 7);
  EXPECT_EQ(Iso(*s.NextAfter(last - seconds(1))), Iso(last));
  EXPECT_EQ(s.NextAfter(last), std::nullopt);
}

TEST(ScheduleRules, UntilInUtcEndsItAndIsInclusive) {
  auto s = Make(Rule("FREQ=DAILY;UNTIL=20270103T080000Z", "2027-01-01T08:00:00Z",
                     "Europe/Oslo"));  // 09:00 CET
  EXPECT_EQ(FirstN(s, 10), (std::vector<std::string>{"2027-01-01T08:00:00Z", "2027-01-02T08:00:00Z",
                                                     "2027-01-03T08:00:00Z"}));
}

TEST(ScheduleRules, UntilWithoutZIsLocalTimeAndADateIncludesItsWholeDay) {
  auto local =
      Make(Rule("FREQ=DAILY;UNTIL=20270103T090000", "2027-01-01T08:00:00Z", "Europe/Oslo"));
  EXPECT_EQ(FirstN(local, 10).size(), 3u);
  auto date = Make(Rule("FREQ=HOURLY;UNTIL=20270101", "2027-01-01T20:00:00Z", "Europe/Oslo"));
  // 21:00, 22:00 and 23:00 local on 2027-01-01.
  EXPECT_EQ(FirstN(date, 10),
            (std::vector<std::string>{"2027-01-01T20:00:00Z", "2027-01-01T21:00:00Z",
                                      "2027-01-01T22:00:00Z"}));
}

TEST(ScheduleRules, FinishEndsItAndADueTimeAtFinishIsDue) {
  auto spec = Every(Frequency::kDaily, "2027-01-01T08:00:00Z");
  spec.finish = T("2027-01-03T08:00:00Z");
  auto s = Make(spec);
  EXPECT_EQ(FirstN(s, 10), (std::vector<std::string>{"2027-01-01T08:00:00Z", "2027-01-02T08:00:00Z",
                                                     "2027-01-03T08:00:00Z"}));
  EXPECT_EQ(s.NextAfter(T("2027-01-03T08:00:00Z")), std::nullopt);
}

TEST(ScheduleRules, AStartWithAFractionOfASecondIsRoundedUp) {
  auto s = Make(Every(Frequency::kHourly, "2027-01-01T08:00:00.250Z"));
  EXPECT_EQ(FirstN(s, 2),
            (std::vector<std::string>{"2027-01-01T08:00:01Z", "2027-01-01T09:00:01Z"}));
}

TEST(ScheduleRules, WithoutStartTheAnchorIsTheStart) {
  ScheduleSpec spec;
  spec.frequency = Frequency::kWeekly;
  auto s = Make(spec, T("2027-01-05T10:00:00Z"));
  EXPECT_EQ(FirstN(s, 2),
            (std::vector<std::string>{"2027-01-05T10:00:00Z", "2027-01-12T10:00:00Z"}));
}

// --- NextAfter and Between -------------------------------------------------------------------

TEST(Schedule, NextAfterIsStrictlyAfter) {
  auto s = Make(Every(Frequency::kDaily, "2027-01-01T08:00:00Z"));
  EXPECT_EQ(Iso(*s.NextAfter(T("2026-06-01T00:00:00Z"))), "2027-01-01T08:00:00Z");
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-01-01T07:59:59.999999Z"))), "2027-01-01T08:00:00Z");
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-01-01T08:00:00Z"))), "2027-01-02T08:00:00Z");
  EXPECT_EQ(Iso(*s.NextAfter(T("2027-01-01T08:00:00.000001Z"))), "2027-01-02T08:00:00Z");
}

TEST(Schedule, BetweenIsHalfOpenOldestFirstAndLimited) {
  auto s = Make(Every(Frequency::kHourly, "2027-01-01T00:00:00Z"));
  EXPECT_EQ(Iso(s.Between(T("2027-01-01T01:00:00Z"), T("2027-01-01T03:00:00Z"), 10)),
            (std::vector<std::string>{"2027-01-01T02:00:00Z", "2027-01-01T03:00:00Z"}));
  EXPECT_EQ(Iso(s.Between(T("2027-01-01T01:00:00Z"), T("2027-01-02T00:00:00Z"), 3)),
            (std::vector<std::string>{"2027-01-01T02:00:00Z", "2027-01-01T03:00:00Z",
                                      "2027-01-01T04:00:00Z"}));
  EXPECT_TRUE(s.Between(T("2027-01-01T01:00:00Z"), T("2027-01-02T00:00:00Z"), 0).empty());
  EXPECT_TRUE(s.Between(T("2027-01-01T03:00:00Z"), T("2027-01-01T01:00:00Z"), 5).empty());
}

TEST(Schedule, FarFutureAndFarPastQueriesDoNotFail) {
  auto s = Make(Every(Frequency::kDaily, "2027-01-01T08:00:00Z"));
  EXPECT_EQ(s.NextAfter(Timestamp::max()), std::nullopt);
  EXPECT_EQ(Iso(*s.NextAfter(Timestamp::min())), "2027-01-01T08:00:00Z");
  EXPECT_TRUE(s.Between(T("3000-01-01T00:00:00Z"), Timestamp::max(), 5).empty());
  EXPECT_EQ(s.Between(Timestamp::min(), T("2027-01-02T08:00:00Z"), 5).size(), 2u);
}

// --- cost ------------------------------------------------------------------------------------

TEST(ScheduleCost, MinutelyRuleStartedYearsAgoIsCheapToAsk) {
  // 2020 to 2027 is 3.7 million minutes: walking them from the start on every call would take
  // minutes; this test takes milliseconds.
  auto s = Make(Rule("FREQ=MINUTELY;INTERVAL=7", "2020-01-01T00:00:00Z"));
  Timestamp t = T("2027-06-01T00:00:00Z");
  int found = 0;
  for (int i = 0; i < 500; ++i) {
    auto next = s.NextAfter(t);
    ASSERT_TRUE(next.has_value());
    // Still on the grid of 7 minutes from the start.
    EXPECT_EQ((*next - T("2020-01-01T00:00:00Z")) % minutes(7), minutes(0)) << Iso(*next);
    t = *next + seconds(30);
    ++found;
  }
  EXPECT_EQ(found, 500);
  // 1440 / 7 = 205.7: the grid's phase on that day (2020-01-01 + 7k minutes) gives 206.
  EXPECT_EQ(s.Between(T("2027-06-01T00:00:00Z"), T("2027-06-02T00:00:00Z"), 10000).size(), 206u);
}

TEST(ScheduleCost, MonthlyStartedCenturiesAgoIsCheapToAsk) {
  auto s = Make(Rule("FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31", "1900-01-31T00:00:00Z"));
  auto due = s.Between(T("2490-01-01T00:00:00Z"), T("2500-01-01T00:00:00Z"), 1000);
  ASSERT_FALSE(due.empty());
  for (auto t : due) EXPECT_EQ(Iso(t).substr(8, 2), "31") << Iso(t);
  EXPECT_EQ(due.size(), 14u);  // the 31-day months of the 5-month grid from 1900-01
}

// The reference: for FREQ=SECONDLY..WEEKLY in UTC, the RFC 5545 meaning written out plainly
// (periods of INTERVAL units from the start; finer BY parts expand, coarser ones limit),
// to check what Schedule (libical restarted near each question) gives.
struct Reference {
  std::string freq;
  int interval = 1;
  std::vector<int> bysecond = {};
  std::vector<int> byminute = {};
  std::vector<int> byhour = {};
  std::vector<int> byday = {};  // 0 = SU .. 6 = SA
};

std::string RuleText(const Reference& r) {
  static const char* kDays[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
  std::string s = "FREQ=" + r.freq + ";INTERVAL=" + std::to_string(r.interval);
  auto add = [&](const char* name, const std::vector<int>& v, bool day) {
    if (v.empty()) return;
    s += std::string(";") + name + "=";
    for (std::size_t i = 0; i < v.size(); ++i)
      s += (i ? "," : "") + (day ? std::string(kDays[v[i]]) : std::to_string(v[i]));
  };
  add("BYSECOND", r.bysecond, false);
  add("BYMINUTE", r.byminute, false);
  add("BYHOUR", r.byhour, false);
  add("BYDAY", r.byday, true);
  return s;
}

// The due times in (from, end]; the periods before `from`'s are skipped by arithmetic.
std::vector<Timestamp> ReferenceDueTimes(const Reference& r, Timestamp start, Timestamp from,
                                         Timestamp end) {
  using Sec = std::chrono::sys_seconds;
  auto in = [](const std::vector<int>& v, int x) {
    return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
  };
  auto weekday = [](Sec t) {
    return int(std::chrono::weekday{std::chrono::floor<days>(t)}.c_encoding());
  };
  auto parts = [](Sec t) {
    std::chrono::hh_mm_ss<seconds> hms{t - std::chrono::floor<days>(t)};
    return std::array<int, 3>{int(hms.hours().count()), int(hms.minutes().count()),
                              int(hms.seconds().count())};
  };
  Sec s0 = std::chrono::floor<seconds>(start);
  auto [h0, m0, sec0] = parts(s0);
  long unit = r.freq == "SECONDLY"   ? 1
              : r.freq == "MINUTELY" ? 60
              : r.freq == "HOURLY"   ? 3600
              : r.freq == "DAILY"    ? 86400
                                     : 7 * 86400;
  Sec period = r.freq == "SECONDLY"   ? s0
               : r.freq == "MINUTELY" ? std::chrono::floor<minutes>(s0)
               : r.freq == "HOURLY"   ? std::chrono::floor<hours>(s0)
                                      : std::chrono::floor<days>(s0);
  if (r.freq == "WEEKLY") period -= days((weekday(s0) + 6) % 7);  // WKST=MO
  seconds step(unit * r.interval);
  if (from - period > 2 * step) period += ((from - period) / step - 1) * step;
  std::vector<Timestamp> out;
  for (; period <= end; period += step) {
    auto [ph, pm, ps] = parts(period);
    bool fine_s = r.freq == "SECONDLY", fine_m = fine_s || r.freq == "MINUTELY",
         fine_h = fine_m || r.freq == "HOURLY";
    std::vector<int> secs = fine_s               ? std::vector<int>{ps}
                            : r.bysecond.empty() ? std::vector<int>{sec0}
                                                 : r.bysecond;
    std::vector<int> mins = fine_m               ? std::vector<int>{pm}
                            : r.byminute.empty() ? std::vector<int>{m0}
                                                 : r.byminute;
    std::vector<int> hrs = fine_h             ? std::vector<int>{ph}
                           : r.byhour.empty() ? std::vector<int>{h0}
                                              : r.byhour;
    std::vector<Sec> day_starts;
    for (int i = 0; i < (r.freq == "WEEKLY" ? 7 : 1); ++i) {
      Sec d = std::chrono::floor<days>(period) + days(i);
      if (r.freq != "WEEKLY" ||
          in(r.byday.empty() ? std::vector<int>{weekday(s0)} : r.byday, weekday(d)))
        day_starts.push_back(d);
    }
    std::vector<Timestamp> in_period;
    for (Sec d : day_starts)
      for (int h : hrs)
        for (int m : mins)
          for (int sec : secs) {
            Sec t = d + hours(h) + minutes(m) + seconds(sec);
            if (fine_m && !in(r.byhour, h)) continue;
            if (fine_s && !in(r.byminute, m)) continue;
            if (r.freq != "WEEKLY" && !in(r.byday, weekday(t))) continue;
            if (t >= s0 && t > from && t <= end) in_period.push_back(t);
          }
    std::sort(in_period.begin(), in_period.end());
    out.insert(out.end(), in_period.begin(), in_period.end());
  }
  return out;
}

TEST(ScheduleCost, RestartingNearTheQuestionKeepsEveryFrequencysIntervalGrid) {
  const std::vector<Reference> rules = {
      {"SECONDLY", 7},
      {"MINUTELY", 7, {0, 30}},
      {"MINUTELY", 7, {}, {}, {}, {3}},
      {"MINUTELY", 90, {5}, {}, {}, {1, 2, 3, 4, 5}},
      {"HOURLY", 5, {15}, {0, 30}},
      {"HOURLY", 7, {}, {}, {}, {1, 2, 3, 4, 5}},
      {"DAILY", 3, {}, {5}, {6, 18}},
      {"DAILY", 3, {}, {}, {}, {1}},
      {"DAILY", 2, {0, 30}, {0, 30}, {9, 17}, {1, 3, 5}},
      {"WEEKLY", 3, {}, {}, {6}, {1, 5}},
      {"WEEKLY", 2, {}, {}, {}, {0, 1}},
      {"WEEKLY", 5, {}, {15, 45}, {6, 7}, {}},
  };
  for (const char* start : {"2026-01-05T00:00:00Z", "2026-01-05T14:17:23Z"}) {
    for (const Reference& r : rules) {
      SCOPED_TRACE(RuleText(r) + " from " + start);
      auto s = Make(Rule(RuleText(r), start));
      // A window a year and more after the start, as a scheduler would ask.
      Timestamp from = T("2027-03-10T10:00:00Z");
      Timestamp to = from + (r.freq == "WEEKLY"     ? days(200)
                             : r.freq == "DAILY"    ? days(30)
                             : r.freq == "SECONDLY" ? hours(2)
                                                    : hours(30));
      auto want = ReferenceDueTimes(r, T(start), from, to);
      ASSERT_FALSE(want.empty());
      EXPECT_EQ(Iso(s.Between(from, to, 1000000)), Iso(want));
      EXPECT_EQ(Iso(*s.NextAfter(from)), Iso(want.front()));
      EXPECT_EQ(Iso(*s.NextAfter(want[want.size() / 2] - seconds(1))), Iso(want[want.size() / 2]));
    }
  }
}

// MONTHLY and YEARLY against libical iterating from the start, as it does without help.
TEST(ScheduleCost, RestartingNearTheQuestionMatchesLibicalFromTheStartMonthlyAndYearly) {
  for (const char* rule :
       {"FREQ=MONTHLY;INTERVAL=3", "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;BYHOUR=9,17", "FREQ=MONTHLY;BYMONTHDAY=1,15,-1",
        "FREQ=MONTHLY;INTERVAL=7;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1",
        "FREQ=YEARLY;INTERVAL=3;BYMONTH=3,10;BYDAY=-1SU", "FREQ=YEARLY;BYWEEKNO=1,20;BYDAY=MO",
        "FREQ=YEARLY;INTERVAL=2"}) {
    for (const char* start : {"2001-01-31T06:00:00Z", "2004-02-29T23:59:59Z"}) {
      SCOPED_TRACE(std::string(rule) + " from " + start);
      auto s = Make(Rule(rule, start));
      std::vector<std::string> want;
      icalrecurrencetype parsed = icalrecurrencetype_from_string(rule);
      icaltimetype dtstart =
          icaltime_from_timet_with_zone(std::chrono::system_clock::to_time_t(T(start)), 0, nullptr);
      icalrecur_iterator* it = icalrecur_iterator_new(parsed, dtstart);
      ASSERT_NE(it, nullptr);
      for (icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t);
           t = icalrecur_iterator_next(it)) {
        Timestamp instant{std::chrono::sys_seconds{seconds(icaltime_as_timet(t))}};
        if (instant > T("2040-01-01T00:00:00Z")) break;
        if (instant > T("2030-01-01T00:00:00Z")) want.push_back(Iso(instant));
      }
      icalrecur_iterator_free(it);
      ASSERT_FALSE(want.empty());
      EXPECT_EQ(Iso(s.Between(T("2030-01-01T00:00:00Z"), T("2040-01-01T00:00:00Z"), 10000)), want);
    }
  }
}

// --- errors ----------------------------------------------------------------------------------

TEST(ScheduleErrors, UnknownTimeZoneIsNamed) {
  auto e = CreateError(Rule("FREQ=DAILY", "2027-01-01T00:00:00Z", "Europe/Osl"));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field, "TimeZone");
  EXPECT_EQ(e.message,
            "'Europe/Osl' is not a time zone of the IANA database; use a name such as "
            "Europe/Oslo, America/New_York or UTC");
}

TEST(ScheduleErrors, MalformedRuleNamesThePart) {
  auto e = CreateError(Rule("FREQ=WEEKLY;BYDAY=XX;BYHOUR=6", "2027-01-01T00:00:00Z"));
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message,
            "'BYDAY=XX': 'XX' is not a weekday (SU, MO, TU, WE, TH, FR, SA, with MONTHLY or "
            "YEARLY also a position such as 1MO or -1FR)");
  EXPECT_EQ(CreateError(Rule("FREQ=DAILY;BYHOUR=24", "2027-01-01T00:00:00Z")).message,
            "'BYHOUR=24': '24' is not an hour (0 to 23)");
  EXPECT_EQ(CreateError(Rule("FREQ=FORTNIGHTLY", "2027-01-01T00:00:00Z")).message,
            "'FREQ=FORTNIGHTLY': FREQ is one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, "
            "MONTHLY, YEARLY");
  EXPECT_EQ(CreateError(Rule("FREQ=DAILY;FREQ=WEEKLY", "2027-01-01T00:00:00Z")).message,
            "'FREQ=WEEKLY': FREQ is given twice");
  EXPECT_EQ(CreateError(Rule("FREQ=DAILY;COLOR=RED", "2027-01-01T00:00:00Z")).message,
            "'COLOR=RED': 'COLOR' is not a part of an RRULE (FREQ, UNTIL, COUNT, INTERVAL, "
            "BYSECOND, BYMINUTE, BYHOUR, BYDAY, BYMONTHDAY, BYYEARDAY, BYWEEKNO, BYMONTH, "
            "BYSETPOS, WKST)");
}

TEST(ScheduleErrors, RuleWithoutFreqIsRefused) {
  auto e = CreateError(Rule("BYDAY=MO;BYHOUR=6", "2027-01-01T00:00:00Z"));
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message,
            "has no FREQ; say how often it repeats, e.g. FREQ=DAILY or "
            "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6");
}

TEST(ScheduleErrors, RecurrenceAndFrequencyTogetherAreRefused) {
  auto spec = Rule("FREQ=DAILY", "2027-01-01T00:00:00Z");
  spec.frequency = Frequency::kWeekly;
  auto e = CreateError(spec);
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message,
            "Recurrence and Frequency WEEKLY are both set; give one of them (Frequency NONE "
            "with a Recurrence, or a Frequency without one)");
}

TEST(ScheduleErrors, FinishNotAfterTheStartIsRefused) {
  auto spec = Every(Frequency::kDaily, "2027-01-01T00:00:00Z");
  spec.finish = spec.start;
  auto e = CreateError(spec);
  EXPECT_EQ(e.field, "FinishDate");
  EXPECT_EQ(e.message,
            "2027-01-01T00:00:00.000000Z is not after StartDate 2027-01-01T00:00:00.000000Z");
  ScheduleSpec once;
  once.finish = kCreated - days(1);
  EXPECT_EQ(CreateError(once).message,
            "2026-12-31T00:00:00.000000Z is not after the start (the task's creation time "
            "2027-01-01T00:00:00.000000Z)");
}

TEST(ScheduleErrors, NoDueTimeBeforeFinishSaysWhenTheFirstWouldBe) {
  auto spec = Rule("FREQ=MONTHLY;BYMONTHDAY=31", "2027-04-01T00:00:00Z");
  spec.finish = T("2027-05-15T00:00:00Z");
  auto e = CreateError(spec);
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message,
            "'FREQ=MONTHLY;BYMONTHDAY=31' has no due time before FinishDate "
            "2027-05-15T00:00:00.000000Z (the first after StartDate "
            "2027-04-01T00:00:00.000000Z is 2027-05-31T00:00:00.000000Z)");
  auto by_frequency = Every(Frequency::kHourly, "2027-04-01T00:00:00.5Z");
  by_frequency.finish = T("2027-04-01T00:00:00.75Z");
  EXPECT_EQ(CreateError(by_frequency).field, "Frequency");
}

TEST(ScheduleErrors, UntilBeforeTheStartLeavesNoDueTime) {
  auto e = CreateError(Rule("FREQ=DAILY;UNTIL=20261231T000000Z", "2027-01-01T00:00:00Z"));
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message,
            "'FREQ=DAILY;UNTIL=20261231T000000Z' has no due time from StartDate "
            "2027-01-01T00:00:00.000000Z to 'UNTIL=20261231T000000Z'");
}

TEST(ScheduleErrors, RuleThatNeverMatchesIsRefused) {
  auto e = CreateError(Rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "2027-01-01T00:00:00Z"));
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message,
            "'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' has no due time at or after StartDate "
            "2027-01-01T00:00:00.000000Z: no date and time matches all of its parts");
}

TEST(ScheduleErrors, DueTimesCloserThanTheMinimumAreRefused) {
  auto s = Schedule::Create(Rule("FREQ=SECONDLY;INTERVAL=2", "2027-01-01T00:00:00Z"), kCreated,
                            minutes(1));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "Recurrence");
  EXPECT_EQ(s.error().message,
            "'FREQ=SECONDLY;INTERVAL=2' has due times 2 s apart (2027-01-01T00:00:00.000000Z "
            "and 2027-01-01T00:00:02.000000Z); the shortest interval allowed is 60 s");
  // The default minimum, kMinScheduleInterval, is one second.
  EXPECT_TRUE(
      Schedule::Create(Rule("FREQ=SECONDLY", "2027-01-01T00:00:00Z"), kCreated).has_value());
}

TEST(ScheduleErrors, TooLongRuleNamesTheLimit) {
  std::string rule = "FREQ=DAILY;BYHOUR=1";
  while (rule.size() <= kMaxRecurrenceLength) rule += ",1";
  auto e = CreateError(Rule(rule, "2027-01-01T00:00:00Z"));
  EXPECT_EQ(e.field, "Recurrence");
  EXPECT_EQ(e.message, "is " + std::to_string(rule.size()) + " characters long; the most is 512");
}

TEST(ScheduleErrors, StartOutsideTheSupportedYearsIsRefused) {
  auto e = CreateError(Every(Frequency::kDaily, "1800-01-01T00:00:00Z"));
  EXPECT_EQ(e.field, "StartDate");
  EXPECT_EQ(e.message,
            "a repeating schedule's start must be in the years 1900 to 2500, not StartDate "
            "1800-01-01T00:00:00.000000Z");
}

TEST(ScheduleErrors, SubDailyRulesLibicalExpandsWronglyAreRefusedWithAnAlternative) {
  const std::string hint =
      " (libical expands other parts of it wrongly or slowly); say it with FREQ=DAILY and the "
      "times listed, e.g. FREQ=DAILY;BYHOUR=9,10,11;BYMINUTE=0,15,30,45";
  EXPECT_EQ(
      CreateError(Rule("FREQ=HOURLY;BYHOUR=9,17", "2027-01-01T00:00:00Z")).message,
      "'BYHOUR=9,17': FREQ=HOURLY may be narrowed only by BYSECOND, BYMINUTE and BYDAY" + hint);
  EXPECT_EQ(CreateError(Rule("FREQ=MINUTELY;BYHOUR=3", "2027-01-01T00:00:00Z")).message,
            "'BYHOUR=3': FREQ=MINUTELY may be narrowed only by BYSECOND and BYDAY" + hint);
  EXPECT_EQ(CreateError(Rule("FREQ=MINUTELY;BYMONTH=1", "2027-01-01T00:00:00Z")).message,
            "'BYMONTH=1': FREQ=MINUTELY may be narrowed only by BYSECOND and BYDAY" + hint);
  EXPECT_EQ(CreateError(Rule("FREQ=SECONDLY;BYMINUTE=3", "2027-01-01T00:00:00Z")).message,
            "'BYMINUTE=3': FREQ=SECONDLY takes no BY parts" + hint);
}

TEST(ScheduleErrors, OtherRulesLibicalExpandsWronglyAreRefused) {
  EXPECT_EQ(CreateError(Rule("FREQ=DAILY;BYHOUR=6,18;BYSETPOS=-1", "2027-01-01T00:00:00Z")).message,
            "'BYSETPOS=-1': BYSETPOS works only with FREQ=MONTHLY or YEARLY (libical ignores it "
            "with FREQ=DAILY)");
  EXPECT_EQ(
      CreateError(Rule("FREQ=MONTHLY;BYDAY=MO;BYHOUR=6,18;BYSETPOS=-1", "2027-01-01T00:00:00Z"))
          .message,
      "'BYSETPOS=-1': libical applies BYSETPOS to days, not to the times of a day: give "
      "one value of BYHOUR with it");
  EXPECT_EQ(CreateError(Rule("FREQ=YEARLY;BYWEEKNO=1", "2027-01-01T00:00:00Z")).message,
            "'BYWEEKNO=1': BYWEEKNO needs a BYDAY (libical picks wrong days without one)");
}

// Every refusal of a malformed Recurrence, with its exact message: the first check that fails
// decides, in the order the rule is read (text, parts, FREQ, each part's value, the parts'
// combinations).
TEST(ScheduleErrors, EachMalformedRecurrenceSaysWhatIsWrong) {
  const std::string example = "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6";
  const std::string not_allowed =
      " is not allowed; a rule is NAME=VALUE parts joined by ';' such as " + example;
  const std::string until =
      ": UNTIL is a date-time such as 20271231T235959Z (UTC) or 20271231T235959 (local time in "
      "TimeZone), or a date such as 20271231";
  const std::vector<std::pair<std::string, std::string>> cases = {
      // The text as a whole.
      {"RRULE:FREQ=DAILY", "give the RRULE value without the 'RRULE:' prefix, e.g. " + example},
      {"rrule:FREQ=DAILY", "give the RRULE value without the 'RRULE:' prefix, e.g. " + example},
      {"FREQ=DAILY;BYDAY=MO, FR", "a space at position 21" + not_allowed},
      {"FREQ=DAILY:", "':' at position 11" + not_allowed},
      {"FREQ=DAILY\n", "byte 10 at position 11" + not_allowed},
      {"FREQ=DAILY;BYHOUR=\xc3\xa6", "byte 195 at position 19" + not_allowed},
      // Its parts.
      {"FREQ=DAILY;;COUNT=2",
       "has an empty part (';' at its start or ';;'); a rule looks like " + example},
      {";FREQ=DAILY", "has an empty part (';' at its start or ';;'); a rule looks like " + example},
      {"FREQ=DAILY;BYHOUR", "'BYHOUR' is not NAME=VALUE; a rule looks like " + example},
      {"FREQ=DAILY;=5", "'=5' is not NAME=VALUE; a rule looks like " + example},
      {"FREQ=", "'FREQ=' is not NAME=VALUE; a rule looks like " + example},
      {"FREQ=YEARLY;RSCALE=HEBREW",
       "'RSCALE=HEBREW': RSCALE and SKIP (RFC 7529 calendars) are not supported; rules use the "
       "Gregorian calendar"},
      {"FREQ=DAILY;skip=FORWARD",
       "'skip=FORWARD': RSCALE and SKIP (RFC 7529 calendars) are not supported; rules use the "
       "Gregorian calendar"},
      {"FREQ=DAILY;freq=DAILY", "'freq=DAILY': FREQ is given twice"},
      {"COUNT=0;BYDAY=MO", "has no FREQ; say how often it repeats, e.g. FREQ=DAILY or " + example},
      // Each part's value.
      {"FREQ=DAILY;COUNT=0", "'COUNT=0': COUNT is a whole number from 1 to 10000"},
      {"FREQ=DAILY;count=+5", "'count=+5': COUNT is a whole number from 1 to 10000"},
      {"FREQ=DAILY;COUNT=10001", "'COUNT=10001': COUNT is a whole number from 1 to 10000"},
      {"FREQ=DAILY;INTERVAL=1001", "'INTERVAL=1001': INTERVAL is a whole number from 1 to 1000"},
      {"FREQ=DAILY;INTERVAL=-1", "'INTERVAL=-1': INTERVAL is a whole number from 1 to 1000"},
      {"FREQ=DAILY;UNTIL=20271301", "'UNTIL=20271301'" + until},
      {"FREQ=DAILY;UNTIL=20270101T250000Z", "'UNTIL=20270101T250000Z'" + until},
      {"FREQ=DAILY;WKST=XX", "'WKST=XX': WKST is a weekday (SU, MO, TU, WE, TH, FR, SA)"},
      {"FREQ=DAILY;BYDAY=MO,mo", "'BYDAY=MO,mo': 'mo' is given twice"},
      {"FREQ=MINUTELY;BYSECOND=60",
       "'BYSECOND=60': 60 is a leap second, which UTC-based time here never has; use 0 to 59"},
      {"FREQ=DAILY;BYMINUTE=5,05", "'BYMINUTE=5,05': '05' is given twice"},
      {"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0",
       "'BYSETPOS=0': '0' is not a position in the set (1 to 366, or -366 to -1 from its end)"},
      // RFC 5545's combinations.
      {"FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z",
       "'UNTIL=20270101T000000Z': a rule gives COUNT or UNTIL, not both"},
      {"FREQ=DAILY;BYWEEKNO=3", "'BYWEEKNO=3': BYWEEKNO is allowed only with FREQ=YEARLY"},
      {"FREQ=MONTHLY;BYYEARDAY=100", "'BYYEARDAY=100': BYYEARDAY is not allowed with FREQ=MONTHLY"},
      {"freq=weekly;BYYEARDAY=1", "'BYYEARDAY=1': BYYEARDAY is not allowed with FREQ=WEEKLY"},
      {"FREQ=WEEKLY;BYMONTHDAY=3", "'BYMONTHDAY=3': BYMONTHDAY is not allowed with FREQ=WEEKLY"},
      {"FREQ=WEEKLY;BYDAY=1MO",
       "'BYDAY=1MO': a weekday with a position (1MO, -1FR) is allowed only with FREQ=MONTHLY or "
       "YEARLY"},
      {"FREQ=YEARLY;BYWEEKNO=1;BYDAY=1MO",
       "'BYDAY=1MO': a weekday with a position is not allowed together with BYWEEKNO"},
      // libical 3.0.16's limits.
      {"FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1",
       "'BYSETPOS=1': BYSETPOS works only with FREQ=MONTHLY or YEARLY (libical ignores it with "
       "FREQ=WEEKLY)"},
      {"FREQ=MONTHLY;BYSETPOS=1",
       "'BYSETPOS=1': BYSETPOS needs a BYDAY, BYMONTHDAY, BYYEARDAY, BYWEEKNO or BYMONTH to "
       "choose from"},
      {"FREQ=MONTHLY;BYDAY=MO;BYMINUTE=0,30;BYSETPOS=1",
       "'BYSETPOS=1': libical applies BYSETPOS to days, not to the times of a day: give one value "
       "of BYMINUTE with it"},
      {"FREQ=YEARLY;BYMONTH=1;BYSECOND=0,30;BYSETPOS=1",
       "'BYSETPOS=1': libical applies BYSETPOS to days, not to the times of a day: give one value "
       "of BYSECOND with it"},
      {"FREQ=YEARLY;BYYEARDAY=1;BYMONTH=1",
       "'BYYEARDAY=1': libical cannot combine BYYEARDAY with BYMONTH, BYMONTHDAY or BYWEEKNO"},
      {"FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;BYMONTHDAY=1",
       "'BYWEEKNO=1': libical cannot combine BYWEEKNO with BYMONTHDAY"},
      {"FREQ=HOURLY;BYDAY=MO;BYMONTHDAY=1",
       "'BYMONTHDAY=1': FREQ=HOURLY may be narrowed only by BYSECOND, BYMINUTE and BYDAY "
       "(libical expands other parts of it wrongly or slowly); say it with FREQ=DAILY and the "
       "times listed, e.g. FREQ=DAILY;BYHOUR=9,10,11;BYMINUTE=0,15,30,45"},
  };
  for (const auto& [rule, message] : cases) {
    SCOPED_TRACE(rule);
    auto e = CreateError(Rule(rule, "2027-01-01T00:00:00Z"));
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, "Recurrence");
    EXPECT_EQ(e.message, message);
  }
}

TEST(ScheduleErrors, FrequencyOutsideTheEnumIsRefused) {
  ScheduleSpec spec;
  spec.frequency = static_cast<Frequency>(9);
  auto e = CreateError(spec);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field, "Frequency");
  EXPECT_EQ(e.message, "9 is not a frequency (NONE, HOURLY, DAILY, WEEKLY, MONTHLY)");
}

// Inputs that libical reads silently wrong, refuses with only an error number, or that could
// overflow its parser: each is an error naming Recurrence, nothing reaches stderr, and
// libical's error number is clear afterwards.
TEST(ScheduleErrors, HostileRulesAreErrorsNeverCrashes) {
  std::vector<std::string> rules = {
      "",  // (with Frequency NONE this is no rule at all: skipped below)
      "FREQ=DAILY;INTERVAL=0",
      "FREQ=DAILY;INTERVAL=-1",
      "FREQ=DAILY;INTERVAL=65537",  // libical: (short)65537 == 1
      "FREQ=DAILY;INTERVAL=99999999999999999999",
      "FREQ=DAILY;COUNT=0",
      "FREQ=DAILY;COUNT=-5",
      "FREQ=DAILY;COUNT=2147483648",
      "FREQ=DAILY;COUNT=10001",
      "FREQ=DAILY;BYHOUR=,5",          // libical: the empty item is hour 0
      "FREQ=DAILY;BYHOUR=4294967302",  // libical: truncated to 6
      "FREQ=MONTHLY;BYDAY=256MO",      // libical: (signed char)256 == 0, every Monday
      "FREQ=DAILY;;COUNT=2",           // libical: stops reading at ';;'
      "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0",
      "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-400",
      "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=+9999",
      "FREQ=MONTHLY;BYSETPOS=1",
      "FREQ=DAILY;UNTIL=20271301",  // libical: month 13 accepted
      "FREQ=DAILY;UNTIL=2027",
      "FREQ=DAILY;UNTIL=20270101T250000Z",
      "FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z",
      "FREQ=MINUTELY;BYSECOND=60",
      "FREQ=WEEKLY;BYMONTHDAY=3",
      "FREQ=DAILY;BYWEEKNO=3",
      "FREQ=WEEKLY;BYDAY=1MO",
      "FREQ=DAILY;BYDAY=MO,MO",
      "FREQ=YEARLY;BYYEARDAY=1;BYMONTH=1",
      "FREQ=YEARLY;RSCALE=HEBREW;BYMONTH=5L",
      "FREQ=DAILY;SKIP=FORWARD",
      "RRULE:FREQ=DAILY",
      "FREQ=DAILY;BYDAY=MO, FR",
      "FREQ=DAILY\n",
      std::string("FREQ=DAILY\0;COUNT=1", 19),
      "FREQ=DAILY;BYHOUR=\xc3\xa6",
      "FREQ=DAILY;BYHOUR",
      "FREQ=DAILY;=5",
      "FREQ=",
      ";",
      "FREQ=DAILY;WKST=XX",
      std::string(100000, 'A'),
      "FREQ=DAILY;BYMINUTE=" + std::string(400, '1'),
  };
  testing::internal::CaptureStderr();
  for (const std::string& rule : rules) {
    if (rule.empty()) continue;
    SCOPED_TRACE(rule.substr(0, 80));
    auto e = CreateError(Rule(rule, "2027-01-01T00:00:00Z"));
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, "Recurrence");
    EXPECT_FALSE(e.message.empty());
    for (char c : e.message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << e.message;
    EXPECT_EQ(icalerrno, ICAL_NO_ERROR);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(ScheduleErrors, ErrorsLeaveLibicalsErrorNumberClear) {
  icalerror_set_errno(ICAL_MALFORMEDDATA_ERROR);
  EXPECT_FALSE(Schedule::Create(Rule("FREQ=DAILY;BYDAY=XX", "2027-01-01T00:00:00Z"), kCreated));
  EXPECT_EQ(icalerrno, ICAL_NO_ERROR);
  auto s = Make(Rule("FREQ=DAILY", "2027-01-01T00:00:00Z"));
  icalerror_set_errno(ICAL_MALFORMEDDATA_ERROR);
  EXPECT_TRUE(s.NextAfter(kCreated).has_value());
  EXPECT_EQ(icalerrno, ICAL_NO_ERROR);
}

// --- threads ---------------------------------------------------------------------------------

// The thread safety of Create rests on this (libical built with pthreads, as Debian's is).
TEST(ScheduleThreads, LibicalsErrorNumberIsPerThread) {
  icalerror_set_errno(ICAL_MALFORMEDDATA_ERROR);
  icalerrorenum seen_elsewhere = ICAL_UNKNOWN_ERROR;
  std::thread([&] { seen_elsewhere = icalerrno; }).join();
  EXPECT_EQ(seen_elsewhere, ICAL_NO_ERROR);
  icalerror_clear_errno();
}

TEST(ScheduleThreads, ManyThreadsCreateAndAskAtOnceWithTheSameAnswers) {
  const std::vector<std::string> rules = {
      "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6",
      "FREQ=MONTHLY;BYMONTHDAY=-1",      "FREQ=DAILY;BYDAY=XX",
      "FREQ=DAILY;INTERVAL=0",           "FREQ=MINUTELY;INTERVAL=15"};
  auto answer = [&](const std::string& rule) {
    auto s = Schedule::Create(Rule(rule, "2027-03-01T00:00:00Z", "Europe/Oslo"), kCreated);
    if (!s) return s.error().message;
    std::string out;
    for (auto t : s->Between(T("2027-03-20T00:00:00Z"), T("2027-04-20T00:00:00Z"), 50))
      out += Iso(t) + " ";
    return out;
  };
  std::vector<std::string> want;
  for (const auto& rule : rules) want.push_back(answer(rule));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < 10; ++round)
        for (std::size_t r = 0; r < rules.size(); ++r)
          if (answer(rules[r]) != want[r]) ++mismatches[i];
    });
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace conveyor

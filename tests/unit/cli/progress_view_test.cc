#include "progress_view.h"

#include <gtest/gtest.h>

#include "conveyor/time_format.h"

namespace conveyor::cli {
namespace {

using namespace std::chrono_literals;

Timestamp At(const char* text) { return *ParseDateTime(text); }

// Started at 08:00:00 UTC (BatchTaskInfo dates carry no offset: UTC unless SO-TimeZone).
nlohmann::json Info(std::int64_t id, const std::string& state, int percent,
                    const std::string& text = "", const std::string& result = "") {
  return {{"Id", id},
          {"Name", "sleep"},
          {"State", state},
          {"ProgressPercent", percent},
          {"ProgressDescription", text},
          {"Result", result},
          {"LastStarted", "2027-01-15T08:00:00.0000000"}};
}

TEST(ProgressOf, ReadsTheBatchTaskInfoAndShowsTheResultOnceFinal) {
  auto running = ProgressOf(Info(1003, "Started", 40, "step 4 of 10", "old"));
  EXPECT_EQ(running.id, 1003);
  EXPECT_EQ(running.name, "sleep");
  EXPECT_EQ(running.percent, 40);
  EXPECT_EQ(running.text, "step 4 of 10");
  ASSERT_TRUE(running.started_at);
  EXPECT_EQ(*running.started_at, At("2027-01-15T08:00:00Z"));
  EXPECT_EQ(ProgressOf(Info(1003, "Succeeded", 100, "step 10 of 10", "slept 2 s")).text,
            "slept 2 s");
}

TEST(ProgressOf, ANewTaskHasNoStartAndAPercentOutOfRangeIsClamped) {
  auto info = Info(7, "New", 250);
  info["LastStarted"] = nullptr;
  auto p = ProgressOf(info);
  EXPECT_FALSE(p.started_at);
  EXPECT_EQ(p.percent, 100);
}

TEST(States, FinalAndSuccessAreSuperOfficesNames) {
  for (const char* s : {"Succeeded", "SucceededManualCleanup"}) {
    EXPECT_TRUE(IsFinal(s)) << s;
    EXPECT_TRUE(IsSuccess(s)) << s;
  }
  EXPECT_TRUE(IsFinal("Failed"));
  EXPECT_FALSE(IsSuccess("Failed"));
  for (const char* s : {"New", "Aquired", "Started", "Unknown"}) EXPECT_FALSE(IsFinal(s)) << s;
}

TEST(Bar, FillsInProportionWithinItsWidth) {
  EXPECT_EQ(Bar(0, 12), "[----------]");
  EXPECT_EQ(Bar(50, 12), "[#####-----]");
  EXPECT_EQ(Bar(100, 12), "[##########]");
  EXPECT_EQ(Bar(-5, 6), "[----]");
  EXPECT_EQ(Bar(130, 6), "[####]");
}

TEST(Elapsed, SecondsMinutesAndHours) {
  EXPECT_EQ(Elapsed(0s), "0s");
  EXPECT_EQ(Elapsed(59s), "59s");
  EXPECT_EQ(Elapsed(184s), "3m04s");
  EXPECT_EQ(Elapsed(3720s), "1h02m");
  EXPECT_EQ(Elapsed(-3s), "0s");
}

TEST(ProgressView, ALineShowsIdTypeStateBarPercentElapsedAndText) {
  ProgressView view(false, 120);
  auto line =
      view.Line(ProgressOf(Info(1003, "Started", 50, "step 5 of 10")), At("2027-01-15T08:00:12Z"));
  EXPECT_EQ(line,
            "1003     sleep      Started    [##########----------]  50%     12s step 5 of 10");
}

TEST(ProgressView, ALineIsCutToTheWidth) {
  ProgressView view(false, 40);
  auto line = view.Line(ProgressOf(Info(1, "Started", 10, std::string(100, 'x'))),
                        At("2027-01-15T08:00:01Z"));
  EXPECT_EQ(line.size(), 40u);
}

TEST(ProgressView, PlainWritesALineOnlyWhenStatePercentOrTextMoved) {
  ProgressView view(false, 120);
  auto a = ProgressOf(Info(1, "Started", 10, "step 1"));
  auto b = ProgressOf(Info(2, "New", 0));
  auto first = view.Update({a, b}, At("2027-01-15T08:00:01Z"));
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 2);
  // The clock alone moved: nothing to say.
  EXPECT_EQ(view.Update({a, b}, At("2027-01-15T08:00:02Z")), "");
  a = ProgressOf(Info(1, "Started", 20, "step 2"));
  auto second = view.Update({a, b}, At("2027-01-15T08:00:03Z"));
  EXPECT_EQ(std::count(second.begin(), second.end(), '\n'), 1);
  EXPECT_EQ(second.rfind("1 ", 0), 0u) << second;
  EXPECT_EQ(second.find('\x1b'), std::string::npos) << "no terminal control in plain lines";
}

TEST(ProgressView, ATerminalRedrawsTheBlockInPlace) {
  ProgressView view(true, 120);
  auto a = ProgressOf(Info(1, "Started", 10));
  auto b = ProgressOf(Info(2, "Started", 30));
  auto first = view.Update({a, b}, At("2027-01-15T08:00:01Z"));
  EXPECT_EQ(first.find("\x1b[2A"), std::string::npos) << "nothing drawn yet to move over";
  auto again = view.Update({a, b}, At("2027-01-15T08:00:02Z"));
  EXPECT_EQ(again.rfind("\x1b[2A", 0), 0u) << "up over the two lines drawn";
  EXPECT_EQ(std::count(again.begin(), again.end(), '\n'), 2);
  EXPECT_NE(again.find("\r\x1b[2K"), std::string::npos) << "each line cleared before drawn";
}

TEST(ProgressView, ElapsedTimeStopsWhenATaskIsSeenFinal) {
  ProgressView view(false, 120);
  auto done = ProgressOf(Info(1, "Succeeded", 100, "", "ok"));
  EXPECT_NE(view.Line(done, At("2027-01-15T08:00:05Z")).find(" 5s "), std::string::npos);
  EXPECT_NE(view.Line(done, At("2027-01-15T08:09:00Z")).find(" 5s "), std::string::npos);
}

}  // namespace
}  // namespace conveyor::cli

#include "progress_view.h"

#include <gtest/gtest.h>

#include "conveyor/time_format.h"

namespace conveyor::cli {
namespace {

using namespace std::chrono_literals;

Timestamp At(const char* text) { return *ParseDateTime(text); }

// Started at 08:00:00 UTC, as a BatchTaskInfo writes its dates without SO-TimeZone.
nlohmann::json Info(std::int64_t id, const std::string& state, int percent,
                    const std::string& text = "", const std::string& result = "") {
  return {{"Id", id},
          {"Name", "sleep"},
          {"State", state},
          {"ProgressPercent", percent},
          {"ProgressDescription", text},
          {"Result", result},
          {"LastStarted", "2027-01-15T08:00:00.0000000+00:00"}};
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

TEST(Printable, ControlCharactersBecomeSpacesAndCutsFallBetweenCharacters) {
  EXPECT_EQ(Printable("a\nb\x1b[2Jc\r", 0), "a b [2Jc ");
  EXPECT_EQ(Printable("größe", 3), "grö");
  EXPECT_EQ(Printable("größe", 0), "größe");
}

TEST(ProgressView, ALineShowsIdTypeStateBarPercentElapsedAndText) {
  ProgressView view(false);
  view.Update({ProgressOf(Info(1003, "New", 0))}, At("2027-01-15T07:59:59Z"));
  auto line = view.Update({ProgressOf(Info(1003, "Started", 50, "step 5 of 10"))},
                          At("2027-01-15T08:00:12Z"));
  EXPECT_EQ(line,
            "1003     sleep      Started    [##########----------]  50%     12s step 5 of 10\n");
}

TEST(ProgressView, ATerminalCutsLinesShortOfItsWidthAndPlainLinesAreWhole) {
  auto task = ProgressOf(Info(1, "Started", 10, std::string(100, 'x')));
  ProgressView terminal(true, 40);
  auto drawn = terminal.Update({task}, At("2027-01-15T08:00:01Z"));
  // "\r\x1b[2K", 39 columns, "\n\x1b[J".
  EXPECT_EQ(drawn.size(), 5u + 39u + 4u) << drawn;
  EXPECT_TRUE(drawn.ends_with("[##-----\n\x1b[J")) << "cut within the bar: " << drawn;
  ProgressView plain(false, 40);
  EXPECT_NE(plain.Update({task}, At("2027-01-15T08:00:01Z")).find(std::string(100, 'x')),
            std::string::npos);
}

TEST(ProgressView, PlainWritesALineOnlyWhenStatePercentOrTextMoved) {
  ProgressView view(false);
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

TEST(ProgressView, ATerminalRedrawsTheBlockInPlaceAndClearsWhatALongerOneLeft) {
  ProgressView view(true, 120);
  auto a = ProgressOf(Info(1, "Started", 10));
  auto b = ProgressOf(Info(2, "Started", 30));
  auto first = view.Update({a, b}, At("2027-01-15T08:00:01Z"));
  EXPECT_EQ(first.rfind("\r\x1b[2K1 ", 0), 0u) << "nothing drawn yet to move over: " << first;
  auto again = view.Update({a, b}, At("2027-01-15T08:00:02Z"));
  EXPECT_EQ(again.rfind("\x1b[2A\r\x1b[2K1 ", 0), 0u) << "up over the two lines drawn";
  EXPECT_EQ(std::count(again.begin(), again.end(), '\n'), 2);
  auto fewer = view.Update({a}, At("2027-01-15T08:00:03Z"));
  EXPECT_EQ(fewer.rfind("\x1b[2A", 0), 0u);
  EXPECT_TRUE(fewer.ends_with("\n\x1b[J")) << "the line below is cleared";
  EXPECT_EQ(view.Update({a}, At("2027-01-15T08:00:04Z")).rfind("\x1b[1A", 0), 0u);
}

TEST(ProgressView, ElapsedTimeStopsWhenAWatchedTaskEnds) {
  ProgressView view(false);
  view.Update({ProgressOf(Info(1, "Started", 50))}, At("2027-01-15T08:00:03Z"));
  auto ended =
      view.Update({ProgressOf(Info(1, "Succeeded", 100, "", "ok"))}, At("2027-01-15T08:00:05Z"));
  EXPECT_NE(ended.find(" 5s ok"), std::string::npos) << ended;
  ProgressView terminal(true, 120);
  terminal.Update({ProgressOf(Info(1, "Started", 50))}, At("2027-01-15T08:00:03Z"));
  terminal.Update({ProgressOf(Info(1, "Succeeded", 100))}, At("2027-01-15T08:00:05Z"));
  auto later = terminal.Update({ProgressOf(Info(1, "Succeeded", 100))}, At("2027-01-15T09:00:00Z"));
  EXPECT_NE(later.find(" 5s "), std::string::npos) << later;
}

TEST(ProgressView, ATaskFinalBeforeTheWatchBeganShowsNoElapsedTime) {
  ProgressView view(false);
  auto line =
      view.Update({ProgressOf(Info(1, "Failed", 40, "", "boom"))}, At("2027-01-15T09:00:00Z"));
  EXPECT_NE(line.find("  40%       - boom"), std::string::npos) << line;
}

}  // namespace
}  // namespace conveyor::cli

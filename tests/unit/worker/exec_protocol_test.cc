#include "src/exec_protocol.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

using Kind = ExecLine::Kind;

TEST(ExecProtocol, ProgressWithDescription) {
  auto l = ParseExecLine("progress 40 resized 4 of 10 images");
  EXPECT_EQ(l.kind, Kind::kProgress);
  EXPECT_EQ(l.percent, 40);
  EXPECT_EQ(l.text, "resized 4 of 10 images");
}

TEST(ExecProtocol, ProgressWithoutDescriptionAndCrLf) {
  auto l = ParseExecLine("progress 100\r");
  EXPECT_EQ(l.kind, Kind::kProgress);
  EXPECT_EQ(l.percent, 100);
  EXPECT_EQ(l.text, "");
}

TEST(ExecProtocol, ProgressOutOfRangeOrNotANumberIsMalformed) {
  for (auto line : {"progress 101", "progress -1", "progress", "progress 4.5 x", "progress abc"}) {
    auto l = ParseExecLine(line);
    EXPECT_EQ(l.kind, Kind::kMalformed) << line;
    EXPECT_NE(l.problem.find("0 to 100"), std::string::npos) << line;
  }
}

TEST(ExecProtocol, ResultKeepsTheRestOfTheLineVerbatim) {
  auto l = ParseExecLine("result  42 images,  done ");
  EXPECT_EQ(l.kind, Kind::kResult);
  EXPECT_EQ(l.text, " 42 images,  done ");
  EXPECT_EQ(ParseExecLine("result").kind, Kind::kResult);
}

TEST(ExecProtocol, FileNamesTheFile) {
  auto l = ParseExecLine("file /var/lib/out/report-7.pdf");
  EXPECT_EQ(l.kind, Kind::kFile);
  EXPECT_EQ(l.text, "/var/lib/out/report-7.pdf");
  EXPECT_EQ(ParseExecLine("file").kind, Kind::kMalformed);
}

TEST(ExecProtocol, OtherLinesAreIgnored) {
  for (auto line : {"", "hello", "Progress 5", "progress5", "results are in", "filed"})
    EXPECT_EQ(ParseExecLine(line).kind, Kind::kOther) << line;
}

TEST(ExecProtocol, LineSplitterJoinsChunksAndCutsLongLines) {
  LineSplitter s(5);
  std::vector<std::string> lines;
  auto on = [&](std::string_view l) { lines.emplace_back(l); };
  s.Feed("ab", on);
  s.Feed("c\n0123456789\nlast", on);
  s.Finish(on);
  EXPECT_EQ(lines, (std::vector<std::string>{"abc", "01234", "last"}));
}

TEST(ExecProtocol, BoundedLogKeepsTheTailAndSaysWhatWasCut) {
  BoundedLog log(10);
  log.Append("0123456789");
  EXPECT_EQ(log.Text(), "0123456789");
  log.Append("abcde\n");
  EXPECT_EQ(log.cut(), 6u);
  EXPECT_EQ(log.Text(), "[conveyor: the first 6 bytes were cut; the last 10 follow]\n6789abcde\n");
  EXPECT_EQ(log.LastLine(), "6789abcde");
}

TEST(ExecProtocol, SafeTextReplacesInvalidUtf8AndNul) {
  EXPECT_EQ(SafeText("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(SafeText(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SafeText("\xFF"
                     "x"),
            "\xEF\xBF\xBD"
            "x");
  EXPECT_EQ(SafeText("\xC3"), "\xEF\xBF\xBD");                  // cut short
  EXPECT_EQ(SafeText("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(SafeText("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace conveyor

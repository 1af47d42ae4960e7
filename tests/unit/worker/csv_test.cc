#include "src/csv.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

std::string Field(std::optional<std::string_view> v) {
  std::string out;
  AppendCsvField(out, v);
  return out;
}

TEST(Csv, PlainFieldIsNotQuoted) { EXPECT_EQ(Field("abc 12.5"), "abc 12.5"); }

TEST(Csv, CommaQuoteAndLineBreaksAreQuotedWithQuotesDoubled) {
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(Field("cr\rhere"), "\"cr\rhere\"");
}

TEST(Csv, NullIsEmptyAndEmptyTextIsQuoted) {
  EXPECT_EQ(Field(std::nullopt), "");
  EXPECT_EQ(Field(""), "\"\"");
}

TEST(Csv, RecordSeparatesWithCommasAndEndsWithCrLf) {
  std::string out;
  AppendCsvRecord(out, {"id", std::nullopt, "x,y"});
  EXPECT_EQ(out, "id,,\"x,y\"\r\n");
}

}  // namespace
}  // namespace conveyor

#include "conveyor/utf8.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

TEST(FirstInvalidUtf8, WellFormedTextOfEveryLengthIsUtf8) {
  for (std::string_view text : {"", "plain ASCII", "Ærø ø", "€ 5", "😀 emoji", "\x7f"})
    EXPECT_EQ(FirstInvalidUtf8(text), std::nullopt) << text;
}

TEST(FirstInvalidUtf8, NamesTheOffsetOfTheFirstBadByte) {
  struct Case {
    std::string_view text;
    std::size_t offset;
  };
  const Case cases[] = {
      {"ab\xff", 2},                // never in UTF-8
      {"a\x80", 1},                 // a continuation byte alone
      {"\xc3", 0},                  // cut short
      {"\xc0\xaf", 0},              // overlong '/'
      {"\xe0\x80\xaf", 0},          // overlong, three bytes
      {"ok\xed\xa0\x80", 2},        // a surrogate (U+D800)
      {"\xf4\x90\x80\x80", 0},      // above U+10FFFF
      {"\xf8\x88\x80\x80\x80", 0},  // five bytes
      {"é\xe2\x82", 2},             // cut short after a good character
  };
  for (const auto& c : cases) EXPECT_EQ(FirstInvalidUtf8(c.text), c.offset) << c.offset;
}

}  // namespace
}  // namespace conveyor

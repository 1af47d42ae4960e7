#include "conveyor/json_text.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

std::string NestedArrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string NestedObjects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += R"({"a":)";
  text += "1";
  return text + std::string(depth, '}');
}

TEST(ParseJson, DocumentAtTheDepthLimitIsParsed) {
  auto arrays = ParseJson(NestedArrays(kMaxJsonDepth), "the body");
  ASSERT_TRUE(arrays.has_value()) << arrays.error().Describe();
  EXPECT_TRUE(arrays->is_array());
  auto objects = ParseJson(NestedObjects(kMaxJsonDepth), "the body");
  ASSERT_TRUE(objects.has_value()) << objects.error().Describe();
  EXPECT_EQ(objects->dump().size(), NestedObjects(kMaxJsonDepth).size());
}

TEST(ParseJson, OneLevelOverTheLimitIsRefusedNamingTheLimitAndTheField) {
  for (const auto& text : {NestedArrays(kMaxJsonDepth + 1), NestedObjects(kMaxJsonDepth + 1)}) {
    auto r = ParseJson(text, "", "Parameters");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
    EXPECT_EQ(r.error().field, "Parameters");
    EXPECT_EQ(r.error().message,
              "nests JSON arrays and objects deeper than the limit of 32 levels");
  }
}

// A million levels in two megabytes: copying, dumping or validating it would overflow the
// stack; ParseJson refuses it without building it.
TEST(ParseJson, AMillionNestedArraysAreRefusedWithoutOverflowingTheStack) {
  auto r = ParseJson(NestedArrays(1'000'000), "the request body");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_TRUE(r.error().message.starts_with("the request body nests JSON")) << r.error().message;
}

TEST(ParseJson, TextThatIsNotJsonSaysWhereTheParserStopped) {
  auto r = ParseJson(R"({"a": tru})", "the body");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(
      r.error().message.starts_with("the body is not a JSON document (parse error at line 1"))
      << r.error().message;
  EXPECT_NE(r.error().message.find("tru}"), std::string::npos) << r.error().message;
}

// nlohmann throws out_of_range, not parse_error, for a number beyond a double's range: it
// escaped ParseJson and took down the worker that read such a command, and then every worker
// that took its partition over (found by fuzz/ twosms_client, oracle_body, bind_parameters).
TEST(ParseJson, ANumberBeyondADoublesRangeIsRefusedNamingIt) {
  for (const auto* text : {"1e400", R"({"a": [1, -1e400]})"}) {
    auto r = ParseJson(text, "the body", "Parameters");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, "Parameters");
    EXPECT_TRUE(r.error().message.starts_with(
        "the body holds a number out of range (number overflow parsing '"))
        << r.error().message;
  }
}

TEST(ParseJson, ScalarsAndEmptyContainersAreDocuments) {
  for (const auto* text : {"1", "\"x\"", "null", "[]", "{}"})
    EXPECT_TRUE(ParseJson(text, "the body").has_value()) << text;
  EXPECT_FALSE(ParseJson("", "the body").has_value());
}

}  // namespace
}  // namespace conveyor

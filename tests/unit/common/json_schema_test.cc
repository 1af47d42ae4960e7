#include "conveyor/json_schema.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace conveyor {
namespace {

std::string StringWithPattern(const std::string& pattern) {
  return nlohmann::json{{"type", "string"}, {"pattern", pattern}}.dump();
}

TEST(JsonSchema, PatternWithAQuantifierWithoutUpperBoundIsRefusedAtCompile) {
  for (const auto* pattern : {"^a*$", "^a+$", "^a{2,}$", "^(ab)*?$", "^[a-z]+$"}) {
    auto s = JsonSchema::Compile(StringWithPattern(pattern));
    ASSERT_FALSE(s.has_value()) << pattern;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find(std::string("(") + pattern + ")"), std::string::npos)
        << s.error().message;
    EXPECT_NE(s.error().message.find("/pattern"), std::string::npos) << s.error().message;
  }
}

TEST(JsonSchema, BoundedEscapedAndBracketedQuantifierCharactersCompile) {
  for (const auto* pattern : {"^a{0,64}$", "^a\\*b\\+$", "^[*+]{1,3}$", "^x{3}$", "^\\{2,\\}$"})
    EXPECT_TRUE(JsonSchema::Compile(StringWithPattern(pattern)).has_value()) << pattern;
}

TEST(JsonSchema, UnboundedPatternDeepInsideTheSchemaIsFoundAndPlaced) {
  auto schema = nlohmann::json::parse(R"({"type": "object", "properties": {"Tags": {
      "type": "array", "items": [{"type": "string", "pattern": "^(x, )*$"}]}}})");
  auto s = JsonSchema::Compile(schema.dump());
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("/properties/Tags/items/0/pattern"), std::string::npos)
      << s.error().message;
}

// Every schema the binaries enforce compiles, so none has an unbounded pattern.
TEST(JsonSchema, EverySchemaTheProgramsEnforceCompiles) {
  int compiled = 0;
  for (const auto* folder : {"requests", "events", "config"}) {
    auto dir = std::filesystem::path(CONVEYOR_SOURCE_DIR) / "schemas" / folder;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      auto relative = std::string(folder) + "/" + entry.path().filename().string();
      // Its items refer to another file; RequestDecoder::Create compiles it without them.
      if (relative == "requests/twosms.account-task-bulk.json") continue;
      auto s = JsonSchema::Embedded(relative);
      EXPECT_TRUE(s.has_value()) << s.error().Describe();
      ++compiled;
    }
  }
  EXPECT_GT(compiled, 20);
}

// libstdc++'s matcher recursed once per character of "NONE,NONE,…": 25 KB of it overflowed
// the stack of the producer thread that validated a TwoSms Notification.
TEST(JsonSchema, LongStringAgainstTheNotificationPatternIsRefusedWithoutOverflow) {
  auto schema = JsonSchema::Embedded("requests/twosms.account-task-create.json");
  ASSERT_TRUE(schema.has_value()) << schema.error().Describe();
  std::string names = "NONE";
  for (int i = 0; i < 200'000; ++i) names += ",NONE";
  nlohmann::json body = {{"TaskID", "00000000-0000-0000-0000-000000000001"},
                         {"Frequency", 0},
                         {"Parameters", "{}"},
                         {"ContentType", "application/json"},
                         {"Notification", names}};
  auto valid = schema->Validate(body);
  ASSERT_FALSE(valid.has_value());
  body["Notification"] = "SUCCESS ,  PROGRESS";
  EXPECT_TRUE(schema->Validate(body).has_value());
}

}  // namespace
}  // namespace conveyor

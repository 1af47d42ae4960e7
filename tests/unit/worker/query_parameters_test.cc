#include "src/query_parameters.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

Task WithParameters(std::string content_type, std::string parameters) {
  Task t;
  t.content_type = std::move(content_type);
  t.parameters = std::move(parameters);
  return t;
}

using Values = std::vector<std::optional<std::string>>;

TEST(BindParameters, JsonFieldsInTheConfiguredOrder) {
  auto v = BindParameters(
      WithParameters("application/json",
                     R"({"day": "2026-01-01", "n": 5, "ok": true, "gone": null, "tags": ["a"]})"),
      {"n", "day", "ok", "gone", "tags"});
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(*v, (Values{"5", "2026-01-01", "true", std::nullopt, R"(["a"])"}));
}

TEST(BindParameters, MissingJsonFieldIsNamed) {
  auto v = BindParameters(WithParameters("application/json", R"({"day": "x"})"), {"before"});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().field, "Parameters/before");
  EXPECT_NE(v.error().message.find("'before'"), std::string::npos);
}

TEST(BindParameters, JsonThatIsNotAnObjectIsRefused) {
  auto v = BindParameters(WithParameters("application/json", "[1]"), {"a"});
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("JSON object"), std::string::npos);
}

TEST(BindParameters, XmlChildElementsOfTheRootByName) {
  auto v =
      BindParameters(WithParameters("application/xml",
                                    R"(<p xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">)"
                                    R"(<day>2026-01-01</day><empty/><none xsi:nil="true"/></p>)"),
                     {"day", "empty", "none"});
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(*v, (Values{"2026-01-01", "", std::nullopt}));
}

TEST(BindParameters, MissingXmlElementIsNamed) {
  auto v = BindParameters(WithParameters("application/xml", "<p><a>1</a></p>"), {"b"});
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("<b>"), std::string::npos) << v.error().message;
}

TEST(BindParameters, BrokenXmlIsRefused) {
  auto v = BindParameters(WithParameters("application/xml", "<p><a>"), {"a"});
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("not an XML document"), std::string::npos);
}

TEST(BindParameters, OtherContentTypeIsRefusedNamingIt) {
  auto v = BindParameters(WithParameters("text/plain", "x"), {"a"});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().field, "ContentType");
}

TEST(BindParameters, NoNamesLooksAtNothing) {
  auto v = BindParameters(WithParameters("text/plain", "not even JSON"), {});
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->empty());
}

// Parameters stored before every dialect checked their depth reach the sql handler: they are
// refused, not dumped (which recursed once per level and overflowed the worker's stack).
TEST(BindParameters, JsonNestedDeeperThanTheLimitIsRefusedNamingIt) {
  auto deep = R"({"n": )" + std::string(200000, '[') + std::string(200000, ']') + "}";
  auto v = BindParameters(WithParameters("application/json", deep), {"n"});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(v.error().field, "Parameters");
}

TEST(BindParameters, AtNamesComeFromTheTasksRecordAndParametersCannotFakeThem) {
  auto task = WithParameters("application/json",
                             R"({"before": "2026-01-01", "client_id": "someone else's"})");
  task.id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-000000000042");
  task.number = 42;
  task.client_id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-00000000c001");
  auto v = BindParameters(task, {"before", "@client_id", "@task_id", "@task_number"});
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(*v, (Values{"2026-01-01", "6b1f3c2e-0000-4000-8000-00000000c001",
                        "6b1f3c2e-0000-4000-8000-000000000042", "42"}));
  task.client_id.reset();  // a system task: NULL, which matches no tenant's rows
  EXPECT_EQ(BindParameters(task, {"@client_id"}).value(), (Values{std::nullopt}));
}

TEST(BindParameters, OnlyAtNamesLookAtNoParameters) {
  auto task = WithParameters("text/plain", "not JSON at all");
  task.client_id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-00000000c001");
  auto v = BindParameters(task, {"@client_id"});
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(*v, (Values{"6b1f3c2e-0000-4000-8000-00000000c001"}));
}

}  // namespace
}  // namespace conveyor

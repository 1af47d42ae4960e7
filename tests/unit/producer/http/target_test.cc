// ParseTarget: a request target's path and query as the routes see them.
#include "http/target.h"

#include <gtest/gtest.h>

namespace conveyor::http {
namespace {

TEST(ParseTarget, DecodesThePathAndTheQueryWithPlusAsSpace) {
  auto t = ParseTarget("/api/v1/Batch%2FTask?name=a+b&q=%26%3D&flag&n=1&n=2");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->path, "/api/v1/Batch/Task");
  EXPECT_EQ(t->params.find("name")->second, "a b");
  EXPECT_EQ(t->params.find("q")->second, "&=");
  EXPECT_EQ(t->params.find("flag")->second, "");
  auto [first, last] = t->params.equal_range("n");
  ASSERT_EQ(std::distance(first, last), 2);
  EXPECT_EQ(first->second, "1");
  EXPECT_EQ(std::next(first)->second, "2");
}

TEST(ParseTarget, KeepsAnEncodedLineBreakInThePathForTheRouteToRefuse) {
  auto t = ParseTarget("/api/v2/admin/tasks/account/%0D%0Ax");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/api/v2/admin/tasks/account/\r\nx");
}

TEST(ParseTarget, TakesTheAbsoluteFormsPathAndQuery) {
  auto t = ParseTarget("http://tasks.example.com:8080/healthz?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/healthz");
  EXPECT_EQ(t->params.find("x")->second, "1");
}

TEST(ParseTarget, RefusesWhatIsNotAUriSayingWhatToEncode) {
  for (const char* bad : {"/a b", "/caf\xc3\xa9", "/x?q=%zz", "/x%2"}) {
    auto t = ParseTarget(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(t.error().message.find("percent-encode"), std::string::npos) << t.error().message;
  }
}

}  // namespace
}  // namespace conveyor::http

// The plain request and answer (http/message.h) and the header helpers the dialects share.
#include "http/message.h"

#include <gtest/gtest.h>

namespace conveyor::http {
namespace {

TEST(Message, HeaderNamesMatchWithoutRegardToCaseAndTheFirstOfARepeatedOneWins) {
  Request r;
  r.headers = {{"content-type", "application/xml"}, {"Content-Type", "text/json"}};
  EXPECT_EQ(r.Header("CONTENT-TYPE"), "application/xml");
  EXPECT_TRUE(r.HasHeader("Content-type"));
  EXPECT_FALSE(r.HasHeader("Accept"));
  EXPECT_EQ(r.Header("Accept"), "");
  Answer a;
  a.SetHeader("WWW-Authenticate", "Basic");
  a.SetHeader("www-authenticate", "Bearer");
  EXPECT_EQ(a.Header("Www-Authenticate"), "Bearer");
  EXPECT_EQ(a.headers.size(), 1u);
}

TEST(Message, MediaTypeIsLowerCasedWithoutParametersOrSpaces) {
  EXPECT_EQ(MediaType(" Application/JSON ; charset=utf-8"), "application/json");
  EXPECT_EQ(MediaType(""), "");
}

TEST(Message, AcceptedMediaTypesComeByQualityThenInTheOrderListed) {
  using V = std::vector<std::string>;
  EXPECT_EQ(AcceptedMediaTypes("text/html, application/xml;q=0.9, application/json;q=0.5"),
            (V{"text/html", "application/xml", "application/json"}));
  EXPECT_EQ(AcceptedMediaTypes("application/json;q=0.5, text/xml;Q=0.8, */*;q=0.5"),
            (V{"text/xml", "application/json", "*/*"}));
  EXPECT_EQ(AcceptedMediaTypes("application/json;q=0, text/*"), (V{"text/*"}));
  EXPECT_EQ(AcceptedMediaTypes("a/b;q=oops, c/d;q=1"), (V{"a/b", "c/d"}));
  EXPECT_EQ(AcceptedMediaTypes(" , ;q=1"), V{});
}

TEST(Message, EveryErrorCodeHasAStatusInTheErrorRange) {
  EXPECT_EQ(StatusOf(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(StatusOf(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(StatusOf(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(StatusOf(ErrorCode::kNotFound), 404);
  EXPECT_EQ(StatusOf(ErrorCode::kFailedPrecondition), 409);
  EXPECT_EQ(StatusOf(ErrorCode::kTooLarge), 413);
  EXPECT_EQ(StatusOf(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(StatusOf(ErrorCode::kInternal), 500);
}

TEST(Message, JsonTextReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(JsonText(nlohmann::json{{"path", std::string("/a\xff")}}),
            "{\"path\":\"/a\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace conveyor::http

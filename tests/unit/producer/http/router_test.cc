// The producer's request pipeline on plain requests (http/router.h), wired as main.cc wires
// it on in-memory ports: which route answers, who may call it, and that every refusal comes
// in the shape of the dialect that owns the path. Then the routes against the OpenAPI
// document the producer serves: every documented operation reaches a route of its own (not a
// dialect's catch-all), every route is documented, and the operations that need no
// credentials are exactly the public routes.
#include "http/router.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"
#include "conveyor/trace_context.h"
#include "http/openapi.h"
#include "support/openapi_samples.h"
#include "support/producer_on_fakes.h"

namespace conveyor::http {
namespace {

using nlohmann::json;
using testing::ProducerOnFakes;

json Body(const Answer& a) { return json::parse(a.body, nullptr, false); }

class RouterTest : public ::testing::Test {
 protected:
  ProducerOnFakes producer_;
};

TEST_F(RouterTest, PublicRoutesNeedNoCredentials) {
  EXPECT_EQ(producer_.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(producer_.Send("HEAD", "/healthz").status, 200);
  auto refused = producer_.Send("POST", "/Token");
  EXPECT_EQ(refused.status, 400) << refused.body;  // answered by the route, not refused
  EXPECT_EQ(Body(refused)["error"], "invalid_request") << refused.body;

  Request token;
  token.method = "POST";
  token.path = "/Token";
  token.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  token.body = std::string("grant_type=client_credentials&client_id=") +
               ProducerOnFakes::kClientId + "&client_secret=" + ProducerOnFakes::kSecret;
  auto issued = producer_.router->Handle(token);
  ASSERT_EQ(issued.status, 200) << issued.body;
  auto bearer = "Bearer " + Body(issued)["access_token"].get<std::string>();
  EXPECT_EQ(producer_.Send("GET", "/api/v2/admin/tasks/account", bearer).status, 200);
}

TEST_F(RouterTest, NoCredentialsIs401WithAChallengeInTheOwningDialectsShape) {
  for (const char* path : {"/api/v2/admin/tasks/account", "/no/such/route"}) {
    auto a = producer_.Send("GET", path);
    EXPECT_EQ(a.status, 401) << path;
    EXPECT_NE(a.Header("WWW-Authenticate").find(R"(Bearer realm="conveyor")"), std::string::npos);
    EXPECT_EQ(Body(a)["Error"]["ErrorCode"], "Unauthorized") << path << " " << a.body;
  }
  for (const char* path : {"/api/v1/Agents/Batch/GetBatchTaskInfo", "/api/v1/BatchTask/1000"}) {
    auto a = producer_.Send("POST", path);
    EXPECT_EQ(a.status, 401) << path;
    EXPECT_EQ(Body(a)["ErrorType"], "unauthenticated") << path << " " << a.body;
  }
  auto oracle = producer_.Send("GET", "/services/rest/connect/v1.4/tasks");
  EXPECT_EQ(oracle.status, 401);
  EXPECT_EQ(Body(oracle)["o:errorCode"], "OSC-CREST-00014") << oracle.body;
}

TEST_F(RouterTest, BadCredentialsAre401WithAnInvalidTokenChallenge) {
  auto a = producer_.Send("GET", "/api/v2/admin/tasks/account", "Bearer nobody-knows-it");
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.Header("WWW-Authenticate").find(R"(error="invalid_token")"), std::string::npos);
}

TEST_F(RouterTest, AClientOnAnAdminRouteIs403AndTheAdminKeyPasses) {
  auto client =
      producer_.Send("GET", "/api/v1/admin/clients", ProducerOnFakes::kClientAuthorization);
  EXPECT_EQ(client.status, 403) << client.body;
  EXPECT_EQ(Body(client)["Error"]["ErrorCode"], "Forbidden") << client.body;
  auto admin = producer_.Send("GET", "/api/v1/admin/clients", ProducerOnFakes::kAdminAuthorization);
  EXPECT_EQ(admin.status, 200) << admin.body;
}

TEST_F(RouterTest, AnUnknownPathIs404InTheShapeOfItsOwnerOnceAuthenticated) {
  auto twosms =
      producer_.Send("GET", "/api/v2/admin/nothing", ProducerOnFakes::kClientAuthorization);
  EXPECT_EQ(twosms.status, 404);
  EXPECT_EQ(Body(twosms)["Error"]["ErrorCode"], "NotFound") << twosms.body;
  auto rest = producer_.Send("GET", "/api/v1/BatchTaskX", ProducerOnFakes::kClientAuthorization);
  EXPECT_EQ(rest.status, 404);
  EXPECT_TRUE(Body(rest).contains("ErrorType")) << rest.body;
  auto nowhere = producer_.Send("DELETE", "/elsewhere", ProducerOnFakes::kClientAuthorization);
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_TRUE(Body(nowhere).contains("Error")) << nowhere.body;  // the fallback: TwoSms
}

TEST_F(RouterTest, TheRequestsTraceGoesIntoItsCommandAndTheAnswerWithAParentOfItsOwn) {
  const std::string sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto body = json{{"TaskID", NoopTaskTypeId().ToString()},
                   {"Frequency", "NONE"},
                   {"Parameters", "{}"},
                   {"ContentType", "application/json"}}
                  .dump();
  auto created =
      producer_.Send("POST", "/api/v2/admin/tasks/account", ProducerOnFakes::kClientAuthorization,
                     body, {{"traceparent", sent}});
  ASSERT_EQ(created.status, 200) << created.body;
  ASSERT_EQ(producer_.publisher.sent.size(), 1u);
  auto command = CloudEvent::Parse(producer_.publisher.sent[0].value);
  ASSERT_TRUE(command.has_value());
  auto hop = ParseTraceparent(command->traceparent);
  ASSERT_TRUE(hop.has_value()) << command->traceparent;
  EXPECT_EQ(hop->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(hop->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(created.Header("traceparent"), command->traceparent);

  // None sent (or one that is not valid): a new trace, named in the answer.
  auto fresh = producer_.Send("POST", "/api/v2/admin/tasks/account",
                              ProducerOnFakes::kClientAuthorization, body, {{"traceparent", "x"}});
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  auto minted = CloudEvent::Parse(producer_.publisher.sent[1].value)->traceparent;
  ASSERT_TRUE(ParseTraceparent(minted).has_value()) << minted;
  EXPECT_NE(TraceIdOf(minted), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(fresh.Header("traceparent"), minted);
}

TEST_F(RouterTest, PathGroupsReachTheHandlerAndACreateIsPublished) {
  auto created =
      producer_.Send("POST", "/api/v2/admin/tasks/account", ProducerOnFakes::kClientAuthorization,
                     json{{"TaskID", NoopTaskTypeId().ToString()},
                          {"Frequency", "NONE"},
                          {"Parameters", "{}"},
                          {"ContentType", "application/json"},
                          {"Notification", "NONE"}}
                         .dump());
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(producer_.publisher.sent.size(), 1u);
  std::vector<std::string> groups;
  const auto* route =
      producer_.router->Match("GET", "/services/rest/connect/v1.4/tasks/42", &groups);
  ASSERT_NE(route, nullptr);
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups.back(), "42");
}

TEST_F(RouterTest, AHandlerThatThrowsIsA500InItsDialectsShapeAndTheOthersGoOn) {
  struct Throwing final : Dialect {
    std::string_view Name() const override { return "throwing"; }
    std::vector<std::string> Prefixes() const override { return {"/throw"}; }
    std::vector<Route> Routes() override {
      return {{"GET", "/throw", Access::kAnyCaller,
               [](const Request&, Answer&) { throw std::runtime_error("boom"); }}};
    }
    Answer ErrorAnswer(const Request&, const Error& e) const override {
      return JsonAnswer(e.code == ErrorCode::kInternal ? 500 : 400, {{"thrown", e.message}});
    }
  } throwing;
  Router router(producer_.auth, {&throwing}, throwing, {});
  Request r;
  r.method = "GET";
  r.path = "/throw";
  r.headers.emplace_back("Authorization", ProducerOnFakes::kClientAuthorization);
  auto a = router.Handle(r);
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(Body(a)["thrown"], "internal error; see the producer's log");
}

// The routes against the document.
class RoutesAgainstTheOpenApiDocument : public RouterTest {
 protected:
  void SetUp() override {
    auto doc = openapi::ServedDocument();
    ASSERT_TRUE(doc.has_value()) << doc.error().Describe();
    doc_ = *doc;
    samples_ = testing::Samples(doc_);
  }
  // A route whose pattern ends in ".*" is a dialect's catch-all (Oracle's answers its own 404
  // and 405 under /services/rest/connect/), not an operation.
  static bool IsCatchAll(const Route& r) { return r.pattern.ends_with(".*"); }

  json doc_;
  std::vector<testing::OperationSample> samples_;
};

TEST_F(RoutesAgainstTheOpenApiDocument, EveryDocumentedOperationReachesARouteOfItsOwn) {
  ASSERT_GE(samples_.size(), 30u);
  for (const auto& sample : samples_) {
    const auto* route = producer_.router->Match(sample.method, sample.path);
    EXPECT_TRUE(route != nullptr && !IsCatchAll(*route))
        << sample.documented << " (as " << sample.method << " " << sample.path
        << ") is documented but not served"
        << (route ? " (only the catch-all " + route->pattern + " answers it)" : "");
  }
}

TEST_F(RoutesAgainstTheOpenApiDocument, EveryRouteIsDocumented) {
  auto routes = producer_.router->routes();
  ASSERT_GE(routes.size(), 30u);
  for (const auto& route : routes) {
    if (IsCatchAll(route)) continue;
    bool documented = false;
    for (const auto& sample : samples_)
      if (const auto* r = producer_.router->Match(sample.method, sample.path))
        documented = documented || (r->method == route.method && r->pattern == route.pattern);
    EXPECT_TRUE(documented) << route.method << " " << route.pattern
                            << " is served but no operation of schemas/openapi.json reaches it";
  }
}

TEST_F(RoutesAgainstTheOpenApiDocument, OperationsWithoutCredentialsAreExactlyThePublicRoutes) {
  int public_operations = 0;
  for (const auto& sample : samples_) {
    bool documented_public =
        sample.operation.contains("security") && sample.operation["security"].empty();
    const auto* route = producer_.router->Match(sample.method, sample.path);
    ASSERT_NE(route, nullptr) << sample.documented;
    EXPECT_EQ(documented_public, route->access == Access::kPublic)
        << sample.documented << ": the document and the route's Access disagree";
    public_operations += documented_public;
  }
  // GET /healthz, /readyz, /metrics, /openapi.json and /asyncapi.json; POST /Token and /revoke;
  // GET /console, /console/ and /console/{file}.
  EXPECT_EQ(public_operations, 10);
}

}  // namespace
}  // namespace conveyor::http

namespace conveyor::http {
namespace {

// A deferred route's answer is sent once: a route that drops its reply, or throws after
// handing it on, is answered 500 (once), and a later answer is ignored.
TEST(DeferredRoutes, ARouteThatEndsWithoutAnsweringOrThrowsIsAnswered500Once) {
  ProducerOnFakes producer;
  Reply kept;
  Route dropped{"GET", "/dropped", Access::kPublic};
  dropped.deferred = [](std::shared_ptr<const Request>, Reply) {};
  Route throws{"GET", "/throws", Access::kPublic};
  throws.deferred = [&kept](std::shared_ptr<const Request>, Reply reply) {
    kept = reply;
    throw std::runtime_error("failed after handing its reply on (test)");
  };
  Router router(producer.auth, {producer.twosms.get()}, *producer.twosms, {dropped, throws});
  auto request = [](std::string path) {
    Request r;
    r.method = "GET";
    r.path = std::move(path);
    return r;
  };
  EXPECT_EQ(router.Handle(request("/dropped")).status, 500);
  int answers = 0;
  router.Handle(request("/throws"), [&answers](Answer a) {
    ++answers;
    EXPECT_EQ(a.status, 500) << a.body;
  });
  ASSERT_TRUE(kept);
  kept({200, "text/plain", "late", {}});
  kept = nullptr;
  EXPECT_EQ(answers, 1);
}

}  // namespace
}  // namespace conveyor::http

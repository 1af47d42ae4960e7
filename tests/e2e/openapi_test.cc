// GET /openapi.json on the running conveyor-producer, and every operation it documents sent
// to it: each reaches a route of its own rather than the router's "no such route" (label: e2e).
#include "e2e_fixture.h"
#include "support/openapi_samples.h"

namespace conveyor::testing {
namespace {

class OpenApiE2e : public E2eTest {};

// The producer's answer for a path no route serves (http_api.cc's error handler), or, under
// /services/rest/connect/, the Oracle catch-all's "no resource" / unsupported method.
bool IsNoSuchRoute(const httplib::Result& r) {
  if (!r) return false;
  auto body = json::parse(r->body, nullptr, false);
  if (!body.is_object()) return false;
  if (r->status == 404 && body.contains("Error") && body["Error"].is_object() &&
      body["Error"].value("ErrorReason", "") == "no such route")
    return true;
  auto code = body.value("o:errorCode", "");
  return (code == "OSC-CREST-00013" && body.value("detail", "").starts_with("no resource at")) ||
         code == "OSC-CREST-00002" || code == "OSC-CREST-00003";
}

httplib::Result Send(httplib::Client& http, const OperationSample& s) {
  httplib::Headers headers;
  for (const auto& p : s.operation.value("parameters", json::array()))
    if (p.value("in", "") == "header" && p.value("required", false))
      headers.emplace(p["name"].get<std::string>(), p["schema"]["enum"][0].get<std::string>());
  // A body the operation refuses (or, for /Token, a form without credentials): nothing is
  // created, and the answer still shows which route took the request.
  bool form = s.operation.contains("requestBody") &&
              s.operation["requestBody"]["content"].contains("application/x-www-form-urlencoded");
  std::string body = form ? "grant_type=client_credentials" : "{}";
  std::string type = form ? "application/x-www-form-urlencoded" : "application/json";
  if (s.method == "GET") return http.Get(s.path, headers);
  if (s.method == "POST") return http.Post(s.path, headers, body, type);
  if (s.method == "PUT") return http.Put(s.path, headers, body, type);
  if (s.method == "PATCH") return http.Patch(s.path, headers, body, type);
  return http.Delete(s.path, headers);
}

TEST_F(OpenApiE2e, OpenApiJsonIsServedWithoutCredentialsAndEveryOperationInItIsServed) {
  auto producer = StartProducer(KafkaBrokers());
  auto r = Http("").Get("/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json; charset=utf-8");
  auto doc = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.1.0");

  auto samples = Samples(doc);
  ASSERT_GE(samples.size(), 30u);
  auto admin = Http(AdminAuth());
  for (const auto& s : samples) {
    auto answer = Send(admin, s);
    ASSERT_TRUE(answer) << s.method << " " << s.path << ": no answer";
    EXPECT_FALSE(IsNoSuchRoute(answer))
        << s.documented << " (as " << s.method << " " << s.path
        << ") is documented but answered as no route: " << answer->status << " " << answer->body;
    EXPECT_NE(answer->status, 500) << s.method << " " << s.path << ": " << answer->body;
  }
}

TEST_F(OpenApiE2e, AnUndocumentedRouteAnswersAsNoSuchRoute) {
  // What the test above looks for: so that it can fail.
  auto producer = StartProducer(KafkaBrokers());
  auto r = Http(AdminAuth()).Delete("/api/v1/BatchTask/1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(IsNoSuchRoute(r)) << r->status << " " << r->body;
  auto doc = json::parse(Http("").Get("/openapi.json")->body);
  EXPECT_FALSE(doc["paths"].contains("/api/v1/BatchTask/{id}") &&
               doc["paths"]["/api/v1/BatchTask/{id}"].contains("delete"));
}

}  // namespace
}  // namespace conveyor::testing

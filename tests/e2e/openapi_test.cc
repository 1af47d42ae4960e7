// GET /openapi.json on the running conveyor-producer, and every operation it documents sent
// to it: each reaches a route of its own rather than the router's "no such route" (label: e2e).
#include "e2e_fixture.h"
#include "support/openapi_samples.h"

namespace conveyor::testing {
namespace {

class OpenApiE2e : public E2eTest {};

// The producer's answer for a path no route serves: Router::Handle's 404 "no such route"
// (http/router.cc) in the TwoSms envelope, or, under /services/rest/connect/, the Oracle
// catch-all's "no resource" / unsupported method.
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

// GET /asyncapi.json, and the events a create publishes as it says: a documented type on the
// commands topic, keyed by the task id, with the ce_type and ce_id headers.
TEST_F(OpenApiE2e, AsyncApiJsonIsServedWithoutCredentialsAndTheEventsAreAsItSays) {
  auto producer = StartProducer(KafkaBrokers());
  auto worker = StartWorker("e2e-asyncapi");
  auto r = Http("").Get("/asyncapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto doc = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["asyncapi"], "3.0.0");
  std::map<std::string, std::string> channel_of;  // message name -> channel address
  for (const auto& [name, channel] : doc["channels"].items())
    for (const auto& [key, ref] : channel["messages"].items())
      channel_of[doc.at(json::json_pointer(ref["$ref"].get<std::string>().substr(1)))["name"]] =
          channel["address"];

  auto id = CreateTask(SeedRequest());
  ASSERT_FALSE(id.empty());
  std::vector<std::pair<std::string, std::string>> published;  // (topic, message) pairs
  for (const auto& [topic, address] :
       {std::pair{commands_, std::string("conveyor.commands")},
        std::pair{notifications_, std::string("conveyor.notifications")}}) {
    TopicReader reader(topic);
    auto got = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
    ASSERT_FALSE(got.empty()) << topic;
    for (const auto& m : got) {
      std::map<std::string, std::string> headers(m.headers.begin(), m.headers.end());
      auto event = CloudEvent::Parse(m.value);
      ASSERT_TRUE(event.has_value()) << m.value;
      EXPECT_EQ(channel_of[event->type], address) << event->type << " is not documented there";
      EXPECT_EQ(m.key, id);
      EXPECT_EQ(headers["ce_type"], event->type);
      EXPECT_EQ(headers["ce_id"], event->id.ToString());
    }
  }
}

TEST_F(OpenApiE2e, AnUndocumentedRouteAnswersAsNoSuchRoute) {
  // What the test above looks for: so that it can fail.
  auto producer = StartProducer(KafkaBrokers());
  // Task types are never deleted (docs/adr/0004): no route, and none documented.
  auto r = Http(AdminAuth()).Delete("/api/v1/admin/tasktypes");
  ASSERT_TRUE(r);
  EXPECT_TRUE(IsNoSuchRoute(r)) << r->status << " " << r->body;
  auto doc = json::parse(Http("").Get("/openapi.json")->body);
  ASSERT_TRUE(doc["paths"].contains("/api/v1/admin/tasktypes"));
  EXPECT_FALSE(doc["paths"]["/api/v1/admin/tasktypes"].contains("delete"));
}

// A bounded, derandomized schemathesis run (PyPI; scripts/install-deps puts it in
// .cache/venv) against the running producer: for every documented operation it generates
// requests from the document (10 examples each, fixed seed) and checks every answer against
// it — no 5xx, status codes, content types, headers and bodies as documented. About 30 s.
TEST_F(OpenApiE2e, SchemathesisFindsNoAnswerThatTheDocumentDoesNotAllow) {
  auto producer = StartProducer(KafkaBrokers());
  std::string cmd = std::string(CONVEYOR_SOURCE_DIR) +
                    "/.cache/venv/bin/schemathesis run http://127.0.0.1:" + std::to_string(port_) +
                    "/openapi.json --experimental=openapi-3.1 -H 'Authorization: Bearer " +
                    admin_key_ +
                    "' --checks all --hypothesis-max-examples=10 --hypothesis-seed=1 "
                    "--hypothesis-derandomize --workers 1 --no-color 2>&1";
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr) << cmd;
  char buf[4096];
  while (fgets(buf, sizeof buf, f)) out += buf;
  int status = pclose(f);
  EXPECT_EQ(status, 0) << "schemathesis (installed by scripts/install-deps?) reported:\n"
                       << out << "\nproducer log:\n"
                       << producer->Log();
  EXPECT_NE(out.find(" passed"), std::string::npos) << out;
}

// Found by the schemathesis run: a SuperOffice error that echoes bytes which are not UTF-8
// ($select, SO-TimeZone) was a 500 in the TwoSms envelope; it is the SuperOffice 400 naming
// the field, the bytes written as U+FFFD.
TEST_F(OpenApiE2e, SuperOfficeAnswersSelectAndTimeZoneThatAreNotUtf8As400NamingThem) {
  auto producer = StartProducer(KafkaBrokers());
  auto http = Http(AdminAuth());
  auto zone = http.Post("/api/v1/Agents/Batch/GetBatchTaskInfo", {{"SO-TimeZone", "\xb3"}},
                        R"({"Id": 1})", "application/json");
  ASSERT_TRUE(zone);
  EXPECT_EQ(zone->status, 400) << zone->body;
  auto body = json::parse(zone->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << zone->body;
  EXPECT_EQ(body["Field"], "SO-TimeZone");
  EXPECT_NE(body["Error"].get<std::string>().find("\xef\xbf\xbd"), std::string::npos);

  auto select = http.Post("/api/v1/Agents/Batch/GetBatchTaskInfo?%24select=%B3", R"({"Id": 1})",
                          "application/json");
  ASSERT_TRUE(select);
  EXPECT_EQ(select->status, 400) << select->body;
  body = json::parse(select->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << select->body;
  EXPECT_EQ(body["Field"], "$select");
}

}  // namespace
}  // namespace conveyor::testing

// End to end (label: e2e): requests built to crash the producer — JSON nested hundreds of
// thousands of levels deep on every route that reads JSON, a Notification that made
// std::regex recurse once per character, XML that is not UTF-8. Each is refused in its
// dialect's own error shape, naming the limit, and the producer goes on serving every other
// client.
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kAccountTasks[] = "/api/v2/admin/tasks/account";
constexpr char kOracleTasks[] = "/services/rest/connect/v1.4/tasks";

std::string NestedArrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class HostileInput : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    producer_ = StartProducer(testing::KafkaBrokers());
  }

  // The producer still lives and still creates a task for the e2e client.
  void ExpectTheProducerServesOn() {
    ASSERT_TRUE(producer_->running()) << producer_->Log();
    auto created = Post(SeedRequest());
    ASSERT_TRUE(created) << "no answer after the hostile requests:\n" << producer_->Log();
    EXPECT_EQ(created->status, 200) << created->body;
  }

  std::unique_ptr<testing::ChildProcess> producer_;
};

struct Route {
  std::string method, path;
  bool admin = false;
  // The field of the dialect's error body that carries the message.
  std::string message_pointer;
};

// Every route that reads a JSON body, with where its dialect puts the error's words.
std::vector<Route> JsonRoutes() {
  const std::string twosms = "/Error/ErrorReason", so = "/Error", oracle = "/detail";
  std::vector<Route> routes = {
      {"POST", kAccountTasks, false, twosms},
      {"POST", std::string(kAccountTasks) + "/bulk", false, twosms},
      {"PUT", std::string(kAccountTasks) + "/00000000-0000-4000-8000-000000000001", false, twosms},
      {"POST", "/api/v1/admin/clients", true, twosms},
      {"POST", "/api/v1/admin/tasktypes", true, twosms},
      {"POST", "/api/v1/BatchTask", false, so},
      {"PUT", "/api/v1/BatchTask/1", false, so},
      {"POST", kOracleTasks, false, oracle},
      {"PATCH", std::string(kOracleTasks) + "/1", false, oracle},
      {"POST", std::string(kOracleTasks) + "/1/notes", false, oracle},
  };
  for (const char* method :
       {"GetBatchTaskInfo", "StopBatchJob", "StartBatchJob", "UpdateBatchTask", "DeleteBatchTask",
        "DeleteBatchTasks", "GetBatchTaskInfosByState", "GetBatchTaskInfosByAssociates"})
    routes.push_back({"POST", std::string("/api/v1/Agents/Batch/") + method, false, so});
  return routes;
}

TEST_F(HostileInput, BodyNestedDeeplyIsRefusedOnEveryJsonRouteNamingTheLimit) {
  // 600 KB: under every dialect's body limit, a few hundred thousand levels deep.
  const auto deep = R"({"Id": )" + NestedArrays(300'000) + "}";
  for (const auto& route : JsonRoutes()) {
    SCOPED_TRACE(route.method + " " + route.path);
    auto c = Http(route.admin ? AdminAuth() : ClientAuth());
    httplib::Request req;
    req.method = route.method;
    req.path = route.path;
    req.body = deep;
    req.set_header("Content-Type", "application/json");
    auto r = c.send(req);
    ASSERT_TRUE(r) << "no answer; the producer's log:\n" << producer_->Log();
    EXPECT_TRUE(r->status == 400 || r->status == 413) << r->status << " " << r->body;
    auto body = json::parse(r->body, nullptr, false);
    auto pointer = json::json_pointer(route.message_pointer);
    ASSERT_TRUE(body.is_object() && body.contains(pointer)) << r->body.substr(0, 300);
    EXPECT_NE(body[pointer].get<std::string>().find("deeper than the limit of 32 levels"),
              std::string::npos)
        << r->body;
  }
  ExpectTheProducerServesOn();
}

TEST_F(HostileInput, ParametersNestedDeeplyAreRefusedInEveryDialect) {
  auto twosms = SeedRequest();
  twosms["Parameters"] = NestedArrays(30'000);
  auto a = Post(twosms);
  ASSERT_TRUE(a) << producer_->Log();
  EXPECT_EQ(a->status, 413) << a->body;
  EXPECT_NE(a->body.find("Parameters"), std::string::npos) << a->body;
  json oracle = {{"name", "deep"},
                 {"customFields", {{"c", {{"parameters", NestedArrays(30'000)}}}}}};
  auto b = Http().Post(kOracleTasks, oracle.dump(), "application/json");
  ASSERT_TRUE(b) << producer_->Log();
  EXPECT_EQ(b->status, 400) << b->body;
  EXPECT_NE(b->body.find("customFields.c.parameters: nests JSON"), std::string::npos) << b->body;
  ExpectTheProducerServesOn();
}

// 25 KB of "NONE,NONE,…" overflowed the stack of the thread that matched it against the
// schema's pattern.
TEST_F(HostileInput, NotificationOfAHundredThousandNamesIsRefusedNamingTheField) {
  auto body = SeedRequest();
  std::string names = "NONE";
  for (int i = 0; i < 100'000; ++i) names += ",NONE";
  body["Notification"] = names;
  auto r = Post(body);
  ASSERT_TRUE(r) << producer_->Log();
  EXPECT_EQ(r->status, 400) << r->body.substr(0, 500);
  EXPECT_NE(r->body.find("Notification"), std::string::npos) << r->body.substr(0, 500);
  ExpectTheProducerServesOn();
}

TEST_F(HostileInput, XmlBodyThatIsNotUtf8IsRefusedSayingWhere) {
  std::string body =
      "<AccountTaskRequest><TaskID>00000000-0000-0000-0000-000000000001</TaskID>"
      "<Frequency>NONE</Frequency><Parameters>\xff\xfe</Parameters>"
      "<ContentType>application/xml</ContentType></AccountTaskRequest>";
  auto r = Http().Post(kAccountTasks, body, "application/xml");
  ASSERT_TRUE(r) << producer_->Log();
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("is not UTF-8 text (at byte " + std::to_string(body.find('\xff')) + ")"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/xml", 0), 0u);
  ExpectTheProducerServesOn();
}

// A path that is not UTF-8 once decoded is echoed in the error: the answer writer threw on
// it and the request ended in a 500 instead of the dialect's 404 or 400.
TEST_F(HostileInput, PathThatIsNotUtf8IsAnsweredInItsDialect) {
  auto oracle = Http().Get(std::string(kOracleTasks) + "/1/nothing%FF%FE");
  ASSERT_TRUE(oracle) << producer_->Log();
  EXPECT_EQ(oracle->status, 404) << oracle->body;
  auto problem = json::parse(oracle->body, nullptr, false);
  ASSERT_TRUE(problem.is_object()) << oracle->body;
  EXPECT_EQ(problem["o:errorCode"], "OSC-CREST-00013") << oracle->body;
  auto twosms = Http().Get(std::string(kAccountTasks) + "/%FF%FE");
  ASSERT_TRUE(twosms) << producer_->Log();
  EXPECT_EQ(twosms->status / 100, 4) << twosms->body;
  EXPECT_TRUE(json::parse(twosms->body, nullptr, false).contains("Error")) << twosms->body;
  ExpectTheProducerServesOn();
}

// A line break in a decoded path ("%0D") slipped past a ".*" route pattern (ECMAScript's '.'
// stops at one) and the server answered an empty 404 instead of the dialect's.
TEST_F(HostileInput, PathWithALineBreakIsAnsweredInItsDialect) {
  for (std::string path :
       {std::string(kAccountTasks) + "/%0D", std::string("/api/v1/admin/clients/%0A")}) {
    auto r = Http(AdminAuth()).Get(path);
    ASSERT_TRUE(r) << producer_->Log();
    EXPECT_EQ(r->status / 100, 4) << path;
    EXPECT_TRUE(json::parse(r->body, nullptr, false).contains("Error")) << path << ": " << r->body;
  }
  auto oracle = Http().Get(std::string(kOracleTasks) + "/%0D");
  ASSERT_TRUE(oracle);
  EXPECT_EQ(json::parse(oracle->body, nullptr, false)["o:errorCode"], "OSC-CREST-00013")
      << oracle->body;
  ExpectTheProducerServesOn();
}

}  // namespace
}  // namespace conveyor

// The TwoSms account-task endpoints on in-memory ports: content negotiation, the commands
// they publish, and every error answer in the envelope, in JSON and XML.
#include "dialects/twosms/routes.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "conveyor/cloud_event.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "support/producer_fakes.h"

namespace conveyor::twosms {
namespace {

using nlohmann::json;
using testing::FakeCatalog;
using testing::FakeNumbers;
using testing::FakeReader;
using testing::NoClients;
using testing::RecordingAcceptedWrites;
using testing::RecordingPublisher;

const Timestamp kNow = *ParseDateTime("2026-11-22T10:00:00Z");

// A request as the server hands it to a TwoSms route: its headers, body, {id} and query.
http::Request Req(std::string content_type, std::string accept, std::string body, std::string id,
                  std::multimap<std::string, std::string> query, Caller caller) {
  http::Request r;
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", std::move(content_type));
  if (!accept.empty()) r.headers.emplace_back("Accept", std::move(accept));
  r.body = std::move(body);
  if (!id.empty()) r.path_params = {"v2", std::move(id)};
  r.params = std::move(query);
  r.caller = std::move(caller);
  return r;
}

constexpr char kSleep[] = "00000000-0000-0000-0000-000000000002";

// The client every request of these tests comes from, and that owns the stored tasks.
Caller TheClient() {
  static const Uuid id = Uuid::Random();
  return Caller{Caller::Kind::kClient, id, "routes-test"};
}

class TwoSmsRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    TaskType noop, sleep;
    noop.id = NoopTaskTypeId();
    noop.name = noop.handler = "noop";
    sleep.id = *Uuid::Parse(kSleep);
    sleep.name = sleep.handler = "sleep";
    catalog_.types = {noop, sleep};
    auto d = RequestDecoder::Create();
    ASSERT_TRUE(d.has_value()) << d.error().message;
    decoder_.emplace(std::move(*d));
    commands_.emplace(catalog_, numbers_, clients_, publisher_, accepted_, clock_, "commands",
                      "/test");
    routes_.emplace(*decoder_, *commands_, reader_, clock_);
  }

  // A stored task of the noop type, with a run in `state` (none when std::nullopt).
  TaskView& AddTask(std::optional<RunState> state = std::nullopt) {
    TaskView v;
    v.task.id = Uuid::Random();
    v.task.number = 7;
    v.task.task_type_id = NoopTaskTypeId();
    v.task.parameters = "{}";
    v.task.content_type = "application/json";
    v.task.client_id = TheClient().id;
    v.task.created_at = kNow;
    v.modified_at = kNow;
    v.type_name = "noop";
    if (state) {
      RunView r;
      r.state = *state;
      v.last_run = r;
    }
    reader_.views.push_back(v);
    return reader_.views.back();
  }

  // What the deferred routes answer (the fake publisher and writes answer at once).
  using Deferred = void (TaskRoutes::*)(std::shared_ptr<const http::Request>, http::Reply);
  http::Answer Answered(Deferred route, http::Request request) {
    std::optional<http::Answer> answer;
    ((*routes_).*route)(std::make_shared<const http::Request>(std::move(request)),
                        [&answer](http::Answer a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value()) << "no answer before the route returned";
    return answer.value_or(http::Answer{});
  }
  http::Answer Create(http::Request request) {
    return Answered(&TaskRoutes::Create, std::move(request));
  }
  http::Answer BulkCreate(http::Request request) {
    return Answered(&TaskRoutes::BulkCreate, std::move(request));
  }
  http::Answer Update(http::Request request) {
    return Answered(&TaskRoutes::Update, std::move(request));
  }
  http::Answer Delete(http::Request request) {
    return Answered(&TaskRoutes::Delete, std::move(request));
  }
  http::Answer RunNow(http::Request request) {
    return Answered(&TaskRoutes::RunNow, std::move(request));
  }

  static http::Request Json(json body, std::string id = {}) {
    return Req("application/json", "", body.dump(), std::move(id), {}, TheClient());
  }
  static json UpdateBody() {
    return {{"Enabled", false},
            {"TaskID", kSleep},
            {"Frequency", 0},
            {"Parameters", R"({"seconds":1})"},
            {"ContentType", "application/json"},
            {"Notification", 2}};
  }
  static const char* UpdateXml() {
    return R"(<AccountTaskUpdateRequest xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"> <TaskID>00000000-0000-0000-0000-000000000002</TaskID> <Frequency>NONE</Frequency> <StartDate xsi:nil="true" /> <Parameters>{"seconds":1}</Parameters> <ContentType>application/json</ContentType> <Notification>FAILURE</Notification> <Enabled>false</Enabled> </AccountTaskUpdateRequest>)";
  }

  static pugi::xml_node Xml(const http::Answer& a, pugi::xml_document& doc) {
    EXPECT_TRUE(doc.load_string(a.body.c_str())) << a.body;
    return doc.document_element();
  }

  FakeClock clock_{kNow};
  FakeCatalog catalog_;
  FakeNumbers numbers_;
  NoClients clients_;
  RecordingPublisher publisher_;
  RecordingAcceptedWrites accepted_;
  FakeReader reader_;
  std::optional<RequestDecoder> decoder_;
  std::optional<TaskCommandService> commands_;
  std::optional<TaskRoutes> routes_;
};

TEST(TwoSmsNegotiation, RequestFormatFollowsContentTypeAndAnswerFollowsAccept) {
  EXPECT_EQ(RequestFormat(""), BodyFormat::kJson);
  EXPECT_EQ(RequestFormat("text/json; charset=utf-8"), BodyFormat::kJson);
  EXPECT_EQ(RequestFormat("Application/XML"), BodyFormat::kXml);
  EXPECT_EQ(RequestFormat("text/xml"), BodyFormat::kXml);
  EXPECT_FALSE(RequestFormat("application/x-www-form-urlencoded").has_value());

  EXPECT_EQ(NegotiateResponse("", BodyFormat::kXml)->media_type, "application/xml");
  EXPECT_EQ(NegotiateResponse("*/*", BodyFormat::kJson)->media_type, "application/json");
  EXPECT_EQ(NegotiateResponse("text/xml", BodyFormat::kJson)->media_type, "text/xml");
  EXPECT_EQ(NegotiateResponse("text/html, application/xml;q=0.9, application/json;q=0.5",
                              BodyFormat::kJson)
                ->format,
            BodyFormat::kXml);
  EXPECT_EQ(NegotiateResponse("application/json;q=0, text/*", BodyFormat::kXml)->media_type,
            "text/xml");
  EXPECT_FALSE(NegotiateResponse("image/png", BodyFormat::kJson).has_value());
}

TEST_F(TwoSmsRoutes, CreateInXmlAnswersInXmlAndPublishesTheSameCommandAsJson) {
  auto req = Req("application/xml", "",
                 R"(<AccountTaskRequest>
      <TaskID>00000000-0000-0000-0000-000000000001</TaskID><Frequency>NONE</Frequency>
      <Parameters>&lt;p/&gt;</Parameters><ContentType>application/xml</ContentType>
      <Notification>COMPLETION</Notification></AccountTaskRequest>)",
                 "", {}, TheClient());
  auto a = Create(req);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "application/xml; charset=utf-8");
  pugi::xml_document doc;
  auto detail = Xml(a, doc).child("ResponseData").child("Detail");
  EXPECT_STREQ(detail.child("Status").text().get(), "Accepted");
  EXPECT_STREQ(detail.child("Notification").text().get(), "COMPLETION");
  EXPECT_STREQ(detail.child("Parameters").text().get(), "<p/>");
  ASSERT_EQ(publisher_.sent.size(), 1u);
  auto event = CloudEvent::Parse(publisher_.sent[0].value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, "conveyor.task.create");
  EXPECT_EQ(event->data["notification"], "COMPLETION");
  EXPECT_EQ(event->subject, detail.child("ID").text().get());
}

TEST_F(TwoSmsRoutes, JsonRequestAnswersInXmlWhenAcceptAsksForIt) {
  auto req = Json(UpdateBody());
  req.headers.emplace_back("Accept", "text/xml");
  auto a = Create(req);  // the update body is a create body plus Enabled (ignored)
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "text/xml; charset=utf-8");
  pugi::xml_document doc;
  EXPECT_STREQ(Xml(a, doc).name(), "ResponseOfAccountTaskResponse");
}

TEST_F(TwoSmsRoutes, UnsupportedContentTypeIs415InTheEnvelopeOfTheAcceptedFormat) {
  auto req =
      Req("application/x-www-form-urlencoded", "application/xml", "TaskID=x", "", {}, TheClient());
  auto a = Create(req);
  EXPECT_EQ(a.status, 415);
  pugi::xml_document doc;
  auto error = Xml(a, doc).child("Error");
  EXPECT_STREQ(error.child("ErrorCode").text().get(), "UnsupportedMediaType");
  EXPECT_NE(std::string(error.child("ErrorReason").text().get()).find("application/xml"),
            std::string::npos);
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes, AcceptAllowingNoFormatIs406InJson) {
  auto req = Json(UpdateBody());
  req.headers.emplace_back("Accept", "image/png");
  auto a = Create(req);
  EXPECT_EQ(a.status, 406);
  EXPECT_EQ(a.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(json::parse(a.body)["Error"]["ErrorCode"], "NotAcceptable");
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes, UpdateInXmlPublishesTheChangesAndItsDetailShowsThem) {
  auto& v = AddTask(RunState::kStarted);
  auto req = Req("text/xml", "", UpdateXml(), v.task.id.ToString(), {}, TheClient());
  auto a = Update(req);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "application/xml; charset=utf-8");
  pugi::xml_document doc;
  auto detail = Xml(a, doc).child("ResponseData").child("Detail");
  EXPECT_STREQ(detail.child("Enabled").text().get(), "false");
  EXPECT_STREQ(detail.child("TaskID").text().get(), kSleep);
  EXPECT_STREQ(detail.child("Name").text().get(), "sleep");
  EXPECT_STREQ(detail.child("Parameters").text().get(), R"({"seconds":1})");
  EXPECT_STREQ(detail.child("Notification").text().get(), "FAILURE");
  EXPECT_STREQ(detail.child("Status").text().get(), "Accepted");
  ASSERT_EQ(publisher_.sent.size(), 1u);
  EXPECT_EQ(publisher_.sent[0].key, v.task.id.ToString());
  auto event = CloudEvent::Parse(publisher_.sent[0].value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, "conveyor.task.update");
  EXPECT_EQ(event->data["enabled"], false);
  EXPECT_EQ(event->data["task_type_id"], kSleep);
  EXPECT_TRUE(event->data["start_date"].is_null());
}

TEST_F(TwoSmsRoutes, UpdateWithoutEnabledLeavesItAsItIs) {
  auto& v = AddTask();
  auto body = UpdateBody();
  body.erase("Enabled");
  auto a = Update(Json(body, v.task.id.ToString()));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(json::parse(a.body)["ResponseData"]["Detail"]["Enabled"], true);
  EXPECT_TRUE(CloudEvent::Parse(publisher_.sent.at(0).value)->data["enabled"].is_null());
}

TEST_F(TwoSmsRoutes, UpdateOrDeleteOfAnUnknownTaskIs404InTheRequestsFormat) {
  auto id = Uuid::Random().ToString();
  auto a = Update(Req("application/xml", "", UpdateXml(), id, {}, TheClient()));
  EXPECT_EQ(a.status, 404);
  pugi::xml_document doc;
  EXPECT_STREQ(Xml(a, doc).child("Error").child("ErrorCode").text().get(), "NotFound");
  auto d = Delete(Req("", "", "", id, {}, TheClient()));
  EXPECT_EQ(d.status, 404);
  EXPECT_EQ(json::parse(d.body)["Error"]["ErrorCode"], "NotFound");
  auto bad = routes_->Get(Req("", "", "", "nope", {}, TheClient()));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["Error"]["ErrorReason"], "id: 'nope' is not a GUID");
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes, DisablingOrDeletingARunningCannotCancelTaskIsRefusedNamingTheReason) {
  auto& v = AddTask(RunState::kStarted);
  v.cancellation = "CannotCancel";
  auto a = Update(Json(UpdateBody(), v.task.id.ToString()));
  EXPECT_EQ(a.status, 409);
  auto j = json::parse(a.body);
  EXPECT_EQ(j["Error"]["ErrorCode"], "InvalidState");
  EXPECT_NE(j["Error"]["ErrorReason"].get<std::string>().find("Enabled: cannot be false"),
            std::string::npos);
  auto d = Delete(Req("", "", "", v.task.id.ToString(), {}, TheClient()));
  EXPECT_EQ(d.status, 409);
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes, UpdateToAnUnregisteredTypeIsRefusedNamingTaskId) {
  auto& v = AddTask();
  auto body = UpdateBody();
  body["TaskID"] = "0f0f0f0f-0000-4000-8000-000000000001";
  auto a = Update(Json(body, v.task.id.ToString()));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(json::parse(a.body)["Error"]["ErrorReason"],
            "TaskID: 0f0f0f0f-0000-4000-8000-000000000001 is not a registered task type");
}

TEST_F(TwoSmsRoutes, BrokerAwayIs503AndNothingIsAccepted) {
  auto& v = AddTask();
  publisher_.fail_next = true;
  auto a = Update(Json(UpdateBody(), v.task.id.ToString()));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(json::parse(a.body)["Error"]["ErrorCode"], "ServiceUnavailable");
}

TEST_F(TwoSmsRoutes, DeletePublishesTheCommandAndAnswersTheTaskAsDeleted) {
  auto& v = AddTask(RunState::kStarted);
  auto a = Delete(Req("", "application/json", "", v.task.id.ToString(), {}, TheClient()));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(json::parse(a.body)["ResponseData"]["Detail"]["Status"], "Deleted");
  ASSERT_EQ(publisher_.sent.size(), 1u);
  auto event = CloudEvent::Parse(publisher_.sent[0].value);
  EXPECT_EQ(event->type, "conveyor.task.delete");
  EXPECT_EQ(event->data["task_id"], v.task.id.ToString());
}

TEST_F(TwoSmsRoutes, RunNowPublishesOneFireOutsideTheScheduleAndAnswersTheRunId) {
  auto& v = AddTask(RunState::kSucceeded);
  auto a = RunNow(Req("", "application/json", "", v.task.id.ToString(), {}, TheClient()));
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(publisher_.sent.size(), 1u);
  auto event = CloudEvent::Parse(publisher_.sent[0].value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, "conveyor.task.fire");
  EXPECT_EQ(event->data["run_now"], true);
  EXPECT_EQ(event->data["task_id"], v.task.id.ToString());
  EXPECT_EQ(json::parse(a.body)["ResponseData"]["Detail"]["RunID"], event->id.ToString());
  EXPECT_EQ(publisher_.sent[0].key, v.task.id.ToString());
}

TEST_F(TwoSmsRoutes, RunsListShowsEachRunWithItsDueTimeAndSkippedOnes) {
  auto& v = AddTask();
  RunView skipped;
  skipped.id = Uuid::TimeOrdered();
  skipped.state = RunState::kSkipped;
  skipped.due_at = *ParseDateTime("2027-01-04T06:00:01Z");
  skipped.queued_at = *skipped.due_at;
  RunView ran = skipped;
  ran.id = Uuid::TimeOrdered();
  ran.state = RunState::kSucceeded;
  ran.start_count = 1;
  ran.worker = "w1";
  reader_.runs[v.task.id] = {skipped, ran};
  auto a =
      routes_->ListRuns(Req("", "application/json", "", v.task.id.ToString(), {}, TheClient()));
  ASSERT_EQ(a.status, 200) << a.body;
  auto runs = json::parse(a.body)["ResponseData"]["Detail"];
  ASSERT_EQ(runs.size(), 2u) << a.body;
  EXPECT_EQ(runs[0]["Status"], "Skipped");
  EXPECT_EQ(runs[0]["DueOn"], "2027-01-04T06:00:01.0000000+00:00");
  EXPECT_EQ(runs[1]["Status"], "Succeeded");
  EXPECT_EQ(runs[1]["RunBy"], "w1");
  auto other = routes_->ListRuns(
      Req("", "application/json", "", Uuid::Random().ToString(), {}, TheClient()));
  EXPECT_EQ(other.status, 404);
}

TEST_F(TwoSmsRoutes, RunLogAnswersTheEndOfTheLogAndItsLengthAndNothingOfAnotherTask) {
  auto& v = AddTask();
  auto run = Uuid::TimeOrdered();
  std::string whole = "first line\n" + std::string(kRunLogTailChars, 'x') + "\nlast line\n";
  reader_.logs[{v.task.id, run}] = whole;
  auto ask = [&](const std::string& task, const std::string& run_id, Caller caller) {
    auto r = Req("", "application/json", "", task, {}, std::move(caller));
    r.path_params.push_back(run_id);
    return routes_->RunLog(r);
  };
  auto a = ask(v.task.id.ToString(), run.ToString(), TheClient());
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = json::parse(a.body)["ResponseData"]["Detail"];
  EXPECT_EQ(d["RunID"], run.ToString());
  EXPECT_EQ(d["Bytes"], whole.size());
  auto tail = d["Tail"].get<std::string>();
  EXPECT_EQ(tail.size(), kRunLogTailChars);
  EXPECT_TRUE(tail.ends_with("x\nlast line\n")) << "the end is kept, the start cut";

  // XML: a log's control characters (a terminal's colours) cannot be in XML 1.0; left out.
  reader_.logs[{v.task.id, run}] = "\x1b[31mred\x1b[0m\n";
  auto r = Req("", "application/xml", "", v.task.id.ToString(), {}, TheClient());
  r.path_params.push_back(run.ToString());
  auto xml = routes_->RunLog(r);
  ASSERT_EQ(xml.status, 200) << xml.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.body.c_str())) << xml.body;
  EXPECT_STREQ(doc.select_node("//Tail").node().child_value(), "[31mred[0m\n");

  auto missing = ask(v.task.id.ToString(), Uuid::TimeOrdered().ToString(), TheClient());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["Error"]["ErrorReason"].get<std::string>().find("runId: "),
            0u)
      << missing.body;
  auto bad = ask(v.task.id.ToString(), "not-a-guid", TheClient());
  EXPECT_EQ(bad.status, 400);
  Caller stranger{Caller::Kind::kClient, Uuid::Random(), "stranger"};
  EXPECT_EQ(ask(v.task.id.ToString(), run.ToString(), stranger).status, 404)
      << "another client's run log answers as a missing task";
}

TEST_F(TwoSmsRoutes, ListPagesThroughTheTasksWithPagingInfo) {
  for (int i = 0; i < 5; ++i) AddTask();
  auto req = Req("", "", "", "", {{"PAGE", "2"}, {"pagesize", "2"}}, TheClient());
  auto a = routes_->List(req);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(reader_.last_offset, 2);
  EXPECT_EQ(reader_.last_limit, 2);
  EXPECT_EQ(reader_.last_client, TheClient().id);  // a client lists only its own tasks
  auto j = json::parse(a.body);
  EXPECT_EQ(j["ResponseData"]["Detail"].size(), 2u);
  EXPECT_EQ(j["ResponseData"]["Detail"][0]["ID"], reader_.views[2].task.id.ToString());
  EXPECT_EQ(j["ResponseData"]["Paging"],
            json({{"Page", 2}, {"PageSize", 2}, {"TotalCount", 5}, {"TotalPages", 3}}));
  auto defaults = json::parse(
      routes_->List(Req("", "", "", "", {}, TheClient())).body)["ResponseData"]["Paging"];
  EXPECT_EQ(defaults["PageSize"], kDefaultPageSize);
  EXPECT_EQ(defaults["Page"], 1);
}

TEST_F(TwoSmsRoutes, ListRefusesAPageSizeOverTheLimitAndBadNumbersNamingThem) {
  auto over = routes_->List(Req("", "application/xml", "", "", {{"pageSize", "201"}}, TheClient()));
  EXPECT_EQ(over.status, 400);
  pugi::xml_document doc;
  EXPECT_STREQ(Xml(over, doc).child("Error").child("ErrorReason").text().get(),
               "pageSize: is 201; the limit is 200");
  auto zero = routes_->List(Req("", "", "", "", {{"page", "0"}}, TheClient()));
  EXPECT_EQ(zero.status, 400);
  EXPECT_EQ(json::parse(zero.body)["Error"]["ErrorReason"],
            "page: '0' is not a whole number of 1 or more");
}

json BulkOf(std::vector<json> tasks) { return {{"Tasks", std::move(tasks)}}; }
json NoopTask(int i) {
  return {{"TaskID", NoopTaskTypeId().ToString()},
          {"Frequency", 0},
          {"Parameters", json{{"i", i}}.dump()},
          {"ContentType", "application/json"}};
}

TEST_F(TwoSmsRoutes, BulkCreatePublishesEveryTaskAndAnswersTheirRecordsInOrder) {
  auto a = BulkCreate(Json(BulkOf({NoopTask(0),
                                   {{"TaskID", kSleep},
                                    {"Frequency", "NONE"},
                                    {"Parameters", R"({"seconds":1})"},
                                    {"ContentType", "application/json"}},
                                   NoopTask(2)})));
  ASSERT_EQ(a.status, 200) << a.body;
  auto j = json::parse(a.body);
  EXPECT_TRUE(j["Error"].is_null());
  EXPECT_EQ(j["ResponseData"]["Result"], "Success");
  const auto& items = j["ResponseData"]["Detail"];
  ASSERT_EQ(items.size(), 3u);
  ASSERT_EQ(publisher_.sent.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto event = CloudEvent::Parse(publisher_.sent[i].value);
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->type, "conveyor.task.create");
    EXPECT_EQ(items[i]["ID"], event->subject) << i;
    EXPECT_EQ(items[i]["Status"], "Accepted");
    EXPECT_TRUE(items[i]["Error"].is_null());
    EXPECT_EQ(event->data["client_id"], TheClient().id.ToString());
  }
  EXPECT_EQ(items[1]["TaskID"], kSleep);
  EXPECT_EQ(CloudEvent::Parse(publisher_.sent[2].value)->data["parameters"], R"({"i":2})");
}

TEST_F(TwoSmsRoutes, BulkCreateWithAnUnknownTypePublishesNothingAndNamesTheTask) {
  auto unknown = NoopTask(2);
  unknown["TaskID"] = Uuid::Random().ToString();
  auto a = BulkCreate(Json(BulkOf({NoopTask(0), NoopTask(1), unknown, NoopTask(3)})));
  EXPECT_EQ(a.status, 400) << a.body;
  auto j = json::parse(a.body);
  EXPECT_EQ(j["Error"]["ErrorCode"], "InvalidRequest");
  EXPECT_TRUE(j["Error"]["ErrorReason"].get<std::string>().starts_with("Tasks[2].TaskID: "))
      << a.body;
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes, BulkCreateWhereAClientNamesAnotherClientPublishesNothing) {
  auto other = NoopTask(1);
  other["ClientID"] = Uuid::Random().ToString();
  auto a = BulkCreate(Json(BulkOf({NoopTask(0), other})));
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(json::parse(a.body)["Error"]["ErrorReason"].get<std::string>().starts_with(
      "Tasks[1].ClientID: names another client"))
      << a.body;
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes, BulkCreateOverTheLimitIsRefusedNamingIt) {
  std::vector<json> tasks(kMaxBulkTasks + 1, NoopTask(0));
  auto a = BulkCreate(Json(BulkOf(tasks)));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(json::parse(a.body)["Error"]["ErrorReason"],
            "Tasks: holds 1001 tasks; the limit is 1000 tasks per request");
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(TwoSmsRoutes,
       BulkCreateWhereKafkaAcknowledgesSomeIs503ListingEachTaskSoOnlyThoseAreRetried) {
  // Every second event is not acknowledged.
  int n = 0;
  publisher_.refuse = [&n](const OutgoingMessage&) { return n++ % 2 == 1; };
  auto a = BulkCreate(Json(BulkOf({NoopTask(0), NoopTask(1), NoopTask(2), NoopTask(3)})));
  ASSERT_EQ(a.status, 503) << a.body;
  auto j = json::parse(a.body);
  EXPECT_EQ(j["Error"]["ErrorCode"], "ServiceUnavailable");
  EXPECT_TRUE(j["Error"]["ErrorReason"].get<std::string>().starts_with(
      "2 of 4 tasks were accepted; the other 2 were not created"))
      << a.body;
  EXPECT_EQ(j["ResponseData"]["Result"], "PartialFailure");
  const auto& items = j["ResponseData"]["Detail"];
  ASSERT_EQ(items.size(), 4u);
  ASSERT_EQ(publisher_.sent.size(), 2u);
  EXPECT_EQ(items[0]["Status"], "Accepted");
  EXPECT_EQ(items[0]["ID"], CloudEvent::Parse(publisher_.sent[0].value)->subject);
  EXPECT_EQ(items[2]["ID"], CloudEvent::Parse(publisher_.sent[1].value)->subject);
  for (int i : {1, 3}) {
    EXPECT_EQ(items[i]["Status"], "NotCreated");
    EXPECT_TRUE(items[i]["ID"].is_null());
    EXPECT_EQ(items[i]["TaskID"], NoopTaskTypeId().ToString());
    EXPECT_EQ(items[i]["Error"]["ErrorCode"], "ServiceUnavailable");
  }
}

TEST_F(TwoSmsRoutes, BulkCreateInXmlAnswersAListOfItemsInXml) {
  auto req = Req("application/xml", "",
                 R"(<AccountTaskBulkRequest><Tasks><AccountTaskRequest>
      <TaskID>00000000-0000-0000-0000-000000000001</TaskID><Frequency>NONE</Frequency>
      <Parameters>&lt;p/&gt;</Parameters><ContentType>application/xml</ContentType>
      </AccountTaskRequest><AccountTaskRequest>
      <TaskID>00000000-0000-0000-0000-000000000002</TaskID><Frequency>0</Frequency>
      <Parameters>{}</Parameters><ContentType>application/json</ContentType>
      </AccountTaskRequest></Tasks></AccountTaskBulkRequest>)",
                 "", {}, TheClient());
  auto a = BulkCreate(req);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "application/xml; charset=utf-8");
  pugi::xml_document doc;
  auto root = Xml(a, doc);
  EXPECT_STREQ(root.name(), "ResponseOfListOfAccountTaskBulkItem");
  std::vector<std::string> types;
  for (auto item : root.child("ResponseData").child("Detail").children("AccountTaskBulkItem")) {
    EXPECT_STREQ(item.child("Status").text().get(), "Accepted");
    EXPECT_STREQ(item.child("Error").attribute("xsi:nil").value(), "true");
    types.push_back(item.child("TaskID").text().get());
  }
  EXPECT_EQ(types, (std::vector<std::string>{NoopTaskTypeId().ToString(), kSleep}));
  EXPECT_EQ(publisher_.sent.size(), 2u);
}

}  // namespace
}  // namespace conveyor::twosms

// End to end (label: e2e) for the TwoSms account-task endpoints: create, read, update, list
// and delete in JSON and XML through the producer, Kafka and a worker, and every error answer
// in the envelope of the request's format.
#include <pugixml.hpp>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kNoop[] = "00000000-0000-0000-0000-000000000001";
constexpr char kSleep[] = "00000000-0000-0000-0000-000000000002";
constexpr char kTasks[] = "/api/v2/admin/tasks/account";

struct Answer {
  int status = 0;
  std::string content_type;
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
  // The root element of an XML answer (empty when it is not XML).
  pugi::xml_node Xml(pugi::xml_document& doc) const {
    if (!doc.load_string(body.c_str())) return {};
    return doc.document_element();
  }
};

class TwoSms : public testing::E2eTest {
 protected:
  Answer Call(const std::string& method, const std::string& path, const std::string& body = {},
              const std::string& content_type = {}, const std::string& accept = {}) {
    auto c = Http();  // as the fixture's e2e client
    httplib::Headers headers;
    if (!accept.empty()) headers.emplace("Accept", accept);
    auto r = method == "GET"      ? c.Get(path, headers)
             : method == "DELETE" ? c.Delete(path, headers)
             : method == "PUT"    ? c.Put(path, headers, body, content_type)
                                  : c.Post(path, headers, body, content_type);
    if (!r) return {};
    return {r->status, r->get_header_value("Content-Type"), r->body};
  }

  static std::string CreateXml(const std::string& type, const std::string& parameters_escaped,
                               const std::string& content_type, const std::string& extra = {}) {
    return R"(<AccountTaskRequest xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"> <TaskID>)" +
           type + "</TaskID> <Frequency>NONE</Frequency> <Parameters>" + parameters_escaped +
           "</Parameters> <ContentType>" + content_type + "</ContentType> " + extra +
           "</AccountTaskRequest>";
  }
  static json CreateJson(const std::string& type, const std::string& parameters) {
    return {{"TaskID", type},
            {"Frequency", 0},
            {"Parameters", parameters},
            {"ContentType", "application/json"},
            {"Notification", 0}};
  }

  std::string StatusInXml(const std::string& id) {
    pugi::xml_document doc;
    auto a = Call("GET", std::string(kTasks) + "/" + id, {}, {}, "application/xml");
    return a.Xml(doc).child("ResponseData").child("Detail").child("Status").text().get();
  }

  long long Runs(const std::string& id, const std::string& state = {}) {
    return Count("SELECT count(*) FROM runs WHERE task_id = '" + id + "'" +
                 (state.empty() ? "" : " AND state = '" + state + "'"));
  }

  // The ErrorCode and ErrorReason of an error answer in JSON or XML.
  static std::pair<std::string, std::string> ErrorOf(const Answer& a) {
    if (a.content_type.find("xml") != std::string::npos) {
      pugi::xml_document doc;
      auto error = a.Xml(doc).child("Error");
      return {error.child("ErrorCode").text().get(), error.child("ErrorReason").text().get()};
    }
    auto j = a.Json();
    if (!j.is_object() || !j["Error"].is_object()) return {"(no envelope)", a.body};
    return {j["Error"]["ErrorCode"], j["Error"]["ErrorReason"]};
  }
};

TEST_F(TwoSms, TaskCreatedInXmlIsReadBackInXmlWithEveryDetailField) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-twosms-xml");
  auto a = Call("POST", kTasks,
                CreateXml(kNoop, "&lt;greeting&gt;hello&lt;/greeting&gt;", "application/xml",
                          "<StartDate>2026-01-01T01:00:00+01:00</StartDate> "
                          "<Notification>SUCCESS</Notification> "),
                "application/xml");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "application/xml; charset=utf-8");
  pugi::xml_document created;
  auto detail = a.Xml(created).child("ResponseData").child("Detail");
  std::string id = detail.child("ID").text().get();
  ASSERT_FALSE(id.empty()) << a.body;
  EXPECT_STREQ(detail.child("Status").text().get(), "Accepted");

  ASSERT_TRUE(testing::PollUntil([&] { return StatusInXml(id) == "Succeeded"; }, 60s))
      << worker->Log();
  auto read = Call("GET", std::string(kTasks) + "/" + id, {}, {}, "text/xml");
  EXPECT_EQ(read.content_type, "text/xml; charset=utf-8");
  pugi::xml_document doc;
  auto root = read.Xml(doc);
  EXPECT_STREQ(root.name(), "ResponseOfAccountTaskResponse");
  EXPECT_STREQ(root.child("Error").attribute("xsi:nil").value(), "true");
  auto d = root.child("ResponseData").child("Detail");
  std::vector<std::string> names;
  for (auto child : d.children()) names.push_back(child.name());
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "ID", "TaskID", "Name", "Enabled", "Frequency", "StartDate", "FinishDate",
                "Parameters", "ContentType", "Notification", "DateCreated", "DateModified",
                "LastRunOn", "LastRunBy", "LastModifiedBy", "Status", "ClientID",
                // Conveyor's scheduling extension (docs/scheduling.md)
                "NextRunOn", "Recurrence", "TimeZone", "CatchUp", "CatchUpLimit", "Overlap"}));
  EXPECT_STREQ(d.child("ID").text().get(), id.c_str());
  EXPECT_STREQ(d.child("TaskID").text().get(), kNoop);
  EXPECT_STREQ(d.child("Name").text().get(), "noop");
  EXPECT_STREQ(d.child("Enabled").text().get(), "true");
  EXPECT_STREQ(d.child("Frequency").text().get(), "NONE");
  EXPECT_STREQ(d.child("StartDate").text().get(), "2026-01-01T00:00:00.0000000+00:00");
  EXPECT_STREQ(d.child("FinishDate").attribute("xsi:nil").value(), "true");
  EXPECT_STREQ(d.child("Parameters").text().get(), "<greeting>hello</greeting>");
  EXPECT_STREQ(d.child("ContentType").text().get(), "application/xml");
  EXPECT_STREQ(d.child("Notification").text().get(), "SUCCESS");
  EXPECT_STREQ(d.child("LastRunBy").text().get(), "e2e-twosms-xml");
  EXPECT_STRNE(d.child("LastRunOn").text().get(), "");
  // The same task in JSON under the v1 prefix.
  auto j = Call("GET", "/api/v1/admin/tasks/account/" + id).Json();
  EXPECT_EQ(j["ResponseData"]["Detail"]["Parameters"], "<greeting>hello</greeting>");
}

TEST_F(TwoSms, PutReplacesTheFieldsAndTheTaskShowsThem) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-twosms-put");
  auto id = CreateTask(CreateJson(kNoop, R"({"v":1})"));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();
  json update = {{"TaskID", kNoop},
                 {"Frequency", "NONE"},
                 {"StartDate", "2026-01-01T10:00:00+02:00"},
                 {"FinishDate", "2031-01-01T00:00:00-05:00"},
                 {"Parameters", R"({"v":2})"},
                 {"ContentType", "application/json"},
                 {"Notification", "FAILURE, PROGRESS"}};
  auto a = Call("PUT", "/api/v1/admin/tasks/account/" + id, update.dump(), "application/json");
  ASSERT_EQ(a.status, 200) << a.body;
  auto answered = a.Json()["ResponseData"]["Detail"];
  EXPECT_EQ(answered["Parameters"], R"({"v":2})");
  EXPECT_EQ(answered["Notification"], "FAILURE, PROGRESS");
  EXPECT_EQ(answered["StartDate"], "2026-01-01T08:00:00.0000000+00:00");
  EXPECT_EQ(answered["FinishDate"], "2031-01-01T05:00:00.0000000+00:00");
  EXPECT_EQ(answered["Enabled"], true);
  EXPECT_EQ(answered["Status"], "Accepted");

  json read;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        read = GetTask(id)["ResponseData"]["Detail"];
        return read.is_object() && read["Parameters"] == R"({"v":2})";
      },
      60s))
      << worker->Log();
  EXPECT_EQ(read["Notification"], "FAILURE, PROGRESS");
  EXPECT_EQ(read["StartDate"], "2026-01-01T08:00:00.0000000+00:00");
  EXPECT_EQ(read["FinishDate"], "2031-01-01T05:00:00.0000000+00:00");
  EXPECT_NE(read["DateModified"], read["DateCreated"]);
  // An enabled task that ran once is not run again by an update.
  EXPECT_EQ(read["Status"], "Succeeded");
  EXPECT_EQ(Runs(id), 1);
}

TEST_F(TwoSms, PutEnabledFalseStopsTheRunningSleepTaskAndEnabledTrueRunsItAgain) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-twosms-disable");
  auto id = CreateTask(CreateJson(kSleep, R"({"seconds":30})"));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Running"), "Running") << worker->Log();

  std::string disable =
      R"(<AccountTaskUpdateRequest xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"> <TaskID>)" +
      std::string(kSleep) +
      R"(</TaskID> <Frequency>NONE</Frequency> <Parameters>{"seconds":30}</Parameters> <ContentType>application/json</ContentType> <Notification>NONE</Notification> <Enabled>false</Enabled> </AccountTaskUpdateRequest>)";
  auto a = Call("PUT", "/api/v1/admin/tasks/account/" + id, disable, "application/xml");
  ASSERT_EQ(a.status, 200) << a.body;
  pugi::xml_document doc;
  EXPECT_STREQ(a.Xml(doc).child("ResponseData").child("Detail").child("Enabled").text().get(),
               "false");
  ASSERT_EQ(WaitForStatus(id, "Cancelled"), "Cancelled") << worker->Log();
  EXPECT_EQ(Runs(id, "cancelled"), 1);
  EXPECT_EQ(GetTask(id)["ResponseData"]["Detail"]["Enabled"], false);

  // Enabled again: its only run was cancelled, so it runs anew (a short sleep this time).
  json enable = CreateJson(kSleep, R"({"seconds":0.1})");
  enable["Enabled"] = true;
  a = Call("PUT", "/api/v1/admin/tasks/account/" + id, enable.dump(), "text/json");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();
  EXPECT_EQ(Runs(id), 2);
  EXPECT_EQ(Runs(id, "cancelled"), 1);
}

TEST_F(TwoSms, ListPagesThroughTheTasksInCreationOrderInJsonAndXml) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-twosms-list");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(CreateTask(CreateJson(kNoop, "{\"i\":" + std::to_string(i) + "}")));
    ASSERT_FALSE(ids.back().empty());
  }
  json page;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        page = Call("GET", std::string(kTasks) + "?page=1&pageSize=2").Json();
        return page.is_object() && page["ResponseData"]["Paging"]["TotalCount"] == 5;
      },
      60s))
      << worker->Log();
  EXPECT_EQ(page["ResponseData"]["Paging"],
            json({{"Page", 1}, {"PageSize", 2}, {"TotalCount", 5}, {"TotalPages", 3}}));
  ASSERT_EQ(page["ResponseData"]["Detail"].size(), 2u);
  EXPECT_EQ(page["ResponseData"]["Detail"][0]["ID"], ids[0]);
  EXPECT_EQ(page["ResponseData"]["Detail"][1]["ID"], ids[1]);

  auto last =
      Call("GET", "/api/v1/admin/tasks/account?page=3&pageSize=2", {}, {}, "application/xml");
  ASSERT_EQ(last.status, 200) << last.body;
  pugi::xml_document doc;
  auto root = last.Xml(doc);
  EXPECT_STREQ(root.name(), "ResponseOfListOfAccountTaskResponse");
  auto items = root.child("ResponseData").child("Detail");
  std::vector<std::string> listed;
  for (auto item : items.children("AccountTaskResponse"))
    listed.push_back(item.child("ID").text().get());
  EXPECT_EQ(listed, std::vector<std::string>{ids[4]});
  EXPECT_STREQ(root.child("ResponseData").child("Paging").child("Page").text().get(), "3");

  auto beyond = Call("GET", std::string(kTasks) + "?page=9&pageSize=2").Json();
  EXPECT_TRUE(beyond["ResponseData"]["Detail"].empty());
  auto over = Call("GET", std::string(kTasks) + "?pageSize=1000");
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(ErrorOf(over).second, "pageSize: is 1000; the limit is 200");
}

TEST_F(TwoSms, DeleteCancelsTheRunningRunAndTheTaskIsNotFoundAfterwards) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-twosms-delete");
  auto id = CreateTask(CreateJson(kSleep, R"({"seconds":30})"));
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Running"), "Running") << worker->Log();
  auto a = Call("DELETE", std::string(kTasks) + "/" + id, {}, {}, "application/xml");
  ASSERT_EQ(a.status, 200) << a.body;
  pugi::xml_document doc;
  EXPECT_STREQ(a.Xml(doc).child("ResponseData").child("Detail").child("Status").text().get(),
               "Deleted");
  Answer gone;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        gone = Call("GET", std::string(kTasks) + "/" + id);
        return gone.status == 404;
      },
      60s))
      << worker->Log();
  EXPECT_EQ(ErrorOf(gone).first, "NotFound");
  ASSERT_TRUE(testing::PollUntil([&] { return Runs(id, "cancelled") == 1; }, 60s)) << worker->Log();
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE id = '" + id + "' AND deleted_at IS NOT NULL"),
            1);
  auto list = Call("GET", kTasks).Json();
  EXPECT_EQ(list["ResponseData"]["Paging"]["TotalCount"], 0);
  // Deleted is gone for every write too.
  EXPECT_EQ(Call("DELETE", std::string(kTasks) + "/" + id).status, 404);
  EXPECT_EQ(Call("PUT", "/api/v1/admin/tasks/account/" + id, CreateJson(kNoop, "{}").dump(),
                 "application/json")
                .status,
            404);
}

// Each error path, in JSON and in XML: status, ErrorCode, and the field or limit named.
TEST_F(TwoSms, EveryErrorPathAnswersInTheEnvelopeOfTheRequestsFormat) {
  auto producer = StartProducer(testing::KafkaBrokers());
  const std::string unknown = std::string(kTasks) + "/0f0f0f0f-0000-4000-8000-000000000001";
  struct Case {
    std::string name;
    json body;  // the JSON form; the XML form is made from it
    int status;
    std::string code;
    std::string reason_has;
  };
  auto valid = CreateJson(kNoop, R"({"a":1})");
  auto without = [&](const std::string& field) {
    auto b = valid;
    b.erase(field);
    return b;
  };
  auto with = [&](const std::string& field, json value) {
    auto b = valid;
    b[field] = std::move(value);
    return b;
  };
  auto finish_first = with("StartDate", "2026-01-02T00:00:00+00:00");
  finish_first["FinishDate"] = "2026-01-01T00:00:00+00:00";
  std::vector<Case> cases = {
      {"missing field", without("Parameters"), 400, "InvalidRequest", "Parameters: is required"},
      {"bad enum", with("Frequency", "YEARLY"), 400, "InvalidRequest", "Frequency: is not a"},
      {"bad date", with("StartDate", "22/12/2024"), 400, "InvalidRequest", "StartDate:"},
      {"finish before start", finish_first, 400, "InvalidRequest",
       "FinishDate: is before StartDate"},
      {"bad parameters", with("Parameters", "{not json"), 400, "InvalidRequest",
       "Parameters: is not a JSON document"},
      {"over a limit", with("Parameters", std::string(70000, 'x')), 413, "RequestTooLarge",
       "the limit is 65536 bytes"},
  };
  auto to_xml = [](const json& body) {
    std::string x = "<AccountTaskRequest>";
    for (const auto& [k, v] : body.items()) {
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      if (k == "Frequency" && v == 0) text = "NONE";
      if (k == "Notification" && v == 0) text = "NONE";
      std::string escaped;
      for (char c : text) escaped += c == '<' ? "&lt;" : c == '&' ? "&amp;" : std::string(1, c);
      x += "<" + k + ">" + escaped + "</" + k + ">";
    }
    return x + "</AccountTaskRequest>";
  };
  for (const auto& c : cases) {
    for (bool xml : {false, true}) {
      auto a = xml ? Call("POST", kTasks, to_xml(c.body), "application/xml")
                   : Call("POST", kTasks, c.body.dump(), "application/json");
      std::string label = c.name + (xml ? " (XML)" : " (JSON)");
      EXPECT_EQ(a.status, c.status) << label << ": " << a.body;
      EXPECT_NE(a.content_type.find(xml ? "application/xml" : "application/json"),
                std::string::npos)
          << label;
      auto [code, reason] = ErrorOf(a);
      EXPECT_EQ(code, c.code) << label << ": " << a.body;
      EXPECT_NE(reason.find(c.reason_has), std::string::npos) << label << ": " << reason;
    }
  }
  // Not found, in both formats, for read, update and delete.
  for (const std::string accept : {"application/json", "application/xml"}) {
    for (const auto& a :
         {Call("GET", unknown, {}, {}, accept), Call("DELETE", unknown, {}, {}, accept),
          Call("PUT", "/api/v1/admin/tasks/account/0f0f0f0f-0000-4000-8000-000000000001",
               valid.dump(), "application/json", accept)}) {
      EXPECT_EQ(a.status, 404) << a.body;
      EXPECT_EQ(ErrorOf(a).first, "NotFound") << a.body;
    }
  }
  // Unsupported media type, answered in the format Accept asks for.
  for (const std::string accept : {"application/json", "text/xml"}) {
    auto a = Call("POST", kTasks, "TaskID=1", "application/x-www-form-urlencoded", accept);
    EXPECT_EQ(a.status, 415) << a.body;
    EXPECT_NE(a.content_type.find(accept), std::string::npos);
    EXPECT_EQ(ErrorOf(a).first, "UnsupportedMediaType");
  }
  auto a = Call("GET", kTasks, {}, {}, "image/png");
  EXPECT_EQ(a.status, 406);
  EXPECT_EQ(ErrorOf(a).first, "NotAcceptable");
  // Nothing of this reached Kafka.
  testing::TopicReader reader(commands_);
  EXPECT_TRUE(reader.ReadUntil([](auto& m) { return !m.empty(); }, 2s).empty());
}

TEST_F(TwoSms, ACreateSentAgainWithItsIdempotencyKeyMakesOneTaskInEveryDialect) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-idempotent");
  struct Case {
    std::string path, body;
  };
  std::vector<Case> cases = {
      {"/api/v2/admin/tasks/account", SeedRequest().dump()},
      {"/api/v1/Agents/Batch/StartBatchJob", R"({"BatchTaskInfo":{"Name":"noop"}})"},
      {"/services/rest/connect/v1.4/tasks", R"({"name":"once"})"}};
  for (const auto& c : cases) {
    httplib::Headers key = {{"Idempotency-Key", "e2e " + c.path}};
    auto first = Http().Post(c.path, key, c.body, "application/json");
    ASSERT_TRUE(first && first->status < 300) << c.path << ": " << (first ? first->body : "");
    auto again = Http().Post(c.path, key, c.body, "application/json");
    ASSERT_TRUE(again) << c.path;
    EXPECT_EQ(again->status, first->status) << c.path;
    EXPECT_EQ(again->body, first->body) << c.path;
    EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true") << c.path;
    auto other = Http().Post(c.path, key, c.body + " ", "application/json");
    ASSERT_TRUE(other) << c.path;
    EXPECT_EQ(other->status, 400) << c.path << ": " << other->body;
  }
  EXPECT_TRUE(testing::PollUntil([&] { return Count("SELECT count(*) FROM tasks") == 3; }, 20s))
      << Count("SELECT count(*) FROM tasks") << " tasks";
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE type = 'conveyor.task.create'"), 3);
}

}  // namespace
}  // namespace conveyor

// End to end (label: e2e) for the TwoSms bulk create (POST api/v2/admin/tasks/account/bulk)
// through the producer, Kafka and a worker: every task of a bulk runs and is readable, a bulk
// with one bad task publishes nothing, the XML form, and the client rules per task.
#include <pugixml.hpp>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kNoop[] = "00000000-0000-0000-0000-000000000001";
constexpr char kBulk[] = "/api/v2/admin/tasks/account/bulk";

class TwoSmsBulk : public testing::E2eTest {
 protected:
  // A noop task whose Parameters carry `marker` and `i`, so that PostgreSQL and the commands
  // topic tell the requests apart.
  static json Task(const std::string& marker, std::size_t i) {
    return {{"TaskID", kNoop},
            {"Frequency", 0},
            {"Parameters", json{{marker, i}}.dump()},
            {"ContentType", "application/json"},
            {"Notification", 0}};
  }
  static json Bulk(const std::string& marker, std::size_t n) {
    json tasks = json::array();
    for (std::size_t i = 0; i < n; ++i) tasks.push_back(Task(marker, i));
    return {{"Tasks", tasks}};
  }
  httplib::Result PostBulk(const json& body,
                           std::optional<std::string> authorization = std::nullopt) {
    return Http(std::move(authorization)).Post(kBulk, body.dump(), "application/json");
  }
  // The IDs a 200 answer lists, in order ("" for a task that has none).
  static std::vector<std::string> Ids(const httplib::Result& r) {
    std::vector<std::string> out;
    auto j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j["ResponseData"].is_object()) return out;
    for (const auto& item : j["ResponseData"]["Detail"])
      out.push_back(item["ID"].is_string() ? item["ID"].get<std::string>() : "");
    return out;
  }
  long long TasksMarked(const std::string& marker) {
    return Count("SELECT count(*) FROM tasks WHERE parameters LIKE '%\"" + marker + "\"%'");
  }
  long long SucceededMarked(const std::string& marker) {
    return Count(
        "SELECT count(*) FROM tasks t JOIN runs r ON r.task_id = t.id WHERE r.state = "
        "'succeeded' AND t.parameters LIKE '%\"" +
        marker + "\"%'");
  }
};

TEST_F(TwoSmsBulk, FiftyNoopTasksInOneRequestAllSucceedAndEachIsReadableByGet) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-bulk");
  auto r = PostBulk(Bulk("fifty", 50));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto answer = json::parse(r->body);
  EXPECT_TRUE(answer["Error"].is_null());
  EXPECT_EQ(answer["ResponseData"]["Result"], "Success");
  auto ids = Ids(r);
  ASSERT_EQ(ids.size(), 50u);
  for (const auto& item : answer["ResponseData"]["Detail"]) {
    EXPECT_EQ(item["Status"], "Accepted");
    EXPECT_EQ(item["TaskID"], kNoop);
  }

  ASSERT_TRUE(testing::PollUntil([&] { return SucceededMarked("fifty") == 50; }, 60s))
      << SucceededMarked("fifty") << " of 50 succeeded\n"
      << worker->Log();
  // Each listed ID is its task, in request order, readable by GET as the client that made it.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto task = GetTask(ids[i]);
    ASSERT_TRUE(task.is_object()) << ids[i];
    const auto& d = task["ResponseData"]["Detail"];
    EXPECT_EQ(d["ID"], ids[i]);
    EXPECT_EQ(d["Status"], "Succeeded");
    EXPECT_EQ(d["Parameters"], json({{"fifty", i}}).dump());
    EXPECT_EQ(d["ClientID"], client_id_);
  }
}

TEST_F(TwoSmsBulk, OneBadTaskRefusesTheWholeRequestAndNothingOfItIsPublished) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-bulk-bad");
  auto bad = Bulk("refused", 10);
  bad["Tasks"][7]["FinishDate"] = "2020-01-01T00:00:00Z";
  bad["Tasks"][7]["StartDate"] = "2021-01-01T00:00:00Z";
  auto r = PostBulk(bad);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  auto error = json::parse(r->body)["Error"];
  EXPECT_EQ(error["ErrorCode"], "InvalidRequest");
  EXPECT_EQ(error["ErrorReason"], "Tasks[7].FinishDate: is before StartDate");

  // A task type the catalogue does not have is found before publishing too.
  auto unknown = Bulk("refused", 10);
  unknown["Tasks"][4]["TaskID"] = Uuid::Random().ToString();
  auto u = PostBulk(unknown);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, 400) << u->body;
  EXPECT_TRUE(json::parse(u->body)["Error"]["ErrorReason"].get<std::string>().starts_with(
      "Tasks[4].TaskID: "))
      << u->body;

  // The control: a good bulk sent afterwards, its tasks spread over every partition, runs; by
  // then the worker has applied whatever came before it on each partition.
  auto control = PostBulk(Bulk("control", 30));
  ASSERT_TRUE(control);
  ASSERT_EQ(control->status, 200) << control->body;
  ASSERT_TRUE(testing::PollUntil([&] { return SucceededMarked("control") == 30; }, 60s))
      << worker->Log();
  EXPECT_EQ(TasksMarked("refused"), 0);
  // And the commands topic holds the control's 30 events and nothing else.
  testing::TopicReader reader(commands_);
  auto events = reader.ReadUntil([](auto& m) { return m.size() >= 30; }, 30s);
  EXPECT_EQ(events.size(), 30u);
  for (const auto& m : events) EXPECT_EQ(m.value.find("refused"), std::string::npos);
}

TEST_F(TwoSmsBulk, XmlBulkIsAnsweredInXmlAndItsTasksRun) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-bulk-xml");
  std::string tasks;
  for (int i = 0; i < 3; ++i)
    tasks += std::string("<AccountTaskRequest><TaskID>") + kNoop +
             "</TaskID><Frequency>NONE</Frequency><Parameters>&lt;xml-bulk n=\"" +
             std::to_string(i) +
             "\"/&gt;</Parameters><ContentType>application/xml</ContentType>"
             "<Notification>NONE</Notification></AccountTaskRequest>";
  auto r = Http().Post(kBulk,
                       "<AccountTaskBulkRequest "
                       "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><Tasks>" +
                           tasks + "</Tasks></AccountTaskBulkRequest>",
                       "application/xml");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/xml; charset=utf-8");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r->body.c_str())) << r->body;
  auto root = doc.document_element();
  EXPECT_STREQ(root.name(), "ResponseOfListOfAccountTaskBulkItem");
  std::vector<std::string> ids;
  for (auto item : root.child("ResponseData").child("Detail").children("AccountTaskBulkItem")) {
    EXPECT_STREQ(item.child("Status").text().get(), "Accepted");
    ids.push_back(item.child("ID").text().get());
  }
  ASSERT_EQ(ids.size(), 3u) << r->body;
  for (const auto& id : ids) EXPECT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << id;
}

TEST_F(TwoSmsBulk, AClientMayNotCreateForAnotherClientAndAnAdminNamesTheClientPerTask) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-bulk-clients");
  auto other = CreateClient("other", "the other client secret");
  auto foreign = Bulk("foreign", 3);
  foreign["Tasks"][2]["ClientID"] = other;
  auto r = PostBulk(foreign);  // as the e2e client
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_TRUE(json::parse(r->body)["Error"]["ErrorReason"].get<std::string>().starts_with(
      "Tasks[2].ClientID: names another client"))
      << r->body;

  // An admin key must name the client of every task.
  auto admin = Bulk("admin", 2);
  admin["Tasks"][0]["ClientID"] = other;
  auto missing = PostBulk(admin, AdminAuth());
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_TRUE(json::parse(missing->body)["Error"]["ErrorReason"].get<std::string>().starts_with(
      "Tasks[1].ClientID: is required"))
      << missing->body;
  admin["Tasks"][1]["ClientID"] = client_id_;
  auto ok = PostBulk(admin, AdminAuth());
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  auto ids = Ids(ok);
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(testing::PollUntil([&] { return SucceededMarked("admin") == 2; }, 60s))
      << worker->Log();
  EXPECT_EQ(GetTask(ids[0], AdminAuth())["ResponseData"]["Detail"]["ClientID"], other);
  EXPECT_EQ(GetTask(ids[1])["ResponseData"]["Detail"]["ClientID"], client_id_);
  // The e2e client does not see the other client's task.
  EXPECT_EQ(GetTask(ids[0])["Error"]["ErrorCode"], "NotFound");
  EXPECT_EQ(TasksMarked("foreign"), 0);
}

TEST_F(TwoSmsBulk, AnEmptyListAndOneOverTheLimitAreRefusedNamingTheLimit) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto empty = PostBulk({{"Tasks", json::array()}});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  EXPECT_EQ(json::parse(empty->body)["Error"]["ErrorReason"],
            "Tasks: is empty; a bulk create needs at least one task");
  auto over = PostBulk(Bulk("over", 1001));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 400);
  EXPECT_EQ(json::parse(over->body)["Error"]["ErrorReason"],
            "Tasks: holds 1001 tasks; the limit is 1000 tasks per request");
}

}  // namespace
}  // namespace conveyor

// End to end (label: e2e) for the SuperOffice batch agent and its REST equivalents: tasks
// started with StartBatchJob run through Kafka and the worker; the list methods, $select,
// SO-TimeZone, XML answers and the agent's error semantics are read back over HTTP.
#include <pugixml.hpp>
#include <set>

#include "conveyor/time_format.h"
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kAgent[] = "/api/v1/Agents/Batch/";

class SuperOfficeBatch : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    producer_ = StartProducer(testing::KafkaBrokers());
    worker_ = StartWorker("e2e-superoffice");
  }

  // Every request of these tests goes through this client, with the fixture's e2e client's
  // credentials.
  httplib::Client Client() { return Http(); }
  // The client id the tasks of these tests belong to.
  std::optional<std::string> OwnClientId() { return client_id_; }

  httplib::Result Call(const std::string& path, const std::string& body,
                       httplib::Headers headers = {}) {
    return Client().Post(path, headers, body, "application/json");
  }

  // An agent method's JSON answer, or the string "HTTP <status>: <body>" when it is not 200.
  json Agent(const std::string& method, const json& body, const std::string& query = "",
             httplib::Headers headers = {}) {
    auto r = Call(kAgent + method + query, body.dump(), std::move(headers));
    if (!r) return "no answer";
    if (r->status != 200) return "HTTP " + std::to_string(r->status) + ": " + r->body;
    return json::parse(r->body, nullptr, false);
  }

  // Starts a batch job and returns its Id (0, with a failure recorded, when that did not work).
  long long Start(const std::string& name, int associate, const json& parameters = json::object()) {
    auto id = Agent("StartBatchJob", {{"BatchTaskInfo",
                                       {{"Name", name},
                                        {"AssociateId", associate},
                                        {"Description", name + " for " + std::to_string(associate)},
                                        {"Request", "req-" + std::to_string(associate)},
                                        {"ParameterObject", parameters}}}});
    EXPECT_TRUE(id.is_number_integer()) << id.dump();
    return id.is_number_integer() ? id.get<long long>() : 0;
  }

  // Polls GetBatchTaskInfo until the task's State is `state`; returns the last answer.
  json WaitForState(long long id, const std::string& state) {
    json info;
    testing::PollUntil(
        [&] {
          info = Agent("GetBatchTaskInfo", {{"Id", id}});
          return info.is_object() && info["State"] == state;
        },
        60s, 50ms);
    return info;
  }

  static std::set<long long> Ids(const json& infos) {
    std::set<long long> ids;
    if (infos.is_array())
      for (const auto& i : infos) ids.insert(i["Id"].get<long long>());
    return ids;
  }

  std::set<long long> IdsOf(const std::string& method, const json& body) {
    auto answer = Agent(method, body);
    EXPECT_TRUE(answer.is_array()) << method << ": " << answer.dump();
    return Ids(answer);
  }

  std::unique_ptr<testing::ChildProcess> producer_, worker_;
};

TEST_F(SuperOfficeBatch, StartBatchJobCreatesATaskThatRunsAndGetBatchTaskInfoShowsItSucceeded) {
  auto id = Start("sleep", 491, {{"seconds", 0.2}, {"steps", 2}, {"label", "nightly"}});
  ASSERT_GT(id, 0);
  auto info = WaitForState(id, "Succeeded");
  ASSERT_EQ(info["State"], "Succeeded") << info.dump() << worker_->Log();
  EXPECT_EQ(info["Id"], id);
  EXPECT_EQ(info["Name"], "sleep");
  EXPECT_EQ(info["AssociateId"], 491);
  EXPECT_EQ(info["IsSystemTask"], false);
  EXPECT_EQ(info["Description"], "sleep for 491");
  EXPECT_EQ(info["Request"], "req-491");
  EXPECT_EQ(info["ParameterObject"], (json{{"seconds", 0.2}, {"steps", 2}, {"label", "nightly"}}));
  EXPECT_EQ(info["ProgressPercent"], 100);
  EXPECT_EQ(info["StartCount"], 1);
  EXPECT_EQ(info["Result"], "slept 0.2 s");
  // The REST forms show the same task, and POST /api/v1/BatchTask starts one too.
  auto c = Client();
  auto rest = c.Get("/api/v1/BatchTask/" + std::to_string(id));
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->status, 200);
  EXPECT_EQ(json::parse(rest->body)["State"], "Succeeded");
  auto started = c.Post("/api/v1/BatchTask", json{{"Name", "noop"}}.dump(), "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 200) << started->body;
  auto rest_id = json::parse(started->body).get<long long>();
  auto system = WaitForState(rest_id, "Succeeded");
  EXPECT_EQ(system["IsSystemTask"], true) << system.dump();
  EXPECT_EQ(system["AssociateId"], 0);
}

TEST_F(SuperOfficeBatch, EachGetMethodReturnsTheTasksItsDocumentationNames) {
  // Two associates, system tasks, two type names, and one task that fails.
  auto noop491 = Start("noop", 491);
  auto noop30 = Start("noop", 30);
  auto sleep491 = Start("sleep", 491, {{"seconds", 0}, {"steps", 1}});
  auto failed30 = Start("sleep", 30, {{"seconds", -1}});
  auto noop_system = Start("noop", 0);
  auto sleep_system = Start("sleep", 0, {{"seconds", 0}, {"steps", 1}});
  for (auto id : {noop491, noop30, sleep491, noop_system, sleep_system})
    ASSERT_EQ(WaitForState(id, "Succeeded")["State"], "Succeeded") << id << worker_->Log();
  ASSERT_EQ(WaitForState(failed30, "Failed")["State"], "Failed") << worker_->Log();

  using Set = std::set<long long>;
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByAssociates", {{"AssociateIds", {491, 30}}}),
            (Set{noop491, noop30, sleep491, failed30}));
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByAssociates", {{"AssociateIds", {0}}}),
            (Set{noop_system, sleep_system}));
  EXPECT_EQ(
      IdsOf("GetBatchTaskInfosByAssociatesAndState", {{"AssociateIds", {30}}, {"State", "Failed"}}),
      (Set{failed30}));
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByAssociatesAndState",
                  {{"AssociateIds", {491, 30}}, {"State", "All"}}),
            (Set{noop491, noop30, sleep491, failed30}));
  // ByState and ByNameAndState return user tasks only.
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByState", {{"State", "Succeeded"}}),
            (Set{noop491, noop30, sleep491}));
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByState", {{"State", 99999}}),
            (Set{noop491, noop30, sleep491, failed30}));
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByState", {{"State", "Aquired"}}), Set{});
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByNameAndState", {{"Name", "sleep"}, {"State", "Failed"}}),
            (Set{failed30}));
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByNameAndState", {{"Name", "noop"}, {"State", "Succeeded"}}),
            (Set{noop491, noop30}));
  EXPECT_EQ(IdsOf("GetBatchTaskInfosByNameAndAssociates",
                  {{"Name", "sleep"}, {"AssociateIds", {491, 0}}}),
            (Set{sleep491, sleep_system}));
  // GetAll… include system tasks; GetSystem… only them.
  EXPECT_EQ(IdsOf("GetAllBatchTaskInfosByName", {{"TaskName", "noop"}}),
            (Set{noop491, noop30, noop_system}));
  EXPECT_EQ(IdsOf("GetAllBatchTaskInfosByNameAndState", {{"TaskName", "sleep"}, {"State", 4}}),
            (Set{sleep491, sleep_system}));
  EXPECT_EQ(IdsOf("GetSystemBatchTaskInfosByName", {{"TaskName", "sleep"}}), (Set{sleep_system}));
  EXPECT_EQ(
      IdsOf("GetSystemBatchTaskInfosByNameAndState", {{"TaskName", "noop"}, {"State", "Failed"}}),
      Set{});

  // REST: every task, and user tasks by state from the path.
  auto c = Client();
  auto all = c.Get("/api/v1/BatchTask");
  ASSERT_TRUE(all);
  EXPECT_EQ(Ids(json::parse(all->body)),
            (Set{noop491, noop30, sleep491, failed30, noop_system, sleep_system}));
  auto failed = c.Get("/api/v1/BatchTask/Failed");
  ASSERT_TRUE(failed);
  EXPECT_EQ(Ids(json::parse(failed->body)), (Set{failed30}));
  auto bogus = c.Get("/api/v1/BatchTask/Finished");
  ASSERT_TRUE(bogus);
  EXPECT_EQ(bogus->status, 400);
  EXPECT_EQ(json::parse(bogus->body)["Field"], "state");
}

TEST_F(SuperOfficeBatch, SelectNullsFieldsTimeZoneConvertsDatesAndAcceptXmlAnswersXml) {
  auto id = Start("noop", 491, {{"a", "1"}, {"b", "2"}});
  ASSERT_EQ(WaitForState(id, "Succeeded")["State"], "Succeeded") << worker_->Log();

  auto selected = Agent("GetBatchTaskInfo", {{"Id", id}}, "?$select=id,state,ParameterObject/a");
  ASSERT_TRUE(selected.is_object()) << selected.dump();
  EXPECT_EQ(selected.size(), 24u);
  EXPECT_EQ(selected["Id"], id);
  EXPECT_EQ(selected["State"], "Succeeded");
  EXPECT_TRUE(selected["Name"].is_null());
  EXPECT_TRUE(selected["Created"].is_null());
  EXPECT_EQ(selected["ParameterObject"], (json{{"a", "1"}, {"b", nullptr}}));
  auto listed = Agent("GetBatchTaskInfosByAssociates", {{"AssociateIds", {491}}}, "?$select=Name");
  ASSERT_TRUE(listed.is_array()) << listed.dump();
  EXPECT_EQ(listed[0]["Name"], "noop");
  EXPECT_TRUE(listed[0]["Id"].is_null());

  // The same instant, in UTC and in Oslo with and without its offset.
  auto utc = Agent("GetBatchTaskInfo", {{"Id", id}})["Created"].get<std::string>();
  auto with_offset = Agent("GetBatchTaskInfo", {{"Id", id}}, "",
                           {{"SO-TimeZone", "Europe/Oslo, includeTZOffset"}})["Created"]
                         .get<std::string>();
  auto local =
      Agent("GetBatchTaskInfo", {{"Id", id}}, "", {{"SO-TimeZone", "Europe/Oslo"}})["Created"]
          .get<std::string>();
  ASSERT_TRUE(utc.ends_with("+00:00")) << utc;
  auto offset = with_offset.substr(with_offset.size() - 6);
  EXPECT_TRUE(offset == "+01:00" || offset == "+02:00") << with_offset;
  EXPECT_EQ(local + offset, with_offset);
  EXPECT_EQ(ParseDateTime(with_offset).value(), ParseDateTime(utc).value());
  EXPECT_NE(local.substr(0, 19), utc.substr(0, 19));

  auto xml = Call(std::string(kAgent) + "GetBatchTaskInfosByAssociates",
                  json{{"AssociateIds", {491}}}.dump(), {{"Accept", "application/xml"}});
  ASSERT_TRUE(xml);
  EXPECT_EQ(xml->status, 200);
  EXPECT_EQ(xml->get_header_value("Content-Type").rfind("application/xml", 0), 0u);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml->body.c_str())) << xml->body;
  auto info = doc.child("ArrayOfBatchTaskInfo").child("BatchTaskInfo");
  EXPECT_EQ(info.child("Id").text().as_llong(), id);
  EXPECT_STREQ(info.child("State").text().get(), "Succeeded");
  auto missing = Call(std::string(kAgent) + "GetBatchTaskInfo", json{{"Id", 999999999}}.dump(),
                      {{"Accept", "text/xml"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 200);
  ASSERT_TRUE(doc.load_string(missing->body.c_str())) << missing->body;
  EXPECT_STREQ(doc.child("BatchTaskInfo").attribute("xsi:nil").value(), "true");
}

TEST_F(SuperOfficeBatch, BadRequestsAre400NamingTheFieldAndUnknownIdIs200Null) {
  auto status_and_field = [&](const std::string& path, const std::string& body,
                              httplib::Headers headers = {}) {
    auto r = Call(path, body, std::move(headers));
    if (!r) return std::string("no answer");
    auto j = json::parse(r->body, nullptr, false);
    std::string field =
        j.is_object() && j["Field"].is_string() ? j["Field"].get<std::string>() : "-";
    return std::to_string(r->status) + " " + field;
  };
  std::string agent = kAgent;
  EXPECT_EQ(status_and_field(agent + "GetBatchTaskInfosByState", "{not json"), "400 -");
  EXPECT_EQ(status_and_field(agent + "GetBatchTaskInfosByState", R"({"State":"Done"})"),
            "400 State");
  EXPECT_EQ(status_and_field(agent + "GetBatchTaskInfosByAssociates", R"({"AssociateIds":"1"})"),
            "400 AssociateIds");
  EXPECT_EQ(status_and_field(agent + "StartBatchJob", R"({"BatchTaskInfo":{"Name":"nope"}})"),
            "400 BatchTaskInfo/Name");
  EXPECT_EQ(status_and_field(agent + "GetBatchTaskInfo?$select=Id,department", R"({"Id":1})"),
            "400 $select");
  EXPECT_EQ(status_and_field(agent + "GetBatchTaskInfo", R"({"Id":1})",
                             {{"SO-TimeZone", "Mars/Olympus_Mons"}}),
            "400 SO-TimeZone");
  EXPECT_EQ(Agent("GetBatchTaskInfo", {{"Id", 999999999}}), nullptr);
  EXPECT_EQ(Agent("StopBatchJob", {{"Id", 999999999}}), false);
  auto c = Client();
  auto rest = c.Get("/api/v1/BatchTask/999999999");
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->status, 404);
  // Nothing was published for the refused StartBatchJob.
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(SuperOfficeBatch, ListOverTheLimitIsRefusedNamingTheLimitAndOneUnderIsAnswered) {
  // 1,001 tasks of associate 5, written straight into the projection: only the count matters.
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec_params(R"(INSERT INTO tasks (id, number, task_type_id, enabled, frequency,
                                         parameters, content_type, notification, created_at,
                                         modified_at, last_event_id, associate_id, client_id)
               SELECT gen_random_uuid(), 500000 + n, '00000000-0000-0000-0000-000000000001',
                      false, 'NONE', '{}', 'application/json', 'NONE', now(), now(),
                      gen_random_uuid(), 5, $1::uuid
                 FROM generate_series(1, 1001) AS n)",
                   OwnClientId());
    tx.commit();
  }
  auto r = Call(std::string(kAgent) + "GetBatchTaskInfosByAssociates",
                json{{"AssociateIds", {5}}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(json::parse(r->body)["Error"].get<std::string>().find("limit of 1000"),
            std::string::npos)
      << r->body;
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec("DELETE FROM tasks WHERE number = 500001");
    tx.commit();
  }
  auto under = Agent("GetBatchTaskInfosByAssociatesAndState",
                     {{"AssociateIds", {5}}, {"State", "Unknown"}}, "?$select=Id");
  ASSERT_TRUE(under.is_array()) << under.dump().substr(0, 300);
  EXPECT_EQ(under.size(), 1000u);
}

TEST_F(SuperOfficeBatch, RestListPagesNewestFirstWithATotalAndFiltersOverTheLimit) {
  // 1,500 tasks, written straight into the projection: more than a whole list may hold.
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec_params(R"(INSERT INTO tasks (id, number, task_type_id, enabled, frequency,
                                         parameters, content_type, notification, created_at,
                                         modified_at, last_event_id, associate_id, client_id,
                                         description)
               SELECT gen_random_uuid(), 600000 + n, '00000000-0000-0000-0000-000000000001',
                      false, 'NONE', '{}', 'application/json', 'NONE', now(), now(),
                      gen_random_uuid(), 7, $1::uuid, 'batch ' || n
                 FROM generate_series(1, 1500) AS n)",
                   OwnClientId());
    tx.commit();
  }
  auto c = Client();
  auto whole = c.Get("/api/v1/BatchTask");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 400) << "the whole list is over the limit";

  auto page = c.Get("/api/v1/BatchTask?$top=10&$skip=20&$orderby=Id%20desc&$select=Id");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_EQ(page->get_header_value("X-Total-Count"), "1500");
  auto ids = Ids(json::parse(page->body));
  EXPECT_EQ(ids, (std::set<long long>{601471, 601472, 601473, 601474, 601475, 601476, 601477,
                                      601478, 601479, 601480}));
  EXPECT_EQ(json::parse(page->body)[0]["Id"], 601480) << "newest first";

  auto search = c.Get("/api/v1/BatchTask?$top=5&search=batch%20149");
  ASSERT_TRUE(search && search->status == 200);
  EXPECT_EQ(search->get_header_value("X-Total-Count"), "11") << "batch 149 and 1490-1499";
  auto by_id = c.Get("/api/v1/BatchTask?$top=5&search=600042");
  ASSERT_TRUE(by_id && by_id->status == 200);
  EXPECT_EQ(Ids(json::parse(by_id->body)), std::set<long long>{600042});
  auto unknown = c.Get("/api/v1/BatchTask?$top=0&state=Unknown&name=noop");
  ASSERT_TRUE(unknown && unknown->status == 200);
  EXPECT_EQ(unknown->get_header_value("X-Total-Count"), "1500") << "disabled tasks have no run";
  EXPECT_EQ(json::parse(unknown->body), json::array());
  auto none = c.Get("/api/v1/BatchTask?$top=5&state=Started");
  ASSERT_TRUE(none && none->status == 200);
  EXPECT_EQ(none->get_header_value("X-Total-Count"), "0");
  // Another client owning tasks: the e2e client naming it sees none of them.
  auto other_id = CreateClient("e2e-other", "another-secret-of-24-chars");
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec_params("UPDATE tasks SET client_id = $1::uuid WHERE number > 601000", other_id);
    tx.commit();
  }
  auto other_client = c.Get("/api/v1/BatchTask?$top=5&clientId=" + other_id);
  ASSERT_TRUE(other_client && other_client->status == 200);
  EXPECT_EQ(other_client->get_header_value("X-Total-Count"), "0")
      << "a client naming another client sees nothing";
  auto theirs = Http(AdminAuth()).Get("/api/v1/BatchTask?$top=1&clientId=" + other_id);
  ASSERT_TRUE(theirs && theirs->status == 200);
  EXPECT_EQ(theirs->get_header_value("X-Total-Count"), "500") << "an admin key sees them";
  auto as_admin = Http(AdminAuth()).Get("/api/v1/BatchTask?$top=1&clientId=" + client_id_);
  ASSERT_TRUE(as_admin && as_admin->status == 200);
  EXPECT_EQ(as_admin->get_header_value("X-Total-Count"), "1000");
  auto bad = c.Get("/api/v1/BatchTask?$top=5000");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["Field"], "$top") << bad->body;
}

// --- UpdateBatchTask, DeleteBatchTask(s), REST PUT/DELETE
// -----------------------------------------

TEST_F(SuperOfficeBatch, UpdateBatchTaskChangesDescriptionRequestAndResponseAndIgnoresTheRest) {
  auto id = Start("noop", 491);
  ASSERT_GT(id, 0);
  auto before = WaitForState(id, "Succeeded");
  ASSERT_EQ(before["State"], "Succeeded") << before.dump() << worker_->Log();
  // The BatchTaskInfo as read, with the four updatable fields and two others changed.
  auto sent = before;
  sent["Description"] = "described again";
  sent["Request"] = "asked again";
  sent["Response"] = "answered by hand";
  sent["Name"] = "sleep";
  sent["AssociateId"] = 30;
  auto answer = Agent("UpdateBatchTask", {{"BatchTaskInfo", sent}});
  ASSERT_TRUE(answer.is_object()) << answer.dump();
  EXPECT_EQ(answer["Description"], "described again");
  EXPECT_EQ(answer["Request"], "asked again");
  EXPECT_EQ(answer["Response"], "answered by hand");
  EXPECT_EQ(answer["Result"], before["Result"]);
  EXPECT_EQ(answer["Name"], "noop");      // ignored, as SuperOffice ignores it
  EXPECT_EQ(answer["AssociateId"], 491);  // ignored
  EXPECT_EQ(answer["State"], "Succeeded");
  // Applied by the worker: GetBatchTaskInfo shows the same.
  json info;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        info = Agent("GetBatchTaskInfo", {{"Id", id}});
        return info.is_object() && info["Description"] == "described again";
      },
      60s, 50ms))
      << info.dump() << worker_->Log();
  EXPECT_EQ(info["Request"], "asked again");
  EXPECT_EQ(info["Response"], "answered by hand");
  EXPECT_EQ(info["Name"], "noop");
  EXPECT_EQ(info["AssociateId"], 491);
  EXPECT_EQ(info["State"], "Succeeded");

  // $select, SO-TimeZone and Accept XML apply to the answer as to the read methods.
  auto r = Call(std::string(kAgent) + "UpdateBatchTask?$select=Id,Description",
                json{{"BatchTaskInfo", {{"Id", id}, {"Description", "in xml"}}}}.dump(),
                {{"Accept", "application/xml"}, {"SO-TimeZone", "Europe/Oslo"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r->body.c_str()));
  auto root = doc.child("BatchTaskInfo");
  EXPECT_STREQ(root.child_value("Description"), "in xml");
  EXPECT_STREQ(root.child_value("Id"), std::to_string(id).c_str());
  EXPECT_STREQ(root.child("Name").attribute("xsi:nil").value(), "true");
}

TEST_F(SuperOfficeBatch, UpdateBatchTaskStateFailedStopsARunningSleepTaskAndNewRunsItAgain) {
  auto id = Start("sleep", 491, {{"seconds", 30}, {"steps", 30}});
  ASSERT_GT(id, 0);
  ASSERT_EQ(WaitForState(id, "Started")["State"], "Started") << worker_->Log();
  // A state a caller may not ask for is refused naming the field.
  auto c = Client();
  auto bad = Call(std::string(kAgent) + "UpdateBatchTask",
                  json{{"BatchTaskInfo", {{"Id", id}, {"State", "Succeeded"}}}}.dump());
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["Field"], "BatchTaskInfo/State") << bad->body;

  auto stopped = Agent("UpdateBatchTask", {{"BatchTaskInfo", {{"Id", id}, {"State", "Failed"}}}});
  ASSERT_TRUE(stopped.is_object()) << stopped.dump();
  EXPECT_EQ(stopped["State"], "Failed");
  auto info = WaitForState(id, "Failed");
  ASSERT_EQ(info["State"], "Failed") << info.dump() << worker_->Log();
  EXPECT_EQ(Count("SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE "
                  "t.number = " +
                  std::to_string(id) + " AND r.state = 'cancelled'"),
            1);

  // State New on the finished task queues a new run (through REST PUT this time); stopping
  // that one too ends the test quickly.
  auto again = c.Put("/api/v1/BatchTask/" + std::to_string(id), json{{"State", "New"}}.dump(),
                     "application/json");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(json::parse(again->body)["State"], "New");
  ASSERT_EQ(WaitForState(id, "Started")["State"], "Started") << worker_->Log();
  EXPECT_EQ(Count("SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE "
                  "t.number = " +
                  std::to_string(id)),
            2);
  EXPECT_EQ(Agent("StopBatchJob", {{"Id", id}}), true);
  EXPECT_EQ(WaitForState(id, "Failed")["State"], "Failed");
}

TEST_F(SuperOfficeBatch, DeleteBatchTaskAndDeleteBatchTasksAnswer204AndTheTasksAreGone) {
  auto one = Start("noop", 1), two = Start("noop", 2), three = Start("noop", 3);
  ASSERT_GT(one * two * three, 0);
  for (auto id : {one, two, three}) ASSERT_EQ(WaitForState(id, "Succeeded")["State"], "Succeeded");
  auto r = Call(std::string(kAgent) + "DeleteBatchTask", json{{"BatchTaskId", one}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->body, "");
  // A missing id among them is not reported, as the agent does not.
  auto many = Call(std::string(kAgent) + "DeleteBatchTasks",
                   json{{"BatchTaskIds", {two, 999999999, three}}}.dump());
  ASSERT_TRUE(many);
  EXPECT_EQ(many->status, 204) << many->body;
  for (auto id : {one, two, three})
    EXPECT_TRUE(testing::PollUntil(
        [&] {
          return Agent("GetBatchTaskInfo", {{"Id", id}}).is_null();
        },
        60s, 50ms))
        << id << worker_->Log();
  EXPECT_TRUE(CountBecomes("SELECT count(*) FROM tasks WHERE deleted_at IS NOT NULL", 3));
  auto missing = Call(std::string(kAgent) + "DeleteBatchTask", R"({"BatchTaskId": 999999999})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 204);

  // Malformed bodies and the limit are 400 naming the field.
  json ids = json::array();
  for (int i = 0; i < 1001; ++i) ids.push_back(i);
  auto over = Call(std::string(kAgent) + "DeleteBatchTasks", json{{"BatchTaskIds", ids}}.dump());
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 400);
  EXPECT_EQ(json::parse(over->body)["Field"], "BatchTaskIds") << over->body;
  auto wrong = Call(std::string(kAgent) + "DeleteBatchTask", R"({"BatchTaskId": "x"})");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(json::parse(wrong->body)["Field"], "BatchTaskId") << wrong->body;
}

TEST_F(SuperOfficeBatch, RestPutAndDeleteUpdateAndDeleteOneTaskAndAnswer404WhenThereIsNone) {
  auto id = Start("noop", 7);
  ASSERT_GT(id, 0);
  ASSERT_EQ(WaitForState(id, "Succeeded")["State"], "Succeeded");
  auto c = Client();
  auto path = "/api/v1/BatchTask/" + std::to_string(id);
  auto put = c.Put(path, json{{"Description", "via rest"}, {"Id", 1}}.dump(), "application/json");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(json::parse(put->body)["Description"], "via rest");
  EXPECT_EQ(json::parse(put->body)["Id"], id);  // the path names the task
  EXPECT_TRUE(testing::PollUntil(
      [&] {
        return Agent("GetBatchTaskInfo", {{"Id", id}})["Description"] == "via rest";
      },
      60s, 50ms));
  auto bad = c.Put(path, json{{"State", "Done"}}.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["Field"], "State");
  EXPECT_EQ(c.Put("/api/v1/BatchTask/999999999", "{}", "application/json")->status, 404);

  auto del = c.Delete(path);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204) << del->body;
  EXPECT_TRUE(testing::PollUntil([&] { return c.Get(path)->status == 404; }, 60s, 50ms));
  EXPECT_EQ(c.Delete(path)->status, 404);
  EXPECT_EQ(Agent("UpdateBatchTask", {{"BatchTaskInfo", {{"Id", id}, {"Description", "x"}}}}),
            nullptr);
}

TEST_F(SuperOfficeBatch, AnotherClientCannotUpdateOrDeleteTheTaskAndSeesItAsMissing) {
  auto id = Start("noop", 8);
  ASSERT_GT(id, 0);
  ASSERT_EQ(WaitForState(id, "Succeeded")["State"], "Succeeded");
  std::string b_id = CreateClient("client b", "client b secret 16");
  ASSERT_FALSE(b_id.empty());
  auto b = Http(BasicAuth(b_id, "client b secret 16"));
  auto path = "/api/v1/BatchTask/" + std::to_string(id);
  auto update = b.Post(std::string(kAgent) + "UpdateBatchTask",
                       json{{"BatchTaskInfo", {{"Id", id}, {"Description", "b was here"}}}}.dump(),
                       "application/json");
  ASSERT_TRUE(update);
  EXPECT_EQ(update->status, 200);
  EXPECT_EQ(update->body, "null");
  auto del = b.Post(std::string(kAgent) + "DeleteBatchTask", json{{"BatchTaskId", id}}.dump(),
                    "application/json");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);  // as for a missing id
  EXPECT_EQ(b.Put(path, json{{"Description", "b"}}.dump(), "application/json")->status, 404);
  EXPECT_EQ(b.Delete(path)->status, 404);
  // Nothing was published: the task is as it was, and its owner still sees it.
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE type IN ('conveyor.task.batch-update', "
                  "'conveyor.task.delete')"),
            0);
  auto own = Agent("GetBatchTaskInfo", {{"Id", id}});
  ASSERT_TRUE(own.is_object()) << own.dump();
  EXPECT_EQ(own["Description"], "noop for 8");
}

TEST_F(SuperOfficeBatch, CannotCancelTaskWithALiveRunRefusesStateFailedAndDelete) {
  {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(
        "INSERT INTO task_types (id, name, handler, cancellation) VALUES "
        "('6b1f3c2e-0000-4000-8000-000000000002', 'uninterruptible', 'sleep', 'CannotCancel')");
    tx.commit();
  }
  auto id = Start("uninterruptible", 9, {{"seconds", 3}, {"steps", 3}});
  ASSERT_GT(id, 0);
  ASSERT_EQ(WaitForState(id, "Started")["State"], "Started") << worker_->Log();
  auto stop = Call(std::string(kAgent) + "UpdateBatchTask",
                   json{{"BatchTaskInfo", {{"Id", id}, {"State", "Failed"}}}}.dump());
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 400);
  auto stop_error = json::parse(stop->body);
  EXPECT_EQ(stop_error["Field"], "BatchTaskInfo/State");
  EXPECT_NE(stop_error["Error"].get<std::string>().find("CannotCancel"), std::string::npos);
  auto del = Call(std::string(kAgent) + "DeleteBatchTasks",
                  json{{"BatchTaskIds", {999999999, id}}}.dump());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 400);
  EXPECT_EQ(json::parse(del->body)["Field"], "BatchTaskIds/1") << del->body;
  EXPECT_EQ(Client().Delete("/api/v1/BatchTask/" + std::to_string(id))->status, 400);
  // The run goes on to its end; once it is over, the task can be deleted.
  ASSERT_EQ(WaitForState(id, "Succeeded")["State"], "Succeeded") << worker_->Log();
  auto later = Call(std::string(kAgent) + "DeleteBatchTask", json{{"BatchTaskId", id}}.dump());
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 204);
}

}  // namespace
}  // namespace conveyor

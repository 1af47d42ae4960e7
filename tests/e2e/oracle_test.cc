// End to end (label: e2e) for the Oracle B2C Service dialect: real producer and worker
// processes, broker and PostgreSQL; requests and answers as an Oracle Connect REST client
// sends and reads them. Requests carry the e2e client's credentials unless a test says
// otherwise (e2e_fixture.h).
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kTasks[] = "/services/rest/connect/v1.4/tasks";

// Percent-encodes a query parameter value.
std::string Encode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

struct Answer {
  int status = 0;
  json body;
  std::string location;
};

class Oracle : public testing::E2eTest {
 protected:
  // Sends as the e2e client, or with `authorization` ("" sends no credentials).
  Answer Send(const std::string& method, const std::string& path, const std::string& body = "",
              httplib::Headers headers = {},
              std::optional<std::string> authorization = std::nullopt) {
    auto c = Http(std::move(authorization));
    auto r = method == "GET"      ? c.Get(path.c_str(), headers)
             : method == "PATCH"  ? c.Patch(path.c_str(), headers, body, "application/json")
             : method == "PUT"    ? c.Put(path.c_str(), headers, body, "application/json")
             : method == "DELETE" ? c.Delete(path.c_str(), headers, body, "application/json")
                                  : c.Post(path.c_str(), headers, body, "application/json");
    Answer a;
    if (!r) return a;
    a.status = r->status;
    a.body = json::parse(r->body, nullptr, false);
    a.location = r->get_header_value("Location");
    return a;
  }
  Answer Get(const std::string& path, std::optional<std::string> authorization = std::nullopt) {
    return Send("GET", path, "", {}, std::move(authorization));
  }
  Answer Post(const std::string& path, const json& body,
              std::optional<std::string> authorization = std::nullopt) {
    return Send("POST", path, body.dump(), {}, std::move(authorization));
  }

  // Creates a task and returns its id (0, with a failure recorded, when that did not work).
  std::int64_t Create(const json& body, std::optional<std::string> authorization = std::nullopt) {
    auto a = Post(kTasks, body, std::move(authorization));
    EXPECT_EQ(a.status, 201) << a.body.dump();
    if (a.status != 201) return 0;
    return a.body["id"].get<std::int64_t>();
  }

  std::string TaskPath(std::int64_t id) { return std::string(kTasks) + "/" + std::to_string(id); }

  // Polls GET tasks/{id} until its status is `status`; returns the last task seen.
  json WaitForStatus(std::int64_t id, const std::string& status,
                     std::chrono::milliseconds deadline = 60s) {
    json last;
    testing::PollUntil(
        [&] {
          auto a = Get(TaskPath(id));
          if (a.status != 200) return false;
          last = a.body;
          return last["statusWithType"]["status"]["lookupName"] == status;
        },
        deadline);
    return last;
  }

  // Every error is Oracle's problem JSON; returns its detail.
  std::string ExpectProblem(const Answer& a, int status, const std::string& code,
                            const std::string& instance_path) {
    EXPECT_EQ(a.status, status) << a.body.dump();
    EXPECT_TRUE(a.body.is_object()) << a.body.dump();
    if (!a.body.is_object()) return "";
    EXPECT_EQ(a.body.size(), 6u) << a.body.dump();
    EXPECT_EQ(a.body["status"], status);
    EXPECT_EQ(a.body["o:errorCode"], code);
    EXPECT_EQ(a.body["type"], "http://127.0.0.1:" + std::to_string(port_) +
                                  "/services/rest/connect/exceptions/" + code);
    EXPECT_TRUE(a.body["title"].is_string());
    EXPECT_EQ(a.body["instance"], "http://127.0.0.1:" + std::to_string(port_) + instance_path);
    return a.body.value("detail", std::string());
  }
};

TEST_F(Oracle, CreateAnswers201WithLocationAndTheTaskShowsCompletedAfterTheNoopRuns) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle");
  auto seed = json::parse(testing::ReadRepoFile("tests/golden/oracle/seed004-create-request.json"));
  auto created = Post(kTasks, seed);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  auto id = created.body["id"].get<std::int64_t>();
  auto self = "http://127.0.0.1:" + std::to_string(port_) + TaskPath(id);
  EXPECT_EQ(created.location, self);
  EXPECT_EQ(created.body["lookupName"], "Return customer call");
  EXPECT_EQ(created.body["statusWithType"]["status"]["lookupName"], "Not Started");
  EXPECT_EQ(created.body["links"][0]["href"], self);

  auto done = WaitForStatus(id, "Completed");
  ASSERT_EQ(done["statusWithType"]["status"]["lookupName"], "Completed") << worker->Log();
  EXPECT_EQ(done["statusWithType"]["statusType"]["lookupName"], "Complete");
  EXPECT_EQ(done["name"], "Return customer call");
  EXPECT_EQ(done["percentComplete"], 100);
  EXPECT_TRUE(done["startTime"].is_string());
  EXPECT_TRUE(done["completedTime"].is_string());
  EXPECT_EQ(done["taskType"], (json{{"id", 1}, {"lookupName", "noop"}}));
  EXPECT_EQ(done["contact"]["links"][0]["href"], "http://127.0.0.1:" + std::to_string(port_) +
                                                     "/services/rest/connect/v1.4/contacts/83");
  EXPECT_EQ(done["createdTime"], created.body["createdTime"]);
}

TEST_F(Oracle, SleepTaskShowsInProgressWithPercentCompleteWhileItRuns) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-sleep");
  auto id = Create({{"name", "long one"},
                    {"taskType", {{"lookupName", "sleep"}}},
                    {"priority", {{"id", 4}}},
                    {"customFields", {{"c", {{"parameters", R"({"seconds":6,"steps":6})"}}}}}});
  ASSERT_NE(id, 0);
  json running;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        auto a = Get(TaskPath(id));
        if (a.status != 200) return false;
        running = a.body;
        return running["statusWithType"]["status"]["lookupName"] == "In Progress" &&
               running["percentComplete"].is_number() && running["percentComplete"] > 0 &&
               running["percentComplete"] < 100;
      },
      60s))
      << running.dump() << worker->Log();
  EXPECT_EQ(running["statusWithType"]["statusType"]["lookupName"], "Not Complete");
  EXPECT_TRUE(running["completedTime"].is_null());
  EXPECT_EQ(running["priority"], (json{{"id", 4}, {"lookupName", "Critical"}}));
  EXPECT_EQ(running["taskType"], (json{{"id", 2}, {"lookupName", "sleep"}}));
  auto done = WaitForStatus(id, "Completed");
  EXPECT_EQ(done["percentComplete"], 100) << done.dump();
}

TEST_F(Oracle, CollectionPagesSortsCountsAndFiltersWithQ) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-list");
  std::vector<std::int64_t> ids;
  for (std::string letter : {"a", "b", "c", "d", "e"})
    ids.push_back(Create({{"name", "list-" + letter},
                          {"priority", {{"lookupName", letter < "c" ? "High" : "Low"}}}}));
  ids.push_back(Create({{"name", "other"}}));
  for (auto id : ids) ASSERT_NE(id, 0);
  // Every task applied and run.
  std::string completed =
      "?q=" + Encode("statusWithType.status.lookupName = 'Completed'") + "&totalResults=true";
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        auto a = Get(std::string(kTasks) + completed);
        return a.status == 200 && a.body["totalResults"] == 6;
      },
      60s))
      << worker->Log();

  auto page = Get(std::string(kTasks) + "?limit=2&offset=1&orderBy=id:desc&totalResults=true");
  ASSERT_EQ(page.status, 200) << page.body.dump();
  ASSERT_EQ(page.body["items"].size(), 2u);
  EXPECT_EQ(page.body["items"][0]["id"], ids[4]);
  EXPECT_EQ(page.body["items"][1]["id"], ids[3]);
  EXPECT_EQ(page.body["items"][0]["lookupName"], "list-e");
  EXPECT_EQ(page.body["items"][0]["links"][1]["rel"], "canonical");
  EXPECT_EQ(page.body["hasMore"], true);
  EXPECT_EQ(page.body["totalResults"], 6);
  EXPECT_EQ(page.body["links"][1]["href"],
            "http://127.0.0.1:" + std::to_string(port_) + std::string(kTasks));

  auto last = Get(std::string(kTasks) + "?limit=2&offset=4&orderBy=id");
  ASSERT_EQ(last.status, 200);
  EXPECT_EQ(last.body["items"].size(), 2u);
  EXPECT_EQ(last.body["hasMore"], false);
  EXPECT_FALSE(last.body.contains("totalResults"));

  auto q = "q=" + Encode("name like 'list-%' and priority.lookupName = 'High'");
  auto filtered = Get(std::string(kTasks) + "?" + q + "&orderBy=name:desc&fields=name,priority");
  ASSERT_EQ(filtered.status, 200) << filtered.body.dump();
  ASSERT_EQ(filtered.body["items"].size(), 2u);
  EXPECT_EQ(filtered.body["items"][0]["name"], "list-b");
  EXPECT_EQ(filtered.body["items"][1]["name"], "list-a");
  EXPECT_EQ(filtered.body["items"][0]["priority"]["lookupName"], "High");
  EXPECT_FALSE(filtered.body["items"][0].contains("createdTime"));

  auto by_type = Get(std::string(kTasks) + "?totalResults=true&q=" + Encode("taskType.id = 2"));
  ASSERT_EQ(by_type.status, 200);
  EXPECT_EQ(by_type.body["totalResults"], 0);
  auto one = Get(TaskPath(ids[0]) + "?fields=name,statusWithType.status");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body["statusWithType"],
            (json{{"status", {{"id", 19}, {"lookupName", "Completed"}}}}));
  EXPECT_EQ(one.body.size(), 3u) << one.body.dump();  // name, statusWithType, links
}

TEST_F(Oracle, NotesAreAddedThroughKafkaAndListed) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-notes");
  auto id = Create({{"name", "with notes"}});
  ASSERT_NE(id, 0);
  ASSERT_TRUE(testing::PollUntil([&] { return Get(TaskPath(id)).status == 200; }, 60s));
  auto notes = TaskPath(id) + "/notes";
  auto added = Post(notes, {{"text", "called, no answer"}});
  ASSERT_EQ(added.status, 201) << added.body.dump();
  auto note_id = added.body["id"].get<std::int64_t>();
  EXPECT_EQ(added.location,
            "http://127.0.0.1:" + std::to_string(port_) + notes + "/" + std::to_string(note_id));
  EXPECT_EQ(added.body["text"], "called, no answer");
  ASSERT_EQ(Post(notes, {{"text", "second"}}).status, 201);

  Answer list;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        list = Get(notes + "?fields=text,createdTime");
        return list.status == 200 && list.body["items"].size() == 2;
      },
      60s))
      << list.body.dump() << worker->Log();
  EXPECT_EQ(list.body["items"][0]["text"], "called, no answer");
  EXPECT_EQ(list.body["items"][1]["text"], "second");
  EXPECT_TRUE(list.body["items"][0]["createdTime"].is_string());
  auto one = Get(notes + "/" + std::to_string(note_id));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body["id"], note_id);
  EXPECT_EQ(one.body["createdTime"], added.body["createdTime"]);
  // Listed at once (docs/adr/0006); the worker applies them through Kafka.
  EXPECT_TRUE(
      testing::PollUntil([&] { return Count("SELECT count(*) FROM task_notes") == 2; }, 60s))
      << worker->Log();
}

TEST_F(Oracle, NamedIdsListTheFixedValuesAndTheCatalogue) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto status = Get("/services/rest/connect/v1.4/namedIDs/tasks/statusWithType.status");
  ASSERT_EQ(status.status, 200);
  std::vector<std::string> names;
  for (const auto& item : status.body["items"]) names.push_back(item["lookupName"]);
  EXPECT_EQ(names, (std::vector<std::string>{"Not Started", "In Progress", "Waiting", "Completed",
                                             "Deferred", "Failed"}));
  auto priority = Get("/services/rest/connect/v1.4/namedIDs/tasks/priority");
  EXPECT_EQ(priority.body["items"][2], (json{{"id", 3}, {"lookupName", "High"}}));
  auto types = Get("/services/rest/connect/v1.4/namedIDs/tasks/taskType");
  EXPECT_EQ(types.body["items"][0], (json{{"id", 1}, {"lookupName", "noop"}}));
  EXPECT_EQ(types.body["items"][1], (json{{"id", 2}, {"lookupName", "sleep"}}));
}

TEST_F(Oracle, EveryErrorComesInOraclesShapeNamingTheProblem) {
  auto producer = StartProducer(testing::KafkaBrokers());
  std::string tasks = kTasks;
  auto detail =
      ExpectProblem(Post(tasks, {{"priority", {{"id", 2}}}}), 400, "OSC-CREST-00006", tasks);
  EXPECT_NE(detail.find("name"), std::string::npos) << detail;
  detail = ExpectProblem(Send("POST", tasks, "{\"name\": "), 400, "OSC-CREST-00011", tasks);
  detail = ExpectProblem(Send("POST", tasks, ""), 400, "OSC-CREST-00010", tasks);
  detail =
      ExpectProblem(Post(tasks, {{"name", std::string(241, 'n')}}), 400, "OSC-CREST-00006", tasks);
  EXPECT_NE(detail.find("240"), std::string::npos) << detail;
  detail = ExpectProblem(Post(tasks, {{"name", "n"}, {"dueTime", "next week"}}), 400,
                         "OSC-CREST-00006", tasks);
  EXPECT_NE(detail.find("dueTime"), std::string::npos) << detail;
  detail =
      ExpectProblem(Post(tasks, {{"name", "n"}, {"priority", {{"id", 2}, {"lookupName", "Low"}}}}),
                    400, "OSC-CREST-00006", tasks);
  EXPECT_NE(detail.find("Only ID or lookupName can be provided"), std::string::npos) << detail;
  detail = ExpectProblem(Post(tasks, {{"name", "n"}, {"taskType", {{"lookupName", "nope"}}}}), 400,
                         "OSC-CREST-00006", tasks);
  EXPECT_NE(detail.find("taskType"), std::string::npos) << detail;
  detail =
      ExpectProblem(Post(tasks, {{"name", "n"}, {"colour", "red"}}), 400, "OSC-CREST-00006", tasks);
  EXPECT_NE(detail.find("colour"), std::string::npos) << detail;

  detail = ExpectProblem(Get(tasks + "/999999"), 404, "OSC-CREST-00013", tasks + "/999999");
  EXPECT_NE(detail.find("999999"), std::string::npos);
  detail = ExpectProblem(Post(tasks + "/999999/notes", {{"text", "x"}}), 404, "OSC-CREST-00013",
                         tasks + "/999999/notes");
  detail = ExpectProblem(Get(tasks + "?fields=colour"), 400, "OSC-CREST-00007",
                         tasks + "?fields=colour");
  EXPECT_NE(detail.find("colour"), std::string::npos) << detail;
  detail =
      ExpectProblem(Get(tasks + "?limit=20001"), 400, "OSC-CREST-00007", tasks + "?limit=20001");
  EXPECT_NE(detail.find("20000"), std::string::npos) << detail;
  detail = ExpectProblem(Get(tasks + "?q=name%20%3D%20%27a%27%20or%20id%20%3D%201"), 400,
                         "OSC-CREST-00007", tasks + "?q=name%20%3D%20%27a%27%20or%20id%20%3D%201");
  EXPECT_NE(detail.find("'or'"), std::string::npos) << detail;
  detail = ExpectProblem(Get(tasks + "?expand=all"), 400, "OSC-CREST-00007", tasks + "?expand=all");
  EXPECT_NE(detail.find("expand"), std::string::npos) << detail;
  ExpectProblem(Get("/services/rest/connect/v1.3/tasks"), 404, "OSC-CREST-00003",
                "/services/rest/connect/v1.3/tasks");
  ExpectProblem(Get("/services/rest/connect/v1.4/incidents"), 404, "OSC-CREST-00013",
                "/services/rest/connect/v1.4/incidents");

  // No credentials, or wrong ones: 401 OSC-CREST-00014, before any route runs.
  detail = ExpectProblem(Get(tasks, ""), 401, "OSC-CREST-00014", tasks);
  EXPECT_NE(detail.find("credentials"), std::string::npos) << detail;
  ExpectProblem(Post(tasks, {{"name", "n"}}, BasicAuth(client_id_, "wrong secret")), 401,
                "OSC-CREST-00014", tasks);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(Oracle, NoteOverTheLimitIsRefusedNamingIt) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-note-limit");
  auto id = Create({{"name", "limits"}});
  ASSERT_NE(id, 0);
  ASSERT_TRUE(testing::PollUntil([&] { return Get(TaskPath(id)).status == 200; }, 60s));
  auto path = TaskPath(id) + "/notes";
  auto detail =
      ExpectProblem(Post(path, {{"text", std::string(349526, 'x')}}), 400, "OSC-CREST-00006", path);
  EXPECT_NE(detail.find("349525"), std::string::npos) << detail;
  EXPECT_EQ(Post(path, {{"text", std::string(349525, 'x')}}).status, 201);
}

TEST_F(Oracle, PatchChangesTheGivenFieldsAndKeepsTheOthers) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-patch");
  auto id = Create({{"name", "before"},
                    {"priority", {{"lookupName", "Low"}}},
                    {"plannedCompletionTime", "2026-12-24T18:00:00Z"}});
  ASSERT_NE(id, 0);
  ASSERT_EQ(WaitForStatus(id, "Completed")["name"], "before");
  auto patched =
      Send("PATCH", TaskPath(id),
           json{{"name", "after"}, {"priority", {{"id", 3}}}, {"dueTime", "2026-12-01T10:00:00Z"}}
               .dump());
  EXPECT_EQ(patched.status, 200);
  EXPECT_TRUE(patched.body.is_discarded()) << "PATCH answers an empty body";
  json after;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        after = Get(TaskPath(id)).body;
        return after["name"] == "after";
      },
      60s))
      << after.dump() << worker->Log();
  EXPECT_EQ(after["lookupName"], "after");
  EXPECT_EQ(after["priority"], (json{{"id", 3}, {"lookupName", "High"}}));
  EXPECT_EQ(after["dueTime"], "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(after["plannedCompletionTime"], "2026-12-24T18:00:00.000Z");
  EXPECT_EQ(after["statusWithType"]["status"]["lookupName"], "Completed");

  // X-HTTP-Method-Override: PATCH on POST, clearing the priority.
  auto overridden = Send("POST", TaskPath(id), json{{"priority", nullptr}}.dump(),
                         {{"X-HTTP-Method-Override", "PATCH"}});
  EXPECT_EQ(overridden.status, 200);
  ASSERT_TRUE(
      testing::PollUntil([&] { return Get(TaskPath(id)).body["priority"].is_null(); }, 60s));
  EXPECT_EQ(Get(TaskPath(id)).body["name"], "after");
}

TEST_F(Oracle, PatchingTheStatusToDeferredCancelsTheRunningTask) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-defer");
  auto id = Create({{"name", "to defer"},
                    {"taskType", {{"id", 2}}},
                    {"customFields", {{"c", {{"parameters", {{"seconds", 30}, {"steps", 30}}}}}}}});
  ASSERT_NE(id, 0);
  ASSERT_EQ(WaitForStatus(id, "In Progress")["statusWithType"]["status"]["lookupName"],
            "In Progress")
      << worker->Log();
  // Completed cannot be set: the status follows the run.
  auto detail = ExpectProblem(
      Send("PATCH", TaskPath(id),
           json{{"statusWithType", {{"status", {{"lookupName", "Completed"}}}}}}.dump()),
      400, "OSC-CREST-00006", TaskPath(id));
  EXPECT_NE(detail.find("statusWithType.status"), std::string::npos) << detail;
  auto deferred = Send("PATCH", TaskPath(id),
                       json{{"statusWithType", {{"status", {{"lookupName", "Deferred"}}}}}}.dump());
  ASSERT_EQ(deferred.status, 200) << deferred.body.dump();
  auto done = WaitForStatus(id, "Deferred", 30s);
  ASSERT_EQ(done["statusWithType"]["status"]["lookupName"], "Deferred") << worker->Log();
  EXPECT_EQ(done["statusWithType"]["statusType"]["lookupName"], "Complete");
  EXPECT_TRUE(done["completedTime"].is_string());
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'cancelled'"), 1);
  // Deferred already: asking again changes nothing and is accepted.
  EXPECT_EQ(Send("PATCH", TaskPath(id), json{{"statusWithType", {{"status", {{"id", 20}}}}}}.dump())
                .status,
            200);
}

TEST_F(Oracle, DeleteAnswers200EmptyAndTheTaskIsNotFoundAfterwards) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-delete");
  auto id = Create({{"name", "to delete"}});
  ASSERT_NE(id, 0);
  ASSERT_TRUE(testing::PollUntil([&] { return Get(TaskPath(id)).status == 200; }, 60s));
  auto deleted = Send("DELETE", TaskPath(id));
  EXPECT_EQ(deleted.status, 200);
  EXPECT_TRUE(deleted.body.is_discarded()) << "DELETE answers an empty body";
  ASSERT_TRUE(testing::PollUntil([&] { return Get(TaskPath(id)).status == 404; }, 60s));
  ExpectProblem(Get(TaskPath(id)), 404, "OSC-CREST-00013", TaskPath(id));
  ExpectProblem(Send("DELETE", TaskPath(id)), 404, "OSC-CREST-00013", TaskPath(id));
  auto listed = Get(std::string(kTasks) + "?totalResults=true");
  EXPECT_EQ(listed.body["totalResults"], 0) << listed.body.dump();
}

TEST_F(Oracle, PatchAndPostErrorsComeInOraclesShape) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto missing = TaskPath(999999);
  ExpectProblem(Send("PATCH", missing, json{{"name", "x"}}.dump()), 404, "OSC-CREST-00013",
                missing);
  ExpectProblem(Send("PATCH", missing, ""), 400, "OSC-CREST-00010", missing);
  auto detail = ExpectProblem(Send("PATCH", missing, json{{"name", ""}}.dump()), 400,
                              "OSC-CREST-00006", missing);
  EXPECT_NE(detail.find("name"), std::string::npos) << detail;
  detail = ExpectProblem(Send("PATCH", missing, json{{"contact", {{"id", 1}}}}.dump()), 400,
                         "OSC-CREST-00006", missing);
  EXPECT_NE(detail.find("contact"), std::string::npos) << detail;
  ExpectProblem(Post(missing, {{"name", "x"}}), 405, "OSC-CREST-00002", missing);
  ExpectProblem(Send("PUT", missing, "{}"), 405, "OSC-CREST-00002", missing);
}

TEST_F(Oracle, RunningTaskOfACannotCancelTypeCanBeNeitherDeferredNorDeleted) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-cannot");
  auto registered = Http(AdminAuth())
                        .Post("/api/v1/admin/tasktypes",
                              json{{"Name", "uncancellable"},
                                   {"Handler", "sleep"},
                                   {"CancellationBehaviour", "CannotCancel"}}
                                  .dump(),
                              "application/json");
  ASSERT_TRUE(registered && registered->status == 200) << (registered ? registered->body : "");
  auto types = Get("/services/rest/connect/v1.4/namedIDs/tasks/taskType");
  EXPECT_EQ(types.body["items"].back(), (json{{"id", 1000}, {"lookupName", "uncancellable"}}));
  auto id = Create({{"name", "must finish"},
                    {"taskType", {{"lookupName", "uncancellable"}}},
                    {"customFields", {{"c", {{"parameters", {{"seconds", 6}, {"steps", 6}}}}}}}});
  ASSERT_NE(id, 0);
  ASSERT_EQ(WaitForStatus(id, "In Progress")["statusWithType"]["status"]["lookupName"],
            "In Progress")
      << worker->Log();
  auto detail = ExpectProblem(Send("DELETE", TaskPath(id)), 409, "OSC-CREST-00009", TaskPath(id));
  EXPECT_NE(detail.find("CannotCancel"), std::string::npos) << detail;
  detail = ExpectProblem(
      Send("PATCH", TaskPath(id),
           json{{"statusWithType", {{"status", {{"lookupName", "Deferred"}}}}}}.dump()),
      400, "OSC-CREST-00006", TaskPath(id));
  EXPECT_NE(detail.find("CannotCancel"), std::string::npos) << detail;
  EXPECT_EQ(WaitForStatus(id, "Completed")["statusWithType"]["status"]["lookupName"], "Completed");
  EXPECT_EQ(Send("DELETE", TaskPath(id)).status, 200);
}

TEST_F(Oracle, AnotherClientsTaskAnswersAsAMissingOneAndTheAdminSeesBoth) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-tenants");
  std::string b_id = CreateClient("oracle b", "oracle b client secret");
  ASSERT_FALSE(b_id.empty());
  auto b = BasicAuth(b_id, "oracle b client secret");
  auto a_task = Create({{"name", "a's task"}});
  auto b_task = Create({{"name", "b's task"}}, b);
  ASSERT_NE(a_task, 0);
  ASSERT_NE(b_task, 0);
  ASSERT_TRUE(testing::PollUntil(
      [&] { return Get(TaskPath(a_task)).status == 200 && Get(TaskPath(b_task), b).status == 200; },
      60s))
      << worker->Log();
  auto a_note = Post(TaskPath(a_task) + "/notes", {{"text", "a's note"}});
  ASSERT_EQ(a_note.status, 201) << a_note.body.dump();
  auto note = "/notes/" + std::to_string(a_note.body["id"].get<std::int64_t>());
  ASSERT_TRUE(testing::PollUntil([&] { return Get(TaskPath(a_task) + note).status == 200; }, 60s));

  // B: every path of A's task answers exactly as that of a task that does not exist.
  const std::int64_t missing = 999999999;
  struct Try {
    std::string method, suffix, body;
  };
  for (const auto& t :
       {Try{"GET", "", ""}, Try{"PATCH", "", R"({"name": "b was here"})"}, Try{"DELETE", "", ""},
        Try{"POST", "/notes", R"({"text": "b's note"})"}, Try{"GET", "/notes", ""},
        Try{"GET", note, ""}, Try{"GET", "/fileAttachments", ""}}) {
    SCOPED_TRACE(t.method + " " + t.suffix);
    auto theirs = ExpectProblem(Send(t.method, TaskPath(a_task) + t.suffix, t.body, {}, b), 404,
                                "OSC-CREST-00013", TaskPath(a_task) + t.suffix);
    auto none = ExpectProblem(Send(t.method, TaskPath(missing) + t.suffix, t.body, {}, b), 404,
                              "OSC-CREST-00013", TaskPath(missing) + t.suffix);
    auto number = std::to_string(a_task);
    ASSERT_NE(theirs.find(number), std::string::npos) << theirs;
    EXPECT_EQ(theirs.replace(theirs.find(number), number.size(), std::to_string(missing)), none);
  }
  // Refused before anything was published: A's task is as it was.
  EXPECT_EQ(Get(TaskPath(a_task)).body["name"], "a's task");
  EXPECT_TRUE(CountBecomes("SELECT count(*) FROM task_notes", 1));
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE deleted_at IS NOT NULL"), 0);

  // Each client lists only its own tasks, whatever it asks for.
  auto a_list = Get(std::string(kTasks) + "?totalResults=true");
  EXPECT_EQ(a_list.body["totalResults"], 1) << a_list.body.dump();
  EXPECT_EQ(a_list.body["items"][0]["id"], a_task);
  auto b_list = Get(std::string(kTasks) + "?totalResults=true", b);
  EXPECT_EQ(b_list.body["totalResults"], 1) << b_list.body.dump();
  EXPECT_EQ(b_list.body["items"][0]["id"], b_task);
  auto b_asks_for_a = Get(
      std::string(kTasks) + "?totalResults=true&q=" + Encode("id = " + std::to_string(a_task)), b);
  EXPECT_EQ(b_asks_for_a.body["totalResults"], 0) << b_asks_for_a.body.dump();

  // The tasks, and A's note, were recorded as their client's.
  EXPECT_TRUE(CountBecomes("SELECT count(*) FROM tasks WHERE number = " + std::to_string(a_task) +
                               " AND client_id = '" + client_id_ +
                               "' AND created_by = 'client:" + client_id_ + "'",
                           1));
  EXPECT_TRUE(CountBecomes("SELECT count(*) FROM tasks WHERE number = " + std::to_string(b_task) +
                               " AND client_id = '" + b_id + "' AND created_by = 'client:" + b_id +
                               "'",
                           1));
  EXPECT_TRUE(CountBecomes(
      "SELECT count(*) FROM task_notes WHERE created_by = 'client:" + client_id_ + "'", 1));

  // The admin key sees and changes both; its change is recorded as the admin's.
  auto all = Get(std::string(kTasks) + "?totalResults=true&orderBy=id", AdminAuth());
  ASSERT_EQ(all.status, 200) << all.body.dump();
  EXPECT_EQ(all.body["totalResults"], 2);
  EXPECT_EQ(all.body["items"][0]["id"], a_task);
  EXPECT_EQ(all.body["items"][1]["id"], b_task);
  EXPECT_EQ(Get(TaskPath(b_task), AdminAuth()).body["name"], "b's task");
  EXPECT_EQ(Get(TaskPath(a_task) + note, AdminAuth()).status, 200);
  EXPECT_EQ(Send("PATCH", TaskPath(a_task), R"({"name": "renamed by the admin"})", {}, AdminAuth())
                .status,
            200);
  ASSERT_TRUE(testing::PollUntil(
      [&] { return Get(TaskPath(a_task)).body["name"] == "renamed by the admin"; }, 60s))
      << worker->Log();
  EXPECT_TRUE(CountBecomes("SELECT count(*) FROM tasks WHERE number = " + std::to_string(a_task) +
                               " AND modified_by LIKE 'admin:%'",
                           1));
}

TEST_F(Oracle, AnAdminKeysTaskIsASystemTaskThatNoClientSees) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-oracle-system");
  auto id = Create({{"name", "nightly maintenance"}}, AdminAuth());
  ASSERT_NE(id, 0);
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        auto a = Get(TaskPath(id), AdminAuth());
        return a.status == 200 && a.body["statusWithType"]["status"]["lookupName"] == "Completed";
      },
      60s))
      << worker->Log();
  ExpectProblem(Get(TaskPath(id)), 404, "OSC-CREST-00013", TaskPath(id));
  EXPECT_EQ(Get(std::string(kTasks) + "?totalResults=true").body["totalResults"], 0);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE number = " + std::to_string(id) +
                  " AND client_id IS NULL AND created_by LIKE 'admin:%'"),
            1);
}

}  // namespace
}  // namespace conveyor

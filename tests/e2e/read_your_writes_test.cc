// End to end (label: e2e): read your own writes in every dialect (docs/adr/0006). Two
// producers behind a round-robin client and no worker at all while the client works, so
// that no command is applied: every create is followed at once by reads, updates, stops and
// deletes of the task it handed out, sent to the other producer. None may answer 404 or
// null, each read shows the client's last write, and once a worker has applied everything
// each task is as the client last wrote it.
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kRounds = 60;  // per dialect
constexpr char kAccountTasks[] = "/api/v2/admin/tasks/account";
constexpr char kAgent[] = "/api/v1/Agents/Batch/";
constexpr char kOracleTasks[] = "/services/rest/connect/v1.4/tasks";

struct Answer {
  int status = 0;
  json body;
  std::string raw;
};

class ReadYourWrites : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    producers_.push_back(StartProducer(testing::KafkaBrokers()));
    ports_.push_back(port_);
    producers_.push_back(StartProducer(testing::KafkaBrokers()));
    ports_.push_back(port_);
  }

  // Sends to the producers in turn, as a round-robin load balancer would.
  Answer Send(const std::string& method, const std::string& path, const json& body = nullptr,
              httplib::Headers headers = {}) {
    port_ = ports_[next_++ % ports_.size()];
    auto c = Http();
    auto text = body.is_null() ? std::string() : body.dump();
    auto r = method == "GET"      ? c.Get(path.c_str(), headers)
             : method == "PUT"    ? c.Put(path.c_str(), headers, text, "application/json")
             : method == "PATCH"  ? c.Patch(path.c_str(), headers, text, "application/json")
             : method == "DELETE" ? c.Delete(path.c_str(), headers)
                                  : c.Post(path.c_str(), headers, text, "application/json");
    Answer a;
    if (!r) return a;
    a.status = r->status;
    a.raw = r->body;
    a.body = json::parse(r->body, nullptr, false);
    return a;
  }

  // Starts a worker and waits until it applied every accepted command.
  void ApplyEverything() {
    worker_ = StartWorker("e2e-ryw");
    EXPECT_TRUE(testing::PollUntil(
        [&] { return Count("SELECT count(*) FROM accepted_tasks") == 0; }, 60s, 50ms))
        << Count("SELECT count(*) FROM accepted_tasks") << " commands not applied";
    EXPECT_EQ(Count("SELECT count(*) FROM accepted_notes"), 0);
  }

  std::vector<std::unique_ptr<testing::ChildProcess>> producers_;
  std::vector<int> ports_;
  std::size_t next_ = 0;
  std::unique_ptr<testing::ChildProcess> worker_;
};

#define EXPECT_ANSWER(answer, code) EXPECT_EQ((answer).status, code) << (answer).raw

TEST_F(ReadYourWrites, TwoSmsCreateThenReadUpdateListAndDeleteAtOnceThroughEitherProducer) {
  std::map<std::string, std::string> last_parameters;  // live tasks by id
  for (int i = 0; i < kRounds; ++i) {
    auto created = Send("POST", kAccountTasks, SeedRequest());
    ASSERT_EQ(created.status, 200) << created.raw;
    auto id = created.body["ResponseData"]["Detail"]["ID"].get<std::string>();
    auto path = std::string(kAccountTasks) + "/" + id;
    EXPECT_ANSWER(Send("GET", path), 200);
    auto update = SeedRequest();
    update["Parameters"] = json{{"round", i}}.dump();
    EXPECT_ANSWER(Send("PUT", path, update), 200);
    auto read = Send("GET", path);
    ASSERT_EQ(read.status, 200) << read.raw;
    EXPECT_EQ(read.body["ResponseData"]["Detail"]["Parameters"], update["Parameters"]);
    if (i % 3 == 0) {
      EXPECT_ANSWER(Send("DELETE", path), 200);
      EXPECT_ANSWER(Send("GET", path), 404);
    } else {
      last_parameters[id] = update["Parameters"];
    }
  }
  auto list = Send("GET", std::string(kAccountTasks) + "?page=1&pageSize=200");
  ASSERT_EQ(list.status, 200) << list.raw;
  EXPECT_EQ(list.body["ResponseData"]["Detail"].size(), last_parameters.size()) << list.raw;

  ApplyEverything();
  for (const auto& [id, parameters] : last_parameters) {
    auto read = Send("GET", std::string(kAccountTasks) + "/" + id);
    ASSERT_EQ(read.status, 200) << read.raw;
    EXPECT_EQ(read.body["ResponseData"]["Detail"]["Parameters"], parameters);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE deleted_at IS NULL"),
            static_cast<long long>(last_parameters.size()));
}

TEST_F(ReadYourWrites, SuperOfficeStartThenGetUpdateStopAndDeleteAtOnceThroughEitherProducer) {
  std::map<long long, std::string> last_description;
  std::set<long long> stopped;
  for (int i = 0; i < kRounds; ++i) {
    auto started = Send("POST", std::string(kAgent) + "StartBatchJob",
                        {{"BatchTaskInfo", {{"Name", "sleep"}, {"AssociateId", 7}}}});
    ASSERT_EQ(started.status, 200) << started.raw;
    auto id = started.body.get<long long>();
    auto info = Send("POST", std::string(kAgent) + "GetBatchTaskInfo", {{"Id", id}});
    ASSERT_EQ(info.status, 200) << info.raw;
    ASSERT_TRUE(info.body.is_object()) << "null right after StartBatchJob: " << info.raw;
    EXPECT_EQ(info.body["State"], "New");
    auto description = "round " + std::to_string(i);
    auto updated = Send("POST", std::string(kAgent) + "UpdateBatchTask",
                        {{"BatchTaskInfo", {{"Id", id}, {"Description", description}}}});
    ASSERT_TRUE(updated.body.is_object()) << updated.raw;
    info = Send("POST", std::string(kAgent) + "GetBatchTaskInfo", {{"Id", id}});
    ASSERT_TRUE(info.body.is_object()) << info.raw;
    EXPECT_EQ(info.body["Description"], description);
    if (i % 3 == 0) {
      EXPECT_ANSWER(Send("POST", std::string(kAgent) + "DeleteBatchTask", {{"BatchTaskId", id}}),
                    204);
      EXPECT_EQ(Send("POST", std::string(kAgent) + "GetBatchTaskInfo", {{"Id", id}}).body, json());
      continue;
    }
    if (i % 3 == 1) {
      auto stop = Send("POST", std::string(kAgent) + "StopBatchJob", {{"Id", id}});
      EXPECT_EQ(stop.body, true) << stop.raw;
      stopped.insert(id);
    }
    last_description[id] = description;
  }
  ApplyEverything();
  for (const auto& [id, description] : last_description) {
    json info;
    // A stopped task ends Failed (its queued run cancelled); the others run their sleep.
    std::string final_state = stopped.contains(id) ? "Failed" : "Succeeded";
    EXPECT_TRUE(testing::PollUntil(
        [&] {
          info = Send("POST", std::string(kAgent) + "GetBatchTaskInfo", {{"Id", id}}).body;
          return info.is_object() && info["State"] == final_state;
        },
        60s, 50ms))
        << id << ": " << info.dump();
    EXPECT_EQ(info["Description"], description);
    if (stopped.contains(id)) {
      // The stop wins the race with the worker or it does not: the run was cancelled
      // before it started, or it started and stopped at its next step.
      auto started = info["StartCount"].get<int>();
      EXPECT_LE(started, 1) << info.dump();
      if (started == 1) {
        EXPECT_NE(info["Result"].get<std::string>().find("stop requested"), std::string::npos)
            << info.dump();
      }
    }
  }
}

TEST_F(ReadYourWrites, OracleCreateThenGetPatchByOverrideNoteAndDeleteAtOnceThroughEitherProducer) {
  const httplib::Headers oracle_client = {
      {"OSvC-CREST-Application-Context", "e2e read-your-writes"}};
  std::map<long long, std::string> last_name;
  for (int i = 0; i < kRounds; ++i) {
    auto created =
        Send("POST", kOracleTasks,
             {{"name", "created " + std::to_string(i)}, {"taskType", {{"lookupName", "noop"}}}},
             oracle_client);
    ASSERT_EQ(created.status, 201) << created.raw;
    auto id = created.body["id"].get<long long>();
    auto path = std::string(kOracleTasks) + "/" + std::to_string(id);
    EXPECT_ANSWER(Send("GET", path, nullptr, oracle_client), 200);
    auto name = "patched " + std::to_string(i);
    auto override_header = oracle_client;
    override_header.emplace("X-HTTP-Method-Override", "PATCH");
    EXPECT_ANSWER(Send("POST", path, {{"name", name}}, override_header), 200);
    auto read = Send("GET", path, nullptr, oracle_client);
    ASSERT_EQ(read.status, 200) << read.raw;
    EXPECT_EQ(read.body["lookupName"], name);
    EXPECT_ANSWER(Send("POST", path + "/notes", {{"text", "note " + std::to_string(i)}}), 201);
    auto notes = Send("GET", path + "/notes");
    ASSERT_EQ(notes.status, 200) << notes.raw;
    EXPECT_EQ(notes.body["items"].size(), 1u) << notes.raw;
    if (i % 3 == 0) {
      EXPECT_ANSWER(Send("DELETE", path), 200);
      EXPECT_ANSWER(Send("GET", path), 404);
      continue;
    }
    last_name[id] = name;
  }
  ApplyEverything();
  for (const auto& [id, name] : last_name) {
    auto read = Send("GET", std::string(kOracleTasks) + "/" + std::to_string(id));
    ASSERT_EQ(read.status, 200) << read.raw;
    EXPECT_EQ(read.body["lookupName"], name);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM task_notes"), kRounds);
}

}  // namespace
}  // namespace conveyor

// End to end (label: e2e) for rebuild by replay (docs/integrations.md): after a mixed workload
// in the three dialects (creates, bulk creates, updates that disable and enable, stops of
// running tasks and runs again, deletes, notes, a recurring schedule), `conveyor-worker
// --rebuild` replays the commands topic and the journal into a second, empty database, which
// then holds the same rows as the first, table by table and column by column, but for the
// inbox's applied_at (when the replay applied each command).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "conveyor/time_format.h"
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kNoop[] = "00000000-0000-0000-0000-000000000001";
constexpr char kSleep[] = "00000000-0000-0000-0000-000000000002";
constexpr char kAccountTasks[] = "/api/v2/admin/tasks/account";
constexpr char kAgent[] = "/api/v1/Agents/Batch/";
constexpr char kOracleTasks[] = "/services/rest/connect/v1.4/tasks";

// The tables a rebuild makes again, each with the key its rows are compared in the order of.
const std::vector<std::pair<std::string, std::string>> kRebuiltTables = {
    {"tasks", "id"},          {"runs", "id"},        {"task_notes", "id"},
    {"schedules", "task_id"}, {"inbox", "event_id"},
};

class Rebuilds : public testing::E2eTest {
 protected:
  json Account(const char* type, const json& parameters, bool enabled = true) {
    return {{"TaskID", type},
            {"Frequency", 0},
            {"Parameters", parameters.dump()},
            {"ContentType", "application/json"},
            {"Notification", 3},
            {"Enabled", enabled}};
  }

  int Put(const std::string& id, const json& body) {
    auto r = Http().Put(std::string("/api/v1/admin/tasks/account/") + id, body.dump(),
                        "application/json");
    return r ? r->status : 0;
  }

  int Send(const std::string& method, const std::string& path, const json& body) {
    auto c = Http();
    auto r = method == "PATCH" ? c.Patch(path, body.dump(), "application/json")
             : method == "PUT" ? c.Put(path, body.dump(), "application/json")
                               : c.Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r && r->status < 300) << method << " " << path << ": " << (r ? r->body : "");
    return r ? r->status : 0;
  }

  json Json(const std::string& method, const std::string& path, const json& body) {
    auto r = Http().Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r && r->status < 300) << method << " " << path << ": " << (r ? r->body : "");
    return r ? json::parse(r->body, nullptr, false) : json();
  }

  bool RunIs(const std::string& where, const std::string& state) {
    return PollUntil([&] {
      return Count("SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE " + where +
                   " AND r.state = '" + state + "'") > 0;
    });
  }

  static bool PollUntil(const std::function<bool()>& done) {
    return testing::PollUntil(done, 60s, 50ms);
  }

  // TwoSms: a bulk create, updates (every other one disabling), deletes; a sleep stopped by
  // a disabling update and enabled again, so that it runs anew.
  void TwoSms() {
    json tasks = json::array();
    for (int i = 0; i < 300; ++i) tasks.push_back(Account(kNoop, {{"i", i}}));
    auto bulk = Json("POST", std::string(kAccountTasks) + "/bulk", {{"Tasks", tasks}});
    std::vector<std::string> ids;
    for (const auto& item : bulk["ResponseData"]["Detail"])
      ids.push_back(item["ID"].get<std::string>());
    ASSERT_EQ(ids.size(), 300u);
    for (int i = 0; i < 40; ++i)
      EXPECT_EQ(Put(ids[i], Account(kNoop, {{"updated", i}}, i % 2 == 0)), 200);
    for (int i = 40; i < 70; ++i)
      EXPECT_EQ(Http().Delete(std::string(kAccountTasks) + "/" + ids[i])->status, 200);
    auto sleeper = CreateTask(Account(kSleep, {{"seconds", 30}}));
    ASSERT_TRUE(RunIs("t.id = '" + sleeper + "'", "started"));
    EXPECT_EQ(Put(sleeper, Account(kSleep, {{"seconds", 30}}, false)), 200);
    ASSERT_TRUE(RunIs("t.id = '" + sleeper + "'", "cancelled"));
    EXPECT_EQ(Put(sleeper, Account(kSleep, {{"seconds", 0.1}}, true)), 200);
    ASSERT_TRUE(RunIs("t.id = '" + sleeper + "'", "succeeded"));
  }

  // SuperOffice: batch jobs that succeed, and one stopped, run again and stopped again.
  void SuperOffice() {
    for (int i = 0; i < 3; ++i)
      Json("POST", std::string(kAgent) + "StartBatchJob",
           {{"BatchTaskInfo",
             {{"Name", "sleep"},
              {"AssociateId", i},
              {"Request", "r"},
              {"ParameterObject", {{"seconds", 0.1}}}}}});
    auto id = Json(
        "POST", std::string(kAgent) + "StartBatchJob",
        {{"BatchTaskInfo",
          {{"Name", "sleep"}, {"Description", "long"}, {"ParameterObject", {{"seconds", 30}}}}}});
    ASSERT_TRUE(id.is_number_integer()) << id.dump();
    auto number = "t.number = " + std::to_string(id.get<long long>());
    auto stop = json{{"BatchTaskInfo", {{"Id", id}, {"State", "Failed"}}}};
    ASSERT_TRUE(RunIs(number, "started"));
    Send("POST", std::string(kAgent) + "UpdateBatchTask", stop);
    ASSERT_TRUE(RunIs(number, "cancelled"));
    Send("PUT", "/api/v1/BatchTask/" + std::to_string(id.get<long long>()),
         {{"State", "New"}, {"Response", "again"}});
    ASSERT_TRUE(PollUntil([&] {
      return Count("SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE " + number +
                   " AND r.state = 'started'") == 1;
    }));
    Send("POST", std::string(kAgent) + "UpdateBatchTask", stop);
  }

  // Oracle: tasks with notes, and a running one deferred (stopped).
  void Oracle() {
    for (int i = 0; i < 3; ++i) {
      auto created = Json("POST", kOracleTasks, {{"name", "with notes " + std::to_string(i)}});
      auto path = std::string(kOracleTasks) + "/" + std::to_string(created["id"].get<long long>());
      Send("POST", path + "/notes", {{"text", "first"}});
      Send("POST", path + "/notes", {{"text", "second"}});
      Send("PATCH", path, {{"name", "renamed " + std::to_string(i)}});
    }
    auto deferred = Json("POST", kOracleTasks,
                         {{"name", "to defer"},
                          {"taskType", {{"id", 2}}},
                          {"customFields", {{"c", {{"parameters", {{"seconds", 30}}}}}}}});
    auto number = "t.number = " + std::to_string(deferred["id"].get<long long>());
    ASSERT_TRUE(RunIs(number, "started"));
    Send("PATCH", std::string(kOracleTasks) + "/" + std::to_string(deferred["id"].get<long long>()),
         {{"statusWithType", {{"status", {{"lookupName", "Deferred"}}}}}});
  }

  // A recurring task that fires three times, two seconds apart.
  std::string Recurring() {
    auto start = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + 3s;
    auto at = [](auto t) {
      return FormatRfc3339(
          Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch())));
    };
    auto body = Account(kNoop, json::object());
    body["StartDate"] = at(start);
    body["FinishDate"] = at(start + 4500ms);
    body["Recurrence"] = "FREQ=SECONDLY;INTERVAL=2";
    return CreateTask(body);
  }

  // Nothing left to happen: no run live, the schedule done, every command applied, the
  // outbox (and with it the journal) relayed.
  bool Quiet(const std::string& recurring) {
    return PollUntil([&] {
      return Count("SELECT count(*) FROM runs WHERE finished_at IS NULL") == 0 &&
             Count("SELECT count(*) FROM schedules WHERE task_id = '" + recurring +
                   "' AND next_due_at IS NULL") == 1 &&
             Count("SELECT count(*) FROM inbox") == testing::MessageCount(commands_) &&
             Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0;
    });
  }

  // Runs `conveyor-worker --rebuild` into `url`; its exit status, and its log in `log`.
  int RunRebuild(const std::string& url, std::string& log) {
    auto log_path = testing::UniqueName("/tmp/conveyor-rebuild-") + ".log";
    std::string cmd = std::string(CONVEYOR_WORKER_BIN) + " --rebuild --name=e2e-rebuild" +
                      " --kafka-brokers=" + testing::KafkaBrokers() + " --pg-url='" + url + "'" +
                      " --commands-topic=" + commands_ + " --journal-topic=" + journal_ +
                      " --dlq-topic=" + dlq_ + " 2>" + log_path + " >/dev/null";
    int status = std::system(cmd.c_str());
    std::ifstream in(log_path);
    log.assign(std::istreambuf_iterator<char>(in), {});
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Each row of `table` as JSON text, but `applied_at`, in the order of `key`.
  static std::vector<std::string> Rows(const std::string& url, const std::string& table,
                                       const std::string& key) {
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    std::vector<std::string> rows;
    for (const auto& r :
         tx.exec("SELECT (to_jsonb(x) - 'applied_at')::text FROM " + table + " x ORDER BY " + key))
      rows.push_back(r[0].c_str());
    return rows;
  }
};

TEST_F(Rebuilds, ASecondDatabaseRebuiltFromTheCommandsAndTheJournalEqualsTheFirst) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto one = StartWorker("e2e-rebuild-1");
  auto two = StartWorker("e2e-rebuild-2");
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheWorkersConsume());
  auto recurring = Recurring();
  TwoSms();
  SuperOffice();
  Oracle();
  ASSERT_TRUE(Quiet(recurring)) << one->Log() << two->Log();
  EXPECT_EQ(one->Stop(SIGTERM), 0);
  EXPECT_EQ(two->Stop(SIGTERM), 0);
  // Three due times, two seconds apart; a scheduler pass more than two seconds late would fire
  // two of them as one (catch-up), which the rebuild must reproduce all the same.
  EXPECT_GE(Count("SELECT count(*) FROM runs WHERE task_id = '" + recurring + "'"), 2);
  EXPECT_GE(Count("SELECT count(*) FROM runs WHERE state = 'cancelled'"), 3);
  EXPECT_GE(Count("SELECT count(*) FROM task_notes"), 6);

  testing::ScratchDatabase rebuilt;
  std::string log;
  ASSERT_EQ(RunRebuild(rebuilt.url(), log), 0) << log;
  EXPECT_NE(log.find("rebuilt:"), std::string::npos) << log;
  for (const auto& [table, key] : kRebuiltTables) {
    auto original = Rows(db_.url(), table, key);
    auto copy = Rows(rebuilt.url(), table, key);
    ASSERT_FALSE(original.empty()) << table;
    ASSERT_EQ(copy.size(), original.size()) << table;
    for (std::size_t i = 0; i < original.size(); ++i)
      ASSERT_EQ(copy[i], original[i]) << table << " row " << i;
  }
  // Nothing to publish again: the notifications went out when the runs ended.
  EXPECT_EQ(rebuilt.Count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(Rebuilds, ADatabaseThatHoldsTasksIsRefused) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-rebuild-refused");
  auto id = CreateTask(SeedRequest());
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();
  std::string log;
  EXPECT_EQ(RunRebuild(db_.url(), log), 1) << log;
  EXPECT_NE(log.find("already holds tasks"), std::string::npos) << log;
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 1);
}

// A relay writing to a topic that does not exist would hold up every later event of the tasks
// whose records wait for it: the worker does not start, and says which flag names it.
TEST_F(Rebuilds, AWorkerWhoseJournalTopicDoesNotExistDoesNotStart) {
  journal_ += ".missing";
  auto worker = StartWorker("e2e-no-journal");
  EXPECT_TRUE(PollUntil([&] { return !worker->running(); })) << worker->Log();
  ASSERT_TRUE(WIFEXITED(worker->status()));
  EXPECT_EQ(WEXITSTATUS(worker->status()), 2);
  EXPECT_NE(worker->Log().find("--journal-topic " + journal_ + ": the topic does not exist"),
            std::string::npos)
      << worker->Log();
}

}  // namespace
}  // namespace conveyor

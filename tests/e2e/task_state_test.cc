// End to end (label: e2e) for the compacted task-state topic (docs/events.md, conveyor.tasks):
// after a mixed workload through the API (creates, updates that change parameters and
// disable, deletes), a copy made by reading the topic from its beginning, as an integration
// makes one, holds exactly the tasks the API shows, each as the API shows it.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <set>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kNoop[] = "00000000-0000-0000-0000-000000000001";
constexpr std::size_t kBulkSize = 1000;  // the bulk endpoint's limit
constexpr std::size_t kBulks = 2;
constexpr std::size_t kUpdated = 200;  // the first tasks get an update, every other one disabled
constexpr std::size_t kDeleted = 200;  // the next ones are deleted

class TaskStates : public testing::E2eTest {
 protected:
  std::vector<std::string> CreateBulk(std::size_t bulk) {
    json tasks = json::array();
    for (std::size_t i = 0; i < kBulkSize; ++i)
      tasks.push_back({{"TaskID", kNoop},
                       {"Frequency", 0},
                       {"Parameters", json{{"bulk", bulk}, {"i", i}}.dump()},
                       {"ContentType", "application/json"},
                       {"Notification", 0}});
    auto r = Http().Post("/api/v2/admin/tasks/account/bulk", json{{"Tasks", tasks}}.dump(),
                         "application/json");
    std::vector<std::string> ids;
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r || r->status != 200) return ids;
    auto answer = json::parse(r->body);
    for (const auto& item : answer["ResponseData"]["Detail"])
      ids.push_back(item["ID"].get<std::string>());
    return ids;
  }

  int Update(const std::string& id, std::size_t i) {
    json body = {{"TaskID", kNoop},
                 {"Frequency", 0},
                 {"Parameters", json{{"updated", i}}.dump()},
                 {"ContentType", "application/json"},
                 {"Notification", 0},
                 {"Enabled", i % 2 == 0}};
    auto r = Http().Put("/api/v1/admin/tasks/account/" + id, body.dump(), "application/json");
    return r ? r->status : 0;
  }

  struct Workload {
    std::set<std::string> shown;    // the tasks the API shows afterwards
    std::set<std::string> deleted;  // the ones deleted
  };
  // `bulks` bulk creates of 1,000 tasks; the first `updated` get an update (every other one
  // disabled), the next `deleted` are deleted; while the workers run them.
  Workload RunMixedWorkload(std::size_t bulks, std::size_t updated, std::size_t deleted) {
    Workload w;
    std::vector<std::string> ids;
    for (std::size_t bulk = 0; bulk < bulks; ++bulk)
      for (auto& id : CreateBulk(bulk)) ids.push_back(std::move(id));
    EXPECT_EQ(ids.size(), bulks * kBulkSize);
    if (ids.size() < updated + deleted) return w;
    for (std::size_t i = 0; i < updated; ++i) EXPECT_EQ(Update(ids[i], i), 200) << ids[i];
    for (std::size_t i = updated; i < updated + deleted; ++i) {
      auto r = Http().Delete("/api/v2/admin/tasks/account/" + ids[i]);
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
      w.deleted.insert(ids[i]);
    }
    w.shown.insert(ids.begin(), ids.end());
    for (const auto& id : w.deleted) w.shown.erase(id);
    return w;
  }

  // Until every command is applied, every run ended and every event relayed.
  void WaitUntilQuiet() {
    long long accepted = -1, unfinished = -1, unsent = -1;
    bool quiet = testing::PollUntil(
        [&] {
          // A producer's record of a command is ahead of the projection until a worker
          // applied it (docs/adr/0006).
          accepted = Count(
              "SELECT count(*) FROM accepted_tasks a LEFT JOIN tasks t ON t.id = a.id "
              "WHERE t.id IS NULL OR a.command_offset > t.command_offset");
          unfinished = Count("SELECT count(*) FROM runs WHERE finished_at IS NULL");
          unsent = Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL");
          return accepted == 0 && unfinished == 0 && unsent == 0;
        },
        120s, 50ms);
    ASSERT_TRUE(quiet) << accepted << " commands not applied, " << unfinished << " runs not ended, "
                       << unsent << " events not relayed";
  }

  // What an integration keeps of the topic: the latest value of each key; a tombstone drops
  // the key. Reads until it has `expected` messages.
  std::map<std::string, json> Materialize(std::size_t expected) {
    testing::TopicReader reader(tasks_);
    auto all = reader.ReadUntil([&](auto& got) { return got.size() >= expected; }, 60s);
    EXPECT_EQ(all.size(), expected);
    std::map<std::string, json> copy;
    for (const auto& m : all) {
      if (m.tombstone) {
        copy.erase(m.key);
        continue;
      }
      auto event = json::parse(m.value);
      EXPECT_EQ(event["subject"], m.key);
      copy[m.key] = event["data"];
    }
    return copy;
  }

  // The TwoSms Status of a run state (producer/dialects/twosms/codec.cc, StatusOf).
  static std::string TwoSmsStatus(const json& last_run) {
    if (last_run.is_null()) return "Idle";
    static const std::map<std::string, std::string> names = {
        {"queued", "Queued"},       {"acquired", "Running"},    {"started", "Running"},
        {"retry_wait", "Retrying"}, {"succeeded", "Succeeded"}, {"failed", "Failed"},
        {"cancelled", "Cancelled"}};
    return names.at(last_run["state"].get<std::string>());
  }

  // Every field the TwoSms answer shows that the state carries, compared.
  void ExpectTheApiShows(const std::string& id, const json& state) {
    auto answer = GetTask(id);
    ASSERT_TRUE(answer.is_object() && answer["ResponseData"].is_object()) << id << ": " << answer;
    const auto& d = answer["ResponseData"]["Detail"];
    const auto& task = state["task"];
    EXPECT_EQ(d["ID"], task["id"]);
    EXPECT_EQ(d["TaskID"], task["task_type_id"]) << id;
    EXPECT_EQ(d["Name"], state["type_name"]) << id;
    EXPECT_EQ(d["Enabled"], task["enabled"]) << id;
    EXPECT_EQ(d["Frequency"], task["frequency"]) << id;
    EXPECT_EQ(d["Parameters"], task["parameters"]) << id;
    EXPECT_EQ(d["ContentType"], task["content_type"]) << id;
    EXPECT_EQ(d["Notification"], task["notification"]) << id;
    EXPECT_EQ(d["ClientID"], task["client_id"]) << id;
    EXPECT_EQ(d["LastModifiedBy"], state["modified_by"]) << id;
    EXPECT_EQ(d["Status"], TwoSmsStatus(state["last_run"])) << id << ": " << state;
    const auto& run = state["last_run"];
    bool ran = run.is_object() && !run["started_at"].is_null();
    EXPECT_EQ(d["LastRunBy"], ran ? run["worker"] : json()) << id;
  }
};

TEST_F(TaskStates, ACopyReadFromTheTopicHoldsExactlyTheTasksTheApiShowsAfterAMixedWorkload) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto a = StartWorker("e2e-state-a");
  auto b = StartWorker("e2e-state-b");
  auto work = RunMixedWorkload(kBulks, kUpdated, kDeleted);
  ASSERT_NO_FATAL_FAILURE(WaitUntilQuiet());
  auto written = Count("SELECT count(*) FROM outbox WHERE topic = '" + tasks_ + "'");
  auto copy = Materialize(static_cast<std::size_t>(written));

  std::set<std::string> held;
  for (const auto& [key, state] : copy) held.insert(key);
  EXPECT_EQ(held, work.shown);
  for (const auto& [key, state] : copy) ExpectTheApiShows(key, state);
  for (const auto& id : work.deleted)
    EXPECT_EQ(Http().Get("/api/v2/admin/tasks/account/" + id)->status, 404);
  std::size_t disabled = 0;
  for (const auto& [key, state] : copy) disabled += state["task"]["enabled"] == false;
  EXPECT_EQ(disabled, kUpdated / 2);
}

// The example integration (examples/integration/conveyor_tasks_copy.py), started before the
// workload and left running, holds in its own store what the API shows once the work is done.
TEST_F(TaskStates, ThePythonExampleKeepsACopyInSyncWithTheApi) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-state-py");
  std::string script =
      std::string(CONVEYOR_SOURCE_DIR) + "/examples/integration/conveyor_tasks_copy.py";
  std::string store = testing::UniqueName("/tmp/conveyor-tasks-copy-") + ".db";
  testing::ChildProcess copier(
      {"/usr/bin/python3", script, "sync", "--brokers=" + testing::KafkaBrokers(),
       "--topic=" + tasks_, "--group=" + tasks_, "--store=" + store},
      {}, store + ".log");
  auto work = RunMixedWorkload(1, 60, 40);
  ASSERT_NO_FATAL_FAILURE(WaitUntilQuiet());

  std::map<std::string, json> copy;
  auto in_sync = testing::PollUntil(
      [&] {
        copy.clear();
        std::string cmd = "/usr/bin/python3 " + script + " dump --store=" + store;
        if (FILE* f = popen(cmd.c_str(), "r")) {
          std::string line;
          for (int c; (c = fgetc(f)) != EOF;) {
            if (c != '\n') {
              line += static_cast<char>(c);
              continue;
            }
            auto row = json::parse(line, nullptr, false);
            if (row.is_object()) copy[row["id"].get<std::string>()] = row["state"];
            line.clear();
          }
          pclose(f);
        }
        std::set<std::string> held;
        for (const auto& [key, state] : copy) held.insert(key);
        return held == work.shown && std::ranges::all_of(copy, [](const auto& kv) {
                 return kv.second["last_run"].is_object() &&
                        kv.second["last_run"]["finished_at"].is_string();
               });
      },
      60s, 200ms);
  ASSERT_TRUE(in_sync) << copy.size() << " tasks in the copy, " << work.shown.size()
                       << " shown by the API\n"
                       << copier.Log();
  for (const auto& [key, state] : copy) ExpectTheApiShows(key, state);
  EXPECT_EQ(copier.Stop(SIGTERM), 0) << copier.Log();
  std::remove(store.c_str());
}

}  // namespace
}  // namespace conveyor

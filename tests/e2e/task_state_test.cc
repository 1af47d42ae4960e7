// End to end (label: e2e) for the compacted task-state topic (docs/events.md, conveyor.tasks):
// after a mixed workload through the API (creates, updates that change parameters and
// disable, deletes), a copy made by reading the topic from its beginning, as an integration
// makes one, holds exactly the tasks the API shows, each as the API shows it.
#include <gtest/gtest.h>

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
  std::vector<std::string> ids;
  for (std::size_t bulk = 0; bulk < kBulks; ++bulk)
    for (auto& id : CreateBulk(bulk)) ids.push_back(std::move(id));
  ASSERT_EQ(ids.size(), kBulks * kBulkSize);
  for (std::size_t i = 0; i < kUpdated; ++i) ASSERT_EQ(Update(ids[i], i), 200) << ids[i];
  std::set<std::string> deleted;
  for (std::size_t i = kUpdated; i < kUpdated + kDeleted; ++i) {
    auto r = Http().Delete("/api/v2/admin/tasks/account/" + ids[i]);
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    deleted.insert(ids[i]);
  }

  // Quiet: every command applied, every run ended, every event relayed.
  long long accepted = -1, unfinished = -1, unsent = -1;
  bool quiet = testing::PollUntil(
      [&] {
        // A producer's record of a command is ahead of the projection until a worker applied
        // it (docs/adr/0006).
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
  auto written = Count("SELECT count(*) FROM outbox WHERE topic = '" + tasks_ + "'");
  auto copy = Materialize(static_cast<std::size_t>(written));

  std::set<std::string> expected(ids.begin(), ids.end());
  for (const auto& id : deleted) expected.erase(id);
  std::set<std::string> held;
  for (const auto& [key, state] : copy) held.insert(key);
  EXPECT_EQ(held, expected);
  for (const auto& [key, state] : copy) ExpectTheApiShows(key, state);
  for (const auto& id : deleted)
    EXPECT_EQ(Http().Get("/api/v2/admin/tasks/account/" + id)->status, 404);
  std::size_t disabled = 0;
  for (const auto& [key, state] : copy) disabled += state["task"]["enabled"] == false;
  EXPECT_EQ(disabled, kUpdated / 2);
}

}  // namespace
}  // namespace conveyor

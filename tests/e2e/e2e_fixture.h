// The end-to-end fixture (label: e2e): conveyor-producer and conveyor-worker run as processes
// against the real broker and PostgreSQL, each test with its own topics and database; tests
// talk HTTP to the producer and read PostgreSQL and the notifications topic.
//
// Authentication is on: StartProducer creates an admin key with `conveyor-producer
// create-admin-key` and, through the API, a client ("e2e") whose Basic credentials the
// helpers (Http(), Post, CreateTask, GetTask) send by default, so tasks belong to that client.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <map>
#include <pqxx/pqxx>

#include "conveyor/cloud_event.h"
#include "conveyor/dead_letter.h"
#include "conveyor/kafka.h"
#include "conveyor/pg.h"
#include "support/files.h"
#include "support/services.h"

namespace conveyor::testing {

using namespace std::chrono_literals;
using nlohmann::json;

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    commands_ = UniqueName("e2e.commands.");
    notifications_ = UniqueName("e2e.notifications.");
    dlq_ = UniqueName("e2e.dlq.");
    tasks_ = UniqueName("e2e.tasks.");
    journal_ = UniqueName("e2e.journal.");
    CreateTopics({commands_}, 3, replication_);
    CreateTopics({journal_}, 3, replication_, {{"retention.ms", "-1"}});
    CreateTopics({notifications_, dlq_}, 1, replication_);
    CreateTopics({tasks_}, 3, replication_, {{"cleanup.policy", "compact"}});
  }

  std::vector<std::string> CommonFlags(const std::string& brokers) {
    return {"--kafka-brokers=" + brokers, "--pg-url=" + db_.url(), "--commands-topic=" + commands_,
            "--notifications-topic=" + notifications_};
  }

  std::unique_ptr<ChildProcess> StartProducer(const std::string& brokers,
                                              std::vector<std::string> extra = {}) {
    port_ = FreePort();
    // The workers' group and dead-letter topic (StartWorker's), for the queue routes.
    std::vector<std::string> argv = {CONVEYOR_PRODUCER_BIN, "--http-port=" + std::to_string(port_),
                                     "--worker-group-id=" + commands_, "--dlq-topic=" + dlq_};
    for (auto& f : CommonFlags(brokers)) argv.push_back(f);
    for (auto& f : extra) argv.push_back(f);
    auto p = std::make_unique<ChildProcess>(argv, std::vector<std::string>{},
                                            UniqueName("/tmp/conveyor-producer-") + ".log");
    bool up = PollUntil(
        [&] {
          httplib::Client c("127.0.0.1", port_);
          auto r = c.Get("/healthz");
          return r && r->status == 200;
        },
        30s);
    EXPECT_TRUE(up) << "producer did not answer /healthz:\n" << p->Log();
    if (admin_key_.empty()) admin_key_ = CreateAdminKey();
    if (client_id_.empty()) {
      client_secret_ = "e2e client secret";
      client_id_ = CreateClient("e2e", client_secret_);
    }
    return p;
  }

  // `conveyor-producer create-admin-key` against the test's database: the key it printed.
  std::string CreateAdminKey(const std::string& name = "e2e") {
    std::string cmd = std::string(CONVEYOR_PRODUCER_BIN) + " create-admin-key --pg-url='" +
                      db_.url() + "' --name=" + name + " --log-level=warn";
    std::string out;
    if (FILE* f = popen(cmd.c_str(), "r")) {
      char buf[256];
      while (fgets(buf, sizeof buf, f)) out += buf;
      EXPECT_EQ(pclose(f), 0) << cmd;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    EXPECT_NE(out.find('.'), std::string::npos) << "not an admin key: " << out;
    return out;
  }

  // Creates a client through the API with the admin key; returns its ID ("" on failure).
  std::string CreateClient(const std::string& name, const std::string& secret) {
    auto r = Http(AdminAuth())
                 .Post("/api/v1/admin/clients",
                       json{{"Name", name},
                            {"Secret", secret},
                            {"UserID", "86cb791c-8078-41ae-a045-5dded04c9589"}}
                           .dump(),
                       "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r || r->status != 200) return "";
    return json::parse(r->body)["ResponseData"]["Detail"]["ID"].get<std::string>();
  }

  // The producer on a commands topic of its own that no worker reads (held_), so that a test
  // can put a create on the dead-letter topic itself (DeadLetterAHeldCreate).
  std::unique_ptr<ChildProcess> StartProducerHoldingCommands() {
    held_ = UniqueName("e2e.commands.held.");
    CreateTopics({held_}, 1, replication_);
    std::swap(commands_, held_);  // the producer publishes to the held topic...
    auto producer = StartProducer(KafkaBrokers());
    std::swap(commands_, held_);  // ... the workers read the real one
    return producer;
  }

  // Creates a task through the producer holding commands and copies its create to the
  // dead-letter topic as a worker would, with `reason` and the real commands topic as its
  // origin: the task's id, and where the dead letter is.
  std::pair<std::string, Delivery> DeadLetterAHeldCreate(const std::string& reason) {
    auto id = CreateTask(SeedRequest());
    EXPECT_FALSE(id.empty());
    TopicReader held(held_);
    auto create = held.ReadUntil([](const auto& all) { return !all.empty(); }, 30s);
    EXPECT_EQ(create.size(), 1u);
    KafkaSettings s;
    s.brokers = KafkaBrokers();
    auto raw = KafkaProducer::Create(s, "e2e-dead-letter", 10s);
    EXPECT_TRUE(raw.has_value());
    if (create.empty() || !raw) return {id, {}};
    auto dead = (*raw)->Publish({dlq_,
                                 create[0].key,
                                 create[0].value,
                                 {{kDlqReasonHeader, reason},
                                  {kDlqOriginTopicHeader, commands_},
                                  {kDlqOriginPartitionHeader, "0"},
                                  {kDlqOriginOffsetHeader, "0"}}});
    EXPECT_TRUE(dead.has_value());
    return {id, dead.value_or(Delivery{})};
  }

  std::string AdminAuth() const { return "Bearer " + admin_key_; }
  static std::string BasicAuth(const std::string& id, const std::string& secret) {
    return httplib::make_basic_authentication_header(id, secret).second;
  }
  std::string ClientAuth() const { return BasicAuth(client_id_, client_secret_); }

  // An HTTP client of the producer that sends `authorization` (the e2e client's Basic
  // credentials unless told otherwise; "" sends none).
  httplib::Client Http(std::optional<std::string> authorization = std::nullopt) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    auto header = authorization.value_or(ClientAuth());
    if (!header.empty()) c.set_default_headers({{"Authorization", header}});
    return c;
  }

  // A worker process; its /metrics, /healthz and /readyz answer on WorkerStatusPort(name).
  std::unique_ptr<ChildProcess> StartWorker(const std::string& name,
                                            std::vector<std::string> extra = {},
                                            const std::string& brokers = KafkaBrokers()) {
    int status_port = FreePort();
    worker_status_ports_[name] = status_port;
    std::vector<std::string> argv = {CONVEYOR_WORKER_BIN,
                                     "--name=" + name,
                                     "--group-id=" + commands_,
                                     "--dlq-topic=" + dlq_,
                                     "--state-topic=" + tasks_,
                                     "--journal-topic=" + journal_,
                                     "--metrics-address=127.0.0.1:" + std::to_string(status_port)};
    for (auto& f : CommonFlags(brokers)) argv.push_back(f);
    for (auto& f : extra) argv.push_back(f);
    worker_logs_.push_back(UniqueName("/tmp/conveyor-worker-") + ".log");
    return std::make_unique<ChildProcess>(argv, std::vector<std::string>{}, worker_logs_.back());
  }

  // Waits until every worker StartWorker started answers /readyz (it is in its group), then
  // runs 20 noop tasks to their end, so that every partition of the commands topic (3) has an
  // owner that consumes: a due time that waited for a partition's first assignment, or was
  // handed over by a rebalance, would find its predecessor still queued and be skipped.
  void WaitUntilTheWorkersConsume() {
    for (const auto& [name, port] : worker_status_ports_) {
      bool ready = PollUntil(
          [port = port] {
            httplib::Client c("127.0.0.1", port);
            auto r = c.Get("/readyz");
            return r && r->status == 200;
          },
          30s, 50ms);
      ASSERT_TRUE(ready) << "worker " << name << " did not answer /readyz with 200";
    }
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(CreateTask(SeedRequest()));
    for (const auto& id : ids) ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
  }

  // The seed's request (shared/seeds 001) with a registered TaskID (the built-in noop), a real
  // ContentType and Parameters, a notification asked for, and today's dates.
  json SeedRequest() {
    auto body = json::parse(ReadRepoFile("tests/golden/twosms/seed001-create-request.json"));
    body["TaskID"] = "00000000-0000-0000-0000-000000000001";
    body["ContentType"] = "application/json";
    body["Parameters"] = R"({"greeting":"hello"})";
    body["Notification"] = 1;
    body["StartDate"] = "2026-01-01T00:00:00+00:00";
    body["FinishDate"] = "2030-01-01T00:00:00+00:00";
    return body;
  }

  httplib::Result Post(const json& body, std::optional<std::string> authorization = std::nullopt) {
    return Http(std::move(authorization))
        .Post("/api/v2/admin/tasks/account", body.dump(), "application/json");
  }

  // Creates a task and returns its ID; "" (with a failure recorded) when that did not work.
  std::string CreateTask(const json& body,
                         std::optional<std::string> authorization = std::nullopt) {
    auto res = Post(body, std::move(authorization));
    EXPECT_TRUE(res) << "no answer from the producer";
    if (!res) return "";
    EXPECT_EQ(res->status, 200) << res->body;
    auto j = json::parse(res->body, nullptr, false);
    if (res->status != 200 || !j.is_object()) return "";
    return j["ResponseData"]["Detail"]["ID"].get<std::string>();
  }

  json GetTask(const std::string& id, std::optional<std::string> authorization = std::nullopt) {
    auto r = Http(std::move(authorization)).Get("/api/v2/admin/tasks/account/" + id);
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }

  std::string WaitForStatus(const std::string& id, const std::string& status) {
    std::string last;
    PollUntil(
        [&] {
          auto j = GetTask(id);
          if (j.is_object() && j["ResponseData"].is_object())
            last = j["ResponseData"]["Detail"]["Status"].get<std::string>();
          return last == status;
        },
        60s);
    return last;
  }

  // Whether Count(sql) reaches `n` within 60 s: what the API shows at once (docs/adr/0006) is
  // in the tables once a worker applied it.
  bool CountBecomes(const std::string& sql, long long n) {
    return PollUntil([&] { return Count(sql) == n; }, 60s, 20ms);
  }

  long long Count(const std::string& sql) const { return db_.Count(sql); }

  int WorkerStatusPort(const std::string& worker) const { return worker_status_ports_.at(worker); }

  int replication_ = 1;  // of the test's topics; set before SetUp (the fault tests use 3)
  ScratchDatabase db_;
  std::string commands_, notifications_, dlq_;
  std::string held_;     // StartProducerHoldingCommands's topic
  std::string tasks_;    // the compacted task-state topic every worker writes (--state-topic)
  std::string journal_;  // the journal every worker writes (--journal-topic)
  std::vector<std::string> worker_logs_;  // of every worker StartWorker started, in order
  int port_ = 0;
  std::string admin_key_;
  std::string client_id_, client_secret_;
  std::map<std::string, int> worker_status_ports_;  // by worker name (StartWorker)
};

}  // namespace conveyor::testing

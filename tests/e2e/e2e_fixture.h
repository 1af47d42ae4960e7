// The end-to-end fixture (label: e2e): conveyor-producer and conveyor-worker run as processes
// against the real broker and PostgreSQL, each test with its own topics and database; tests
// talk HTTP to the producer and read PostgreSQL and the notifications topic.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <pqxx/pqxx>

#include "conveyor/cloud_event.h"
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
    CreateTopics({commands_}, 3);
    CreateTopics({notifications_, dlq_}, 1);
  }

  std::vector<std::string> CommonFlags(const std::string& brokers) {
    return {"--kafka-brokers=" + brokers, "--pg-url=" + db_.url(), "--commands-topic=" + commands_,
            "--notifications-topic=" + notifications_};
  }

  std::unique_ptr<ChildProcess> StartProducer(const std::string& brokers,
                                              std::vector<std::string> extra = {}) {
    port_ = FreePort();
    std::vector<std::string> argv = {CONVEYOR_PRODUCER_BIN, "--http-port=" + std::to_string(port_)};
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
    return p;
  }

  std::unique_ptr<ChildProcess> StartWorker(const std::string& name,
                                            std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {CONVEYOR_WORKER_BIN, "--name=" + name,
                                     "--group-id=" + commands_, "--dlq-topic=" + dlq_};
    for (auto& f : CommonFlags(KafkaBrokers())) argv.push_back(f);
    for (auto& f : extra) argv.push_back(f);
    return std::make_unique<ChildProcess>(argv, std::vector<std::string>{},
                                          UniqueName("/tmp/conveyor-worker-") + ".log");
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

  httplib::Result Post(const json& body) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c.Post("/api/v2/admin/tasks/account", body.dump(), "application/json");
  }

  // Creates a task and returns its ID; "" (with a failure recorded) when that did not work.
  std::string CreateTask(const json& body) {
    auto res = Post(body);
    EXPECT_TRUE(res) << "no answer from the producer";
    if (!res) return "";
    EXPECT_EQ(res->status, 200) << res->body;
    auto j = json::parse(res->body, nullptr, false);
    if (res->status != 200 || !j.is_object()) return "";
    return j["ResponseData"]["Detail"]["ID"].get<std::string>();
  }

  json GetTask(const std::string& id) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/api/v2/admin/tasks/account/" + id);
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

  long long Count(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    return tx.exec1(sql)[0].as<long long>();
  }

  ScratchDatabase db_;
  std::string commands_, notifications_, dlq_;
  int port_ = 0;
};

}  // namespace conveyor::testing

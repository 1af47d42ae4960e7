// End to end (label: e2e): what an operator's probes see. The producer and a worker run as
// processes against a PostgreSQL server and a Kafka broker of the test's own, which the test
// stops and starts under them: /readyz must answer 503 naming the dependency that is away,
// /healthz must keep answering 200, and both must come back to ready without a restart.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "support/own_services.h"
#include "support/services.h"
#include "support/wait.h"

namespace conveyor::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Probe {
  int status = 0;
  json body;
};

Probe Get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  auto r = c.Get(path);
  if (!r) return {};
  return {r->status, json::parse(r->body, nullptr, false)};
}

class ReadinessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(services_.started()) << "see " << services_.log();
    ASSERT_TRUE(services_.Kafka("create-topics ops.commands:2 ops.notifications:1 ops.dlq:1"));
    std::vector<std::string> common = {
        "--kafka-brokers=" + services_.brokers(), "--pg-url=" + services_.pg_url(),
        "--commands-topic=ops.commands", "--notifications-topic=ops.notifications"};
    producer_port_ = FreePort();
    worker_port_ = FreePort();
    std::vector<std::string> p = {CONVEYOR_PRODUCER_BIN,
                                  "--http-port=" + std::to_string(producer_port_)};
    std::vector<std::string> w = {CONVEYOR_WORKER_BIN, "--name=ops-worker", "--group-id=ops",
                                  "--dlq-topic=ops.dlq",
                                  "--metrics-address=127.0.0.1:" + std::to_string(worker_port_)};
    p.insert(p.end(), common.begin(), common.end());
    w.insert(w.end(), common.begin(), common.end());
    producer_ = std::make_unique<ChildProcess>(p, std::vector<std::string>{},
                                               UniqueName("/tmp/conveyor-producer-") + ".log");
    worker_ = std::make_unique<ChildProcess>(w, std::vector<std::string>{},
                                             UniqueName("/tmp/conveyor-worker-") + ".log");
  }

  // Polls /readyz of both until each answers `status` and, when not ready, names `check`.
  void ExpectBothBecome(int status, const std::string& check = {}) {
    for (int port : {producer_port_, worker_port_}) {
      Probe last;
      bool reached = PollUntil(
          [&] {
            last = Get(port, "/readyz");
            return last.status == status &&
                   (check.empty() ||
                    (last.body.is_object() && last.body["checks"].value(check, "ok") != "ok"));
          },
          90s, 200ms);
      EXPECT_TRUE(reached) << (port == producer_port_ ? "producer" : "worker")
                           << " /readyz: " << last.status << " " << last.body.dump()
                           << "\nproducer log:\n"
                           << producer_->Log() << "\nworker log:\n"
                           << worker_->Log();
      EXPECT_EQ(Get(port, "/healthz").status, 200) << "liveness must not follow readiness";
    }
  }

  OwnServices services_;
  std::unique_ptr<ChildProcess> producer_, worker_;
  int producer_port_ = 0, worker_port_ = 0;
};

TEST_F(ReadinessTest, AnswersNotReadyNamingKafkaWhileTheBrokerIsStoppedAndReadyOnceItIsBack) {
  ExpectBothBecome(200);
  ASSERT_TRUE(services_.Kafka("stop"));
  ExpectBothBecome(503, "kafka");
  ASSERT_TRUE(services_.Kafka("start"));
  ExpectBothBecome(200);
}

TEST_F(ReadinessTest, NamesEveryCheckAndAnswersNotReadyWhilePostgresqlIsStoppedUntilItIsBack) {
  ExpectBothBecome(200);
  auto producer = Get(producer_port_, "/readyz").body;
  EXPECT_EQ(producer,
            (json{{"status", "ready"}, {"checks", {{"postgresql", "ok"}, {"kafka", "ok"}}}}));
  auto worker = Get(worker_port_, "/readyz").body;
  EXPECT_EQ(worker,
            (json{{"status", "ready"},
                  {"checks", {{"postgresql", "ok"}, {"kafka", "ok"}, {"consumer-group", "ok"}}}}));

  ASSERT_TRUE(services_.Postgres("stop"));
  ExpectBothBecome(503, "postgresql");
  ASSERT_TRUE(services_.Postgres("start"));
  ExpectBothBecome(200);
}

}  // namespace
}  // namespace conveyor::testing

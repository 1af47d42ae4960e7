// End to end (label: e2e): what an operator's probes and Prometheus see.
//
// ReadinessTest runs the producer and a worker against a PostgreSQL server and a Kafka broker
// of the test's own, which it stops and starts under them: /readyz must answer 503 naming the
// dependency that is away, /healthz must keep answering 200, and both must come back to ready
// without a restart. MetricsTest runs tasks through the shared services and reads both
// /metrics endpoints: the counters moved, and promtool finds nothing to complain about.
// LogsTest reads JSON logs for secrets; TraceTest follows one traceparent from a request to
// the command event, the notification and the log lines.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "conveyor/trace_context.h"
#include "e2e/e2e_fixture.h"
#include "support/files.h"
#include "support/own_services.h"
#include "support/promtool.h"
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

namespace conveyor::testing {
namespace {

// The value of the sample `name{labels}` exactly as written in an exposition; -1 when absent.
double Sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// The conveyor_* and process_* metric names `text` mentions, a histogram's series by their
// family's name.
std::set<std::string> MetricNamesIn(const std::string& text) {
  std::set<std::string> names;
  static const std::regex name(R"((conveyor|process)_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = it->str();
    for (std::string suffix : {"_bucket", "_sum", "_count"})
      if (n.ends_with(suffix)) n.resize(n.size() - suffix.size());
    names.insert(n);
  }
  return names;
}

std::string Scrape(int port) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/metrics");
  if (!r || r->status != 200) return {};
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  return r->body;
}

class MetricsTest : public E2eTest {};

TEST_F(MetricsTest, CountersMoveAsTasksRunAndPromtoolFindsNoProblemOnEitherEndpoint) {
  ASSERT_TRUE(PromtoolFound()) << "promtool (" << CONVEYOR_PROMTOOL
                               << ") is missing: scripts/install-deps installs it";
  auto producer = StartProducer(KafkaBrokers());
  auto worker = StartWorker("metrics-worker");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(CreateTask(SeedRequest()));
  for (const auto& id : ids) ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");

  std::string produced, worked;
  const std::string applied = R"(conveyor_commands_total{outcome="applied"})";
  const std::string lag =
      R"(conveyor_consumer_lag_messages{topic=")" + commands_ + R"(",partition=")";
  const std::string succeeded =
      R"(conveyor_run_attempts_ended_total{handler="noop",outcome="succeeded"})";
  const std::string notified =
      R"(conveyor_kafka_publish_duration_seconds_count{topic=")" + notifications_ + R"("})";
  ASSERT_TRUE(PollUntil(
      [&] {
        worked = Scrape(WorkerStatusPort("metrics-worker"));
        return Sample(worked, succeeded) == 3 && Sample(worked, notified) >= 3 &&
               worked.find(lag) != std::string::npos;
      },
      30s, 100ms))
      << worked;
  produced = Scrape(port_);

  EXPECT_EQ(
      Sample(
          produced,
          R"(conveyor_http_requests_total{dialect="twosms",route="/api/{}/admin/tasks/account",status="200"})"),
      3)
      << produced;
  EXPECT_GE(Sample(produced, R"(conveyor_kafka_publish_duration_seconds_count{topic=")" +
                                 commands_ + R"("})"),
            3);
  EXPECT_GT(Sample(produced, "process_resident_memory_bytes"), 0);
  EXPECT_GE(Sample(worked, applied), 3) << worked;
  EXPECT_EQ(Sample(worked, R"(conveyor_runs_started_total{handler="noop"})"), 3);
  EXPECT_EQ(Sample(worked, R"(conveyor_run_duration_seconds_count{handler="noop"})"), 3);
  EXPECT_GE(Sample(worked, "conveyor_consumer_assigned_partitions"), 1);
  EXPECT_EQ(Sample(worked, "conveyor_ready"), 1);
  EXPECT_EQ(Sample(produced, "conveyor_ready"), 1);
  // Every command consumed: each partition that had one reports no lag.
  for (int p = 0; p < 3; ++p)
    EXPECT_LE(Sample(worked, lag + std::to_string(p) + R"("})"), 0) << worked;
  EXPECT_GE(Sample(worked, "conveyor_outbox_backlog"), 0);
  // Every metric the shipped alerts and dashboard use is one the processes serve.
  for (const auto& name : MetricNamesIn(ReadRepoFile("compose/prometheus/alerts.yml") +
                                        ReadRepoFile("compose/grafana/conveyor-dashboard.json")))
    EXPECT_TRUE(produced.find("# TYPE " + name + " ") != std::string::npos ||
                worked.find("# TYPE " + name + " ") != std::string::npos)
        << name << " is used by compose/prometheus or compose/grafana but served by neither";
  for (const auto* exposition : {&produced, &worked}) {
    auto lint = CheckMetricsWithPromtool(*exposition);
    EXPECT_EQ(lint.exit_status, 0) << lint.output;
    EXPECT_EQ(lint.output, "") << *exposition;
  }
}

}  // namespace
}  // namespace conveyor::testing

namespace conveyor::testing {
namespace {

class LogsTest : public E2eTest {};

TEST_F(LogsTest, JsonLinesNameTheTaskAndNoSecretTokenOrAuthorizationHeaderIsEverLogged) {
  const std::vector<std::string> json_debug = {"--log-format=json", "--log-level=debug"};
  auto producer = StartProducer(KafkaBrokers(), json_debug);
  auto worker = StartWorker("logs-worker", json_debug);
  auto token_answer = Http("").Post(
      "/Token",
      "grant_type=client_credentials&client_id=" + client_id_ + "&client_secret=e2e+client+secret",
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(token_answer && token_answer->status == 200);
  std::string token = json::parse(token_answer->body)["access_token"];
  const std::string wrong_secret = "not the secret 7f3a";

  std::string id = CreateTask(SeedRequest());  // Basic id:secret
  const std::string path = "/api/v2/admin/tasks/account/" + id;
  EXPECT_EQ(Http("Bearer " + token).Get(path)->status, 200);
  EXPECT_EQ(Http(AdminAuth()).Get(path)->status, 200);
  EXPECT_EQ(Http(BasicAuth(client_id_, wrong_secret)).Get(path)->status, 401);
  EXPECT_EQ(Http("Bearer " + token + "x").Get(path)->status, 401);
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");
  ASSERT_EQ(producer->Stop(SIGTERM), 0);
  ASSERT_EQ(worker->Stop(SIGTERM), 0);

  bool task_line = false;
  for (const auto* process : {producer.get(), worker.get()}) {
    std::istringstream lines(process->Log());
    for (std::string line; std::getline(lines, line);) {
      auto parsed = json::parse(line, nullptr, false);
      ASSERT_TRUE(parsed.is_object()) << "not a JSON line: " << line;
      EXPECT_TRUE(parsed.contains("time") && parsed.contains("level") &&
                  parsed.contains("component") && parsed.contains("message"))
          << line;
      task_line = task_line || parsed.value("task", "") == id;
    }
    auto log = process->Log();
    auto admin_secret = admin_key_.substr(admin_key_.find('.') + 1);
    for (const auto& secret : {client_secret_, token, admin_key_, admin_secret, wrong_secret,
                               BasicAuth(client_id_, client_secret_), std::string("Authorization")})
      EXPECT_EQ(log.find(secret), std::string::npos) << "'" << secret << "' is in a log:\n" << log;
  }
  EXPECT_TRUE(task_line) << "no JSON line carries \"task\": \"" << id << "\"";
}

}  // namespace
}  // namespace conveyor::testing

namespace conveyor::testing {
namespace {

class TraceTest : public E2eTest {};

TEST_F(TraceTest, OneTraceIdFollowsATaskFromItsRequestToItsNotificationAndLogLines) {
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto producer = StartProducer(KafkaBrokers());
  auto worker = StartWorker("trace-worker");
  auto answer = Http().Post("/api/v2/admin/tasks/account",
                            {{"traceparent", "00-" + trace_id + "-00f067aa0ba902b7-01"}},
                            SeedRequest().dump(), "application/json");
  ASSERT_TRUE(answer && answer->status == 200) << (answer ? answer->body : "no answer");
  EXPECT_EQ(TraceIdOf(answer->get_header_value("traceparent")), trace_id);
  std::string id = json::parse(answer->body)["ResponseData"]["Detail"]["ID"];
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded");

  for (const auto& topic : {commands_, notifications_}) {
    TopicReader reader(topic);
    auto events = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
    ASSERT_FALSE(events.empty()) << topic;
    auto event = CloudEvent::Parse(events[0].value);
    ASSERT_TRUE(event.has_value()) << events[0].value;
    EXPECT_EQ(TraceIdOf(event->traceparent), trace_id) << topic << ": " << events[0].value;
  }
  EXPECT_TRUE(
      PollUntil([&] { return worker->Log().find("trace=" + trace_id) != std::string::npos; }, 10s))
      << worker->Log();
  EXPECT_NE(producer->Log().find("task=" + id), std::string::npos);
  EXPECT_NE(producer->Log().find("trace=" + trace_id), std::string::npos) << producer->Log();
}

}  // namespace
}  // namespace conveyor::testing

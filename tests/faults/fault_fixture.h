// The fault suite (label: faults): the producer and two workers as processes against a
// three-broker Kafka cluster (scripts/kafka/cluster; topics with three replicas and
// min.insync.replicas 2) and a PostgreSQL server of the suite's own, which the tests may crash.
// A LoadClient records every answer; after each fault, Audit() counts and asserts what the
// README promises and prints the figures on a line that starts with "FAULT".
#pragma once

#include <cstdlib>
#include <map>
#include <set>

#include "../e2e/e2e_fixture.h"
#include "faults/load_client.h"

namespace conveyor::testing {

// What Audit() counted after a fault.
struct FaultFigures {
  int sent = 0;
  int acknowledged = 0;           // 2xx at the first answer
  int acknowledged_on_retry = 0;  // not 2xx at first; 2xx when asked again with the same key
  int recorded = 0;               // tasks in PostgreSQL
  int lost = 0;                   // acknowledged, not recorded
  std::set<std::string> lost_tasks;
  int unknown = 0;         // recorded, but the client was never told so
  int duplicated = 0;      // tasks with more than one run
  int unfinished = 0;      // runs not in a final state
  int restarted = 0;       // runs started more than once
  int notified = 0;        // tasks with their one final notification
  int notified_twice = 0;  // tasks with two final notifications of different ids
  int out_of_order = 0;    // tasks whose events came in an impossible order
  std::int64_t dead_lettered = 0;
  int unavailable = 0;         // first answers 503 (the service said it could not take it now)
  double answers_back_s = -1;  // from `healed_at` to the first 2xx answer to a request sent after
  double all_final_s = -1;     // from `healed_at` until every run was final
};

class FaultTest : public E2eTest {
 protected:
  FaultTest() { replication_ = 3; }

  // Every node runs before a test begins, whatever the test before it left behind.
  void SetUp() override {
    ASSERT_GE(Tasks(), 10) << "CONVEYOR_FAULT_TASKS must be a number of creates, 10 or more";
    ASSERT_NO_FATAL_FAILURE(Script("cluster", "start"));
    E2eTest::SetUp();
  }

  // How many creates the partition-leader fault sends: CONVEYOR_FAULT_TASKS, default 10,000
  // (0 when it is not a number). The other faults' loads last as long as the fault.
  static int Tasks() {
    const char* v = std::getenv("CONVEYOR_FAULT_TASKS");
    if (!v || !*v) return 10000;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    return *end == '\0' && n > 0 && n < 10'000'000 ? static_cast<int>(n) : 0;
  }
  // The most creates a load that lasts as long as its fault may send.
  static constexpr int kMostCreates = 100'000;

  // Consumer timeouts short enough for a test: the group drops a silent member after 6 s, and
  // one that does not poll for 10 s leaves it.
  static constexpr auto kSessionTimeout = std::chrono::seconds(6);
  static constexpr auto kMaxPollInterval = std::chrono::seconds(10);
  static std::vector<std::string> WorkerFlags() {
    return {"--kafka-property=session.timeout.ms=6000",
            "--kafka-property=max.poll.interval.ms=10000", "--heartbeat-ms=500",
            "--stale-after-ms=3000"};
  }

  // Runs one of the project's scripts (scripts/kafka/cluster, scripts/postgres) on the suite's
  // own services, whose state folders and ports ctest passes in the environment.
  void Script(const std::string& script, const std::string& args) {
    const char* state = std::getenv(script == "postgres" ? "CONVEYOR_FAULT_PG_STATE"
                                                         : "CONVEYOR_FAULT_KAFKA_STATE");
    ASSERT_TRUE(state) << "run the fault tests through ctest (the fault_services fixture)";
    std::string path = script == "postgres" ? "/scripts/postgres" : "/scripts/kafka/cluster";
    std::string cmd = "CONVEYOR_STATE_DIR='" + std::string(state) + "' " + CONVEYOR_SOURCE_DIR +
                      path + " " + args + " >&2";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  static int ClusterPort(int offset, int node) {
    const char* base = std::getenv("KAFKA_CLUSTER_PORT");
    return (base ? std::atoi(base) : 26092) + offset + node - 1;
  }

  // TwoSms creates of the built-in noop type (or of `body`), each asking for a notification.
  LoadTarget TwoSmsCreates(const std::string& name, std::function<json(int)> body = nullptr) {
    if (!body) body = [seed = SeedRequest()](int) { return seed; };
    return LoadTarget{.port = port_,
                      .authorization = ClientAuth(),
                      .path = "/api/v2/admin/tasks/account",
                      .key_prefix = UniqueName(name + "-"),
                      .body = std::move(body)};
  }

  // A task of the built-in sleep type: `seconds` long in `steps`, notifying progress and end.
  static json SleepTask(double seconds, int steps) {
    return {{"TaskID", "00000000-0000-0000-0000-000000000002"},
            {"Frequency", 0},
            {"Parameters", json{{"seconds", seconds}, {"steps", steps}}.dump()},
            {"ContentType", "application/json"},
            {"Notification", 7}};
  }

  // Lets a load that lasts as long as its fault send `more` creates after the heal, then stops it.
  static void SendOnFor(LoadClient& load, int more) {
    int until = load.answered() + more;
    EXPECT_TRUE(PollUntil([&] { return load.answered() >= until; }, 120s))
        << "the load did not go on after the heal";
    load.StopSending();
  }

  // PostgreSQL's clock now, in milliseconds since the epoch, as text for a query
  // ("to_timestamp(<it> / 1000.0)"): to compare with the times the workers recorded.
  std::string DbMillis() const {
    return std::to_string(Count("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"));
  }

  // Holds a fault for `duration`: the fault's length, not a wait for something to happen.
  static void HoldFor(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

  FaultFigures Audit(const std::string& fault, LoadClient& load, LoadClock::time_point healed_at);

 private:
  void CountAnswers(LoadClient& load, LoadClock::time_point healed_at, FaultFigures& f,
                    std::set<std::string>& acknowledged);
  void CountRecords(const std::set<std::string>& acknowledged, LoadClock::time_point healed_at,
                    FaultFigures& f);
  void CountNotifications(const std::set<std::string>& acknowledged, FaultFigures& f);
  // Prints where each lost task's commands stand in the commands topic, and what the workers'
  // group committed there: whether a lost create was never in Kafka or was passed over.
  void ExplainLost(const std::set<std::string>& lost);
  void PrintConsumerEvents() const;
};

}  // namespace conveyor::testing

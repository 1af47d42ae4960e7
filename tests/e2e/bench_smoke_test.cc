// The benchmark's smoke test (label: e2e): conveyor-bench, the program bench/e2e runs, against
// a producer and a worker on the fixture's services with N=200. It checks that the benchmark
// still works (every task reaches a final state, the report carries every figure), never how
// fast: speed is measured by bench/e2e, not asserted by a timed test.
#include <sys/wait.h>

#include <cstdio>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using nlohmann::json;

class Benchmark : public testing::E2eTest {
 protected:
  // Runs conveyor-bench with `args`; its exit status and what it printed on stdout.
  std::pair<int, std::string> RunBench(const std::vector<std::string>& args) {
    std::string command = CONVEYOR_BENCH_BIN;
    for (const auto& a : args) command += " '" + a + "'";
    command += " 2>" + testing::UniqueName("/tmp/conveyor-bench-") + ".log";
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return {-1, out};
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  // conveyor-bench against the producer StartProducer started, as the e2e client, with `args`.
  std::pair<int, std::string> RunAgainstProducer(std::vector<std::string> args) {
    for (auto a : {"--url=http://127.0.0.1:" + std::to_string(port_), "--pg-url=" + db_.url(),
                   std::string("--deadline-s=120"), "--header=Authorization: " + ClientAuth()})
      args.push_back(a);
    return RunBench(args);
  }
  // The JSON report: the last line conveyor-bench printed (discarded when it is not JSON).
  static json Report(const std::string& out) {
    auto trimmed = out.substr(0, out.find_last_not_of('\n') + 1);
    return json::parse(trimmed.substr(trimmed.rfind('\n') + 1), nullptr, false);
  }
};

TEST_F(Benchmark, TwoHundredNoopTasksAllReachAFinalStateAndTheReportHasEveryFigure) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("bench-smoke-worker");
  auto [status, out] = RunAgainstProducer({"--tasks=200", "--warmup=10", "--connections=8",
                                           "--watch=producer=" + std::to_string(producer->pid()),
                                           "--watch=worker=" + std::to_string(worker->pid())});
  ASSERT_EQ(status, 0) << out << "\nworker log:\n" << worker->Log();

  auto report = Report(out);
  ASSERT_TRUE(report.is_object()) << out;
  EXPECT_EQ(report["tasks"], 200);
  EXPECT_EQ(report["accepted"], 200);
  EXPECT_EQ(report["rejected"], 0);
  EXPECT_EQ(report["final"], 200);
  EXPECT_EQ(report["succeeded"], 200);
  EXPECT_EQ(report["complete"], true);
  for (const char* figure : {"tasks_per_second", "e2e_seconds", "submit_per_second"})
    EXPECT_GT(report[figure].get<double>(), 0) << figure;
  for (const char* latency : {"start_latency_ms", "final_latency_ms", "http_latency_ms"}) {
    EXPECT_GE(report[latency]["p50"].get<double>(), 0) << latency;
    EXPECT_GE(report[latency]["p99"].get<double>(), report[latency]["p50"].get<double>())
        << latency;
  }
  EXPECT_GT(report["machine_cpu_seconds"].get<double>(), 0);

  std::map<std::string, json> processes;
  for (const auto& p : report["processes"]) processes[p["name"]] = p;
  ASSERT_TRUE(processes.contains("producer")) << out;
  ASSERT_TRUE(processes.contains("worker")) << out;
  ASSERT_TRUE(processes.contains("bench-client")) << out;
  EXPECT_EQ(processes["producer"]["processes"][0]["pid"], producer->pid());
  for (auto& [name, p] : processes) {
    EXPECT_GT(p["vm_hwm_kb"].get<long>(), 0) << name;
    EXPECT_GE(p["cpu_seconds"].get<double>(), 0) << name;
  }

  // What the report says is what PostgreSQL holds: 200 + 10 warm-up tasks, each run final.
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'succeeded'"), 210);
}

TEST_F(Benchmark, BulkModeSendsTheTasksKPerRequestAndCountsTasks) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("bench-smoke-bulk-worker");
  // 210 tasks in bulks of 25: eight full requests and one of 10.
  auto [status, out] = RunAgainstProducer({"--tasks=210", "--bulk=25", "--connections=4"});
  ASSERT_EQ(status, 0) << out << "\nworker log:\n" << worker->Log();
  EXPECT_NE(out.find("mode             25 tasks per request"), std::string::npos) << out;
  auto report = Report(out);
  ASSERT_TRUE(report.is_object()) << out;
  EXPECT_EQ(report["tasks_per_request"], 25);
  EXPECT_EQ(report["requests"], 9);
  EXPECT_EQ(report["accepted"], 210);
  EXPECT_EQ(report["rejected"], 0);
  EXPECT_EQ(report["final"], 210);
  EXPECT_EQ(report["succeeded"], 210);
  EXPECT_GT(report["tasks_per_second"].get<double>(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE state = 'succeeded'"), 210);
}

TEST_F(Benchmark, WithIdempotencyKeysEachRequestClaimsAKeyOfItsOwn) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("bench-smoke-keys-worker");
  auto [status, out] = RunAgainstProducer({"--tasks=60", "--connections=4", "--idempotency-keys"});
  ASSERT_EQ(status, 0) << out << "\nworker log:\n" << worker->Log();
  EXPECT_NE(out.find("each request with an Idempotency-Key of its own"), std::string::npos) << out;
  auto report = Report(out);
  ASSERT_TRUE(report.is_object()) << out;
  EXPECT_EQ(report["idempotency_keys"], true);
  EXPECT_EQ(report["accepted"], 60);
  EXPECT_EQ(report["final"], 60);
  EXPECT_EQ(Count("SELECT count(DISTINCT key) FROM idempotency_keys WHERE state = 'done'"), 60)
      << "one key a request, each kept with its answer";
}

TEST_F(Benchmark, RefusesABulkOverTheProducersLimit) {
  auto [status, out] =
      RunBench({"--url=http://127.0.0.1:8080", "--pg-url=" + db_.url(), "--bulk=1001"});
  EXPECT_EQ(status, 2) << out;
}

TEST_F(Benchmark, RefusesAProducerThatIsNotOnThisMachine) {
  auto [status, out] = RunBench({"--url=http://192.0.2.1:8080", "--pg-url=" + db_.url()});
  EXPECT_EQ(status, 2) << out;
}

}  // namespace
}  // namespace conveyor

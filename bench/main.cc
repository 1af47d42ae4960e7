// conveyor-bench: the end-to-end benchmark program (bench/e2e starts a stack and runs it).
// Prints the report as text, then the same as one JSON line.
//
// Exit status: 0 every accepted task reached a final state; 1 some did not, or some tasks
// were refused, or the benchmark could not run; 2 bad flags.
#include <fstream>
#include <iostream>

#include "conveyor/logging.h"
#include "conveyor/process.h"
#include "src/benchmark.h"

int main(int argc, char** argv) {
  using namespace conveyor;
  CLI::App app{"conveyor-bench: N no-op tasks through the producer until every one is final"};
  bench::BenchSettings s;
  long long deadline_s = s.deadline.count();
  long long poll_ms = s.poll_interval.count();
  std::vector<std::string> watch, watch_tree, headers;
  std::string log_level = "info";
  std::string json_out;
  app.add_option("--url", s.http_url, "The producer (loopback only)")
      ->envname("CONVEYOR_HTTP_URL")
      ->capture_default_str();
  app.add_option("--pg-url", s.pg_url, "The workers' database")
      ->envname("CONVEYOR_PG_URL")
      ->required();
  app.add_option("-n,--tasks", s.tasks, "Tasks to submit and wait for")->capture_default_str();
  app.add_option("--warmup", s.warmup, "Tasks run to completion before the measurement")
      ->capture_default_str();
  app.add_option("-c,--connections", s.connections, "Concurrent keep-alive HTTP connections")
      ->capture_default_str();
  app.add_option("--bulk", s.bulk,
                 "Tasks per request: 1 posts them one by one; K > 1 posts K at a time to the "
                 "bulk endpoint (api/v2/admin/tasks/account/bulk)")
      ->capture_default_str();
  app.add_flag("--idempotency-keys", s.idempotency_keys,
               "Each request carries an Idempotency-Key of its own (a new UUID)");
  app.add_option("--rate", s.rate,
                 "Requests per second at most, paced (latency counts from each request's due "
                 "time); 0: as fast as the connections go")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--deadline-s", deadline_s, "Time limit of each phase (submit, then wait)")
      ->capture_default_str();
  app.add_option("--poll-ms", poll_ms, "How often PostgreSQL is asked while waiting")
      ->check(CLI::Range(10, 10000))
      ->capture_default_str();
  app.add_option("--task-type", s.task_type_id, "TaskID of the submitted tasks")
      ->capture_default_str();
  app.add_option("--notification", s.notification, "TwoSms Notification of the tasks")
      ->check(CLI::Range(0, 7))
      ->capture_default_str();
  app.add_option("--header", headers, "'Name: value' sent with every request (repeatable)");
  app.add_option("--watch", watch, "name=pid: report this process's peak RSS and CPU (repeatable)");
  app.add_option("--watch-tree", watch_tree,
                 "name=pid: the same for a process and its children, e.g. the postmaster");
  app.add_option("--json-out", json_out, "Also write the JSON report to this file");
  app.add_option("--log-level", log_level)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  logging::Setup(log_level);
  auto log = logging::Get("bench");
  s.deadline = std::chrono::seconds(deadline_s);
  s.poll_interval = std::chrono::milliseconds(poll_ms);
  for (const auto& h : headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      log->error("--header: '{}' is not 'Name: value'", h);
      return 2;
    }
    auto value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    s.headers.emplace_back(h.substr(0, colon), value);
  }
  for (auto [list, tree] : {std::pair{&watch, false}, std::pair{&watch_tree, true}})
    for (const auto& w : *list) {
      auto p = bench::ParseWatched(w, tree, tree ? "--watch-tree" : "--watch");
      if (!p) {
        log->error("{}", p.error().Describe());
        return 2;
      }
      s.processes.push_back(*p);
    }
  if (auto v = bench::Validate(s); !v) {
    log->error("{}", v.error().Describe());
    return 2;
  }

  auto report = bench::RunBenchmark(s);
  if (!report) {
    log->error("{}", report.error().Describe());
    return 1;
  }
  auto json = report->ToJson().dump();
  std::cout << report->ToText() << json << std::endl;
  if (!json_out.empty()) {
    std::ofstream out(json_out);
    out << json << '\n';
    if (!out) {
      log->error("--json-out: cannot write {}", json_out);
      return 1;
    }
  }
  if (!report->complete) log->error("not every accepted task reached a final state in time");
  if (report->rejected > 0) log->error("{} tasks were refused", report->rejected);
  return report->complete && report->rejected == 0 ? 0 : 1;
}

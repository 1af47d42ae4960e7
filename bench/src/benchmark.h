// The end-to-end benchmark: submits N no-op tasks through the producer's TwoSms endpoint over
// many keep-alive connections (one task per request, or K per request through the bulk
// endpoint), then waits in PostgreSQL until every one of them has a final
// run, and reports throughput, latencies and the processes' peak memory and CPU time.
//
// Figures and where they come from:
//   - end-to-end tasks/s: N / (last run's finished_at in PostgreSQL - the client's clock when
//     it sent the first request); one machine, one clock;
//   - submit rate: accepted tasks / (last answer - first request), client side, and the
//     requests that carried them;
//   - submit→start and submit→final latency p50/p99: runs.started_at / finished_at minus
//     tasks.created_at (the producer's clock when it accepted the request), in PostgreSQL;
//   - HTTP answer latency p50/p99: measured by the client;
//   - VmHWM and CPU seconds of each watched process, from /proc (the CPU seconds cover the
//     measured phase only).
//
// Only loopback producers are accepted. RunBenchmark blocks; it is not meant to be called
// concurrently with itself.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/result.h"
#include "proc_stats.h"

namespace conveyor::bench {

struct BenchSettings {
  std::string http_url = "http://127.0.0.1:18080";  // the producer; loopback only
  std::string pg_url;                               // the database the workers write
  std::size_t tasks = 10000;
  std::size_t warmup = 0;        // tasks run to completion first, outside the measurement
  std::size_t connections = 64;  // concurrent keep-alive HTTP connections
  // Tasks per request: 1 posts each to api/v2/admin/tasks/account; K > 1 posts K at a time to
  // api/v2/admin/tasks/account/bulk (the last request carries the remainder).
  std::size_t bulk = 1;
  // Requests sent per second at most, paced: request r is due r / rate seconds after the
  // first, and its answer latency counts from then (a slow answer that holds later requests
  // back shows in theirs). 0: each connection sends its next request at once.
  double rate = 0;
  // Each request carries an Idempotency-Key of its own (a new UUID), as a client that retries
  // safely sends it: the producer then claims the key in PostgreSQL and keeps the answer.
  bool idempotency_keys = false;
  std::chrono::seconds deadline{300};  // for each phase: submitting, then waiting
  std::string task_type_id = "00000000-0000-0000-0000-000000000001";  // built-in noop
  int notification = 0;  // TwoSms Notification of the submitted tasks (0: none)
  std::chrono::milliseconds poll_interval{1000};  // how often PostgreSQL is asked while waiting
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
  std::vector<WatchedProcess> processes;
};

inline constexpr std::size_t kMaxConnections = 1024;
inline constexpr std::size_t kMaxTasks = 10'000'000;
inline constexpr std::size_t kMaxBulk = 1000;  // the producer's limit per bulk request

struct ProcessFigures {
  std::string name;
  std::vector<ProcessSample> samples;  // the process, then its children when watched as a tree
  long vm_hwm_kb_sum = 0;              // sum over samples (counts shared memory in each)
  double cpu_seconds = 0;              // during the measured phase, summed over samples
};

struct BenchReport {
  std::size_t tasks = 0;
  std::size_t connections = 0;
  std::size_t bulk = 1;           // tasks per request
  double rate = 0;                // BenchSettings::rate: requests per second paced; 0: unpaced
  bool idempotency_keys = false;  // BenchSettings::idempotency_keys
  std::size_t requests = 0;       // requests sent (tasks / bulk, rounded up)
  std::size_t accepted = 0;       // tasks the producer accepted
  std::size_t rejected = 0;       // tasks it refused or did not answer for
  std::string first_rejection;    // what the first one said
  std::size_t final_runs = 0;     // accepted tasks whose run is final
  std::size_t succeeded = 0;
  bool complete = false;  // every accepted task reached a final state in time
  double submit_seconds = 0;
  double e2e_seconds = 0;
  double tasks_per_second = 0;   // end to end
  double submit_per_second = 0;  // tasks accepted per second
  double requests_per_second = 0;
  double start_latency_p50_ms = 0, start_latency_p99_ms = 0;  // from PostgreSQL
  double final_latency_p50_ms = 0, final_latency_p99_ms = 0;  // from PostgreSQL
  double http_latency_p50_ms = 0, http_latency_p99_ms = 0;    // client side
  double wall_cpu_seconds = 0;  // length of the measured phase, for reading the CPU seconds
  // The whole machine during the measured phase: CPU seconds available (wall × cores) and
  // busy (every process, watched or not: other work on a shared machine shows here).
  double machine_cpu_seconds = 0;
  double machine_busy_cpu_seconds = 0;
  std::vector<ProcessFigures> processes;

  nlohmann::json ToJson() const;
  std::string ToText() const;
};

// Validates the settings: kInvalidArgument naming the flag when one is out of range or the
// URL is not a loopback http:// URL.
Status Validate(const BenchSettings& settings);

// Runs the benchmark. An error when it could not be run at all (bad settings, producer or
// PostgreSQL unreachable, a watched process gone); otherwise the report, whose `complete`
// says whether every accepted task ended in time.
Result<BenchReport> RunBenchmark(const BenchSettings& settings);

}  // namespace conveyor::bench

// Readiness: can this process do its job right now? A Readiness holds named checks (each
// says what it needs: "postgresql", "kafka", "consumer-group"); Check runs them all and
// reports every one that failed with its reason, so a 503 from /readyz says what to fix.
//
// Liveness is not readiness: /healthz answers while the process runs; /readyz answers 503
// while a dependency is away, and 200 again once it is back, with no restart.
//
// A report is kept for `max_age` (by the injected Clock), so probes arriving together cost
// one round of checks. Checks are added before the first Check. Check is thread-safe; checks
// run on the caller's thread, one caller at a time, and should bound their own waiting.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/metrics.h"
#include "conveyor/result.h"

namespace conveyor {

class PgPool;

struct ReadinessFailure {
  std::string check;   // its name
  std::string reason;  // what is wrong, as the check said it
};

struct ReadinessReport {
  std::vector<ReadinessFailure> failures;  // empty when ready
  std::vector<std::string> passed;         // the checks that passed, by name
  bool ready() const { return failures.empty(); }
  // {"status":"ready"|"not ready","checks":{"<name>":"ok"|"<reason>",...}}
  std::string ToJson() const;
};

class Readiness {
 public:
  using CheckFn = std::function<Status()>;

  explicit Readiness(const Clock& clock,
                     std::chrono::milliseconds max_age = std::chrono::milliseconds(1000))
      : clock_(clock), max_age_(max_age) {}

  void Add(std::string name, CheckFn check);
  ReadinessReport Check();

 private:
  const Clock& clock_;
  std::chrono::milliseconds max_age_;
  std::vector<std::pair<std::string, CheckFn>> checks_;
  std::mutex mutex_;
  std::optional<std::pair<Timestamp, ReadinessReport>> last_;
};

// conveyor_ready: 1 when /readyz would answer 200, else 0 (read at scrape time).
void RegisterReadinessMetric(metrics::Registry& registry, Readiness& readiness);

// "postgresql": a connection from `pool` (waiting at most `timeout`) answers `SELECT 1`.
Readiness::CheckFn PgReachable(PgPool& pool, std::chrono::milliseconds timeout);

}  // namespace conveyor

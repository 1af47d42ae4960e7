#include "conveyor/readiness.h"

#include <nlohmann/json.hpp>

#include "conveyor/pg.h"

namespace conveyor {

std::string ReadinessReport::ToJson() const {
  nlohmann::json checks = nlohmann::json::object();
  for (const auto& name : passed) checks[name] = "ok";
  for (const auto& f : failures) checks[f.check] = f.reason;
  return nlohmann::json{{"status", ready() ? "ready" : "not ready"}, {"checks", checks}}.dump();
}

void Readiness::Add(std::string name, CheckFn check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

ReadinessReport Readiness::Check() {
  std::lock_guard lock(mutex_);
  auto now = clock_.Now();
  if (last_ && now - last_->first < max_age_) return last_->second;
  ReadinessReport report;
  for (const auto& [name, check] : checks_) {
    if (auto s = check(); s)
      report.passed.push_back(name);
    else
      report.failures.push_back({name, s.error().Describe()});
  }
  last_.emplace(now, report);
  return report;
}

void RegisterReadinessMetric(metrics::Registry& registry, Readiness& readiness) {
  registry
      .AddCallbackGauge("conveyor_ready",
                        "1 when every readiness check passes (/readyz answers 200), else 0")
      .Add({}, [&readiness] { return readiness.Check().ready() ? 1.0 : 0.0; });
}

Readiness::CheckFn PgReachable(PgPool& pool, std::chrono::milliseconds timeout) {
  return [&pool, timeout]() -> Status {
    auto lease = pool.Acquire(timeout);
    if (!lease) return std::unexpected(lease.error());
    try {
      pqxx::nontransaction tx(**lease);
      tx.exec1("SELECT 1");
      return {};
    } catch (const std::exception& e) {
      return std::unexpected(PgError(e, "PostgreSQL did not answer SELECT 1"));
    }
  };
}

}  // namespace conveyor

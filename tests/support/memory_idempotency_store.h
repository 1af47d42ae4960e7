// The IdempotencyStore in memory, with PgIdempotencyStore's rules (without its abandoned-claim
// timeout): for unit tests of the Router and the dialects. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "http/idempotency.h"

namespace conveyor::testing {

class MemoryIdempotencyStore final : public http::IdempotencyStore {
 public:
  struct Row {
    std::string fingerprint;
    std::string state;  // running, done, failed
    http::Answer answer;
  };

  Result<http::IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                       const std::string& fingerprint, const Uuid&) override {
    using Outcome = http::IdempotencyClaim::Outcome;
    std::lock_guard lock(mutex);
    auto [it, fresh] = rows.try_emplace({caller, key}, Row{fingerprint, "running", {}});
    Row& row = it->second;
    if (fresh || (row.fingerprint == fingerprint && row.state == "failed")) {
      row.state = "running";
      return http::IdempotencyClaim{Outcome::kClaimed, std::nullopt};
    }
    if (row.fingerprint != fingerprint) return http::IdempotencyClaim{Outcome::kMismatch, {}};
    if (row.state == "running") return http::IdempotencyClaim{Outcome::kInProgress, {}};
    return http::IdempotencyClaim{Outcome::kAnswered, row.answer};
  }
  Status Finish(const std::string& caller, const std::string& key,
                const http::Answer& answer) override {
    std::lock_guard lock(mutex);
    Row& row = rows.at({caller, key});
    row.state = answer.status >= 500 ? "failed" : "done";
    row.answer = answer;
    return {};
  }

  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, Row> rows;
};

}  // namespace conveyor::testing

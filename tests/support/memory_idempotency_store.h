// The IdempotencyStore in memory, with PgIdempotencyStore's rules (without its abandoned-claim
// timeout): for unit tests of the Router and the dialects. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "conveyor/clock.h"
#include "http/idempotency.h"

namespace conveyor::testing {

class MemoryIdempotencyStore final : public http::IdempotencyStore {
 public:
  explicit MemoryIdempotencyStore(const Clock& clock) : clock_(clock) {}

  struct Row {
    std::string fingerprint;
    std::string state;  // running, done, failed
    http::Answer answer;
    IdempotentCreate create;
    std::string claim_id;  // the claim now holding the key
  };

  Result<http::IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                       const std::string& fingerprint) override {
    using Outcome = http::IdempotencyClaim::Outcome;
    std::lock_guard lock(mutex);
    auto [it, fresh] = rows.try_emplace(
        {caller, key}, Row{fingerprint, "running", {}, {Uuid::Random(), clock_.Now()}, ""});
    Row& row = it->second;
    http::IdempotencyClaim claim;
    if (fresh || (row.fingerprint == fingerprint && row.state == "failed")) {
      row.state = "running";
      row.claim_id = std::to_string(++claims);
      claim.create = row.create;
      claim.claim_id = row.claim_id;
    } else if (row.fingerprint != fingerprint) {
      claim.outcome = Outcome::kMismatch;
    } else if (row.state == "running") {
      claim.outcome = Outcome::kInProgress;
    } else {
      claim.outcome = Outcome::kAnswered;
      claim.answer = row.answer;
    }
    return claim;
  }
  Status Finish(const std::string& caller, const std::string& key, const std::string& claim_id,
                const http::Answer& answer) override {
    std::lock_guard lock(mutex);
    Row& row = rows.at({caller, key});
    if (row.state != "running" || row.claim_id != claim_id) return {};
    row.state = answer.status >= 500 ? "failed" : "done";
    row.answer = answer;
    return {};
  }

  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, Row> rows;
  long long claims = 0;

 private:
  const Clock& clock_;
};

}  // namespace conveyor::testing

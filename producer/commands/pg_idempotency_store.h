// The IdempotencyStore in PostgreSQL (table idempotency_keys, migration 0013). A claim is one
// INSERT ... ON CONFLICT, so two producers that get the same key at once cannot both run the
// request. A claim whose producer died while answering is free again after kAbandonedAfter.
// A claim's id is its time (claimed_at, in microseconds): an answer is kept only while the
// claim that ran its request still holds the key.
// A key is kept kKeptFor: a claim of a key older than that starts it afresh (other tasks),
// and DropExpired, which the producer runs once a minute, deletes such rows. Thread-safe.
#pragma once

#include <chrono>

#include "conveyor/pg.h"
#include "http/idempotency.h"

namespace conveyor {

class PgIdempotencyStore final : public http::IdempotencyStore {
 public:
  static constexpr std::chrono::minutes kAbandonedAfter{2};
  static constexpr std::chrono::hours kKeptFor{24};

  explicit PgIdempotencyStore(PgPool& pool) : pool_(pool) {}
  Result<http::IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                       const std::string& fingerprint) override;
  Status Finish(const std::string& caller, const std::string& key, const std::string& claim_id,
                const http::Answer& answer) override;
  // Deletes the keys older than kKeptFor.
  Status DropExpired();

 private:
  PgPool& pool_;
};

}  // namespace conveyor

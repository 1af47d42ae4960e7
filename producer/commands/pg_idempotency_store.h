// The IdempotencyStore in PostgreSQL (table idempotency_keys, migration 0013). A claim is one
// INSERT ... ON CONFLICT, so two producers that get the same key at once cannot both run the
// request. A claim whose producer died while answering is free again after kAbandonedAfter.
// A claim's id is its time (claimed_at, in microseconds): an answer is kept only while the
// claim that ran its request still holds the key.
// A key is kept kIdempotencyKeptFor: a claim of a key older than that starts it afresh (other
// tasks), and DropExpiredIdempotencyRows deletes such rows. Thread-safe.
#pragma once

#include <chrono>

#include "commands/idempotent_create.h"
#include "conveyor/pg.h"
#include "http/idempotency.h"

namespace conveyor {

class PgIdempotencyStore final : public http::IdempotencyStore {
 public:
  static constexpr std::chrono::minutes kAbandonedAfter{2};

  explicit PgIdempotencyStore(PgPool& pool) : pool_(pool) {}
  Result<http::IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                       const std::string& fingerprint) override;
  Status Finish(const std::string& caller, const std::string& key, const std::string& claim_id,
                const http::Answer& answer) override;

 private:
  PgPool& pool_;
};

struct DroppedIdempotencyRows {
  std::size_t keys = 0;     // of idempotency_keys
  std::size_t numbers = 0;  // of idempotent_task_numbers
};

// Deletes the keys and the idempotent task numbers older than kIdempotencyKeptFor, at most
// kDropBatch rows a statement, skipping rows another producer is deleting. Each producer runs
// it once a minute, so that a claim does not pay for it.
inline constexpr std::size_t kDropBatch = 5000;
Result<DroppedIdempotencyRows> DropExpiredIdempotencyRows(PgPool& pool);

}  // namespace conveyor

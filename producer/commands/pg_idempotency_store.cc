#include "commands/pg_idempotency_store.h"

#include <nlohmann/json.hpp>

#include "conveyor/pg_rows.h"

namespace conveyor {
namespace {

using http::IdempotencyClaim;

// The claim that the key's row, which another request holds or answered, gives.
IdempotencyClaim Existing(const pqxx::row& row, const std::string& fingerprint) {
  IdempotencyClaim c;
  if (row["fingerprint"].c_str() != fingerprint) {
    c.outcome = IdempotencyClaim::Outcome::kMismatch;
    return c;
  }
  if (std::string_view(row["state"].c_str()) != "done") {
    c.outcome = IdempotencyClaim::Outcome::kInProgress;
    return c;
  }
  http::Answer a;
  a.status = row["status"].as<int>();
  a.content_type = row["content_type"].c_str();
  a.body = row["body"].c_str();
  for (const auto& h : nlohmann::json::parse(row["headers"].c_str()))
    a.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  c.outcome = IdempotencyClaim::Outcome::kAnswered;
  c.answer = std::move(a);
  return c;
}

// The claim, outside a transaction block (one round trip): a new row, or the row of a failed or
// abandoned attempt of the same request, or an expired row, which starts afresh (other tasks,
// a new first time). No row to reclaim holds an answer (only 'done' ones do, and they are
// reclaimed only once expired), so a claim clears the answer's columns.
std::optional<IdempotencyClaim> TryClaim(pqxx::transaction_base& tx, const std::string& caller,
                                         const std::string& key, const std::string& fingerprint) {
  auto claimed =
      ExecPrepared(tx,
                   R"(INSERT INTO idempotency_keys AS k (caller, key, fingerprint, key_id, state)
         VALUES ($1, $2, $3, $4, 'running')
         ON CONFLICT (caller, key) DO UPDATE
            SET state = 'running', claimed_at = now(), fingerprint = EXCLUDED.fingerprint,
                key_id = CASE WHEN k.created_at < now() - make_interval(hours => $6)
                              THEN EXCLUDED.key_id ELSE k.key_id END,
                created_at = CASE WHEN k.created_at < now() - make_interval(hours => $6)
                                  THEN now() ELSE k.created_at END,
                status = NULL, content_type = NULL, body = NULL, headers = NULL
          WHERE k.created_at < now() - make_interval(hours => $6)
             OR (k.fingerprint = EXCLUDED.fingerprint
                 AND (k.state = 'failed'
                      OR (k.state = 'running'
                          AND k.claimed_at < now() - make_interval(mins => $5))))
         RETURNING key_id, (extract(epoch from created_at) * 1e6)::bigint,
                   (extract(epoch from claimed_at) * 1e6)::bigint)",
                   caller, key, fingerprint, Uuid::Random().ToString(),
                   static_cast<int>(PgIdempotencyStore::kAbandonedAfter.count()),
                   static_cast<int>(kIdempotencyKeptFor.count()));
  if (claimed.empty()) return std::nullopt;
  IdempotencyClaim claim;
  claim.create = {*Uuid::Parse(claimed[0][0].c_str()),
                  TimeFromField(claimed[0][1]).value_or(Timestamp())};
  claim.claim_id = claimed[0][2].c_str();  // the claim's time, in microseconds
  return claim;
}

// What the key's row, which another attempt holds or answered, says; none when it was deleted
// (expired) since the claim found it.
std::optional<IdempotencyClaim> ReadClaim(pqxx::transaction_base& tx, const std::string& caller,
                                          const std::string& key, const std::string& fingerprint) {
  auto rows = ExecPrepared(tx,
                           "SELECT fingerprint, state, status, content_type, body, headers::text "
                           "FROM idempotency_keys WHERE caller = $1 AND key = $2",
                           caller, key);
  if (rows.empty()) return std::nullopt;
  return Existing(rows[0], fingerprint);
}

}  // namespace

Result<IdempotencyClaim> PgIdempotencyStore::Claim(const std::string& caller,
                                                   const std::string& key,
                                                   const std::string& fingerprint) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    // The row found by a claim can expire and be deleted before it is read: then claim again.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto claim = TryClaim(tx, caller, key, fingerprint)) return *claim;
      if (auto claim = ReadClaim(tx, caller, key, fingerprint)) return *claim;
    }
    return Fail(ErrorCode::kUnavailable,
                "the Idempotency-Key expired and was deleted while it was read; try again");
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "claiming an Idempotency-Key"));
  }
}

Status PgIdempotencyStore::Finish(const std::string& caller, const std::string& key,
                                  const std::string& claim_id, const http::Answer& answer) {
  // Only while the claim `claim_id` names holds the key: its time is the claim's id.
  constexpr char kHeld[] =
      " WHERE caller = $1 AND key = $2 AND state = 'running'"
      " AND (extract(epoch from claimed_at) * 1e6)::bigint = $3::bigint";
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    if (answer.status >= 500) {
      ExecPrepared(tx, std::string("UPDATE idempotency_keys SET state = 'failed'") + kHeld, caller,
                   key, claim_id);
    } else {
      auto headers = nlohmann::json::array();
      for (const auto& [name, value] : answer.headers) headers.push_back({name, value});
      ExecPrepared(tx,
                   std::string("UPDATE idempotency_keys SET state = 'done', status = $4, "
                               "content_type = $5, body = $6, headers = $7::jsonb") +
                       kHeld,
                   caller, key, claim_id, answer.status, answer.content_type, answer.body,
                   headers.dump());
    }
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "keeping the answer of an Idempotency-Key"));
  }
  return {};
}

namespace {

// Deletes the rows `sql` picks, kDropBatch a statement, until fewer are left.
Result<std::size_t> DropInBatches(PgPool& pool, const std::string& sql) {
  std::size_t dropped = 0;
  for (;;) {
    auto lease = pool.Acquire();
    if (!lease) return std::unexpected(lease.error());
    try {
      pqxx::nontransaction tx(**lease);
      auto n = ExecPrepared(tx, sql, static_cast<int>(kIdempotencyKeptFor.count()), kDropBatch)
                   .affected_rows();
      dropped += n;
      if (n < kDropBatch) return dropped;
    } catch (const std::exception& e) {
      return std::unexpected(PgError(e, "dropping expired Idempotency-Keys"));
    }
  }
}

}  // namespace

Result<DroppedIdempotencyRows> DropExpiredIdempotencyRows(PgPool& pool) {
  auto keys = DropInBatches(pool, R"(
      DELETE FROM idempotency_keys WHERE (caller, key) IN (
        SELECT caller, key FROM idempotency_keys
         WHERE created_at < now() - make_interval(hours => $1)
         LIMIT $2 FOR UPDATE SKIP LOCKED))");
  if (!keys) return std::unexpected(keys.error());
  auto numbers = DropInBatches(pool, R"(
      DELETE FROM idempotent_task_numbers WHERE task_id IN (
        SELECT task_id FROM idempotent_task_numbers
         WHERE created_at < now() - make_interval(hours => $1)
         LIMIT $2 FOR UPDATE SKIP LOCKED))");
  if (!numbers) return std::unexpected(numbers.error());
  return DroppedIdempotencyRows{*keys, *numbers};
}

}  // namespace conveyor

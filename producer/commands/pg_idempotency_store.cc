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

}  // namespace

Result<IdempotencyClaim> PgIdempotencyStore::Claim(const std::string& caller,
                                                   const std::string& key,
                                                   const std::string& fingerprint) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    // One statement each, outside a transaction block: a claim costs one round trip.
    pqxx::nontransaction tx(**lease);
    // An expired key is claimed afresh: another fingerprint, tasks and first time.
    auto claimed =
        ExecPrepared(tx,
                     R"(INSERT INTO idempotency_keys AS k (caller, key, fingerprint, key_id, state)
           VALUES ($1, $2, $3, $4, 'running')
           ON CONFLICT (caller, key) DO UPDATE SET state = 'running', claimed_at = now(),
                  fingerprint = EXCLUDED.fingerprint,
                  key_id = CASE WHEN k.created_at < now() - make_interval(hours => $6)
                                THEN EXCLUDED.key_id ELSE k.key_id END,
                  created_at = CASE WHEN k.created_at < now() - make_interval(hours => $6)
                                    THEN now() ELSE k.created_at END
            WHERE k.created_at < now() - make_interval(hours => $6)
               OR (k.fingerprint = EXCLUDED.fingerprint
                   AND (k.state = 'failed'
                        OR (k.state = 'running'
                            AND k.claimed_at < now() - make_interval(mins => $5))))
           RETURNING key_id, (extract(epoch from created_at) * 1e6)::bigint,
                     (extract(epoch from claimed_at) * 1e6)::bigint)",
                     caller, key, fingerprint, Uuid::Random().ToString(),
                     static_cast<int>(kAbandonedAfter.count()), static_cast<int>(kKeptFor.count()));
    IdempotencyClaim claim;
    if (!claimed.empty()) {
      claim.create = {*Uuid::Parse(claimed[0][0].c_str()),
                      TimeFromField(claimed[0][1]).value_or(Timestamp())};
      claim.claim_id = claimed[0][2].c_str();  // the claim's time, in microseconds
    } else {
      claim = Existing(ExecPrepared(tx,
                                    "SELECT fingerprint, state, status, content_type, body, "
                                    "headers::text FROM idempotency_keys "
                                    "WHERE caller = $1 AND key = $2",
                                    caller, key)
                           .at(0),
                       fingerprint);
    }
    return claim;
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

Status PgIdempotencyStore::DropExpired() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    ExecPrepared(
        tx, "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        static_cast<int>(kKeptFor.count()));
    return {};
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "dropping expired Idempotency-Keys"));
  }
}

}  // namespace conveyor

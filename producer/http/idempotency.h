// Idempotent creates: the Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-
// header) on every route that creates tasks, in every dialect. A client that got a 503 or no
// answer at all sends the same request with the same key again:
//   - the request was answered before (2xx or 4xx): the same answer, replayed (with
//     `Idempotent-Replayed: true`), and nothing is created again;
//   - it got no answer, or a 5xx: it runs again under the same key id, which names the same
//     task ids, numbers and command ids (TaskCommandService::Create), so a command that reached
//     Kafka after all is applied once, and the answer names the same task;
//   - it is still being answered: 409, try again (Retry-After: 1);
//   - the same key with another request (method, path, query, Content-Type or body): 400,
//     naming the header.
// Keys are each caller's own (Caller::Identity) and are remembered for 24 hours.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/uuid.h"
#include "http/message.h"

namespace conveyor::http {

inline constexpr char kIdempotencyKeyHeader[] = "Idempotency-Key";
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 255;

// What claiming a key found.
struct IdempotencyClaim {
  enum class Outcome {
    kClaimed,     // first seen, or its last attempt got no answer: run the request
    kAnswered,    // answered before: replay `answer`
    kInProgress,  // another request with the key is being answered now
    kMismatch,    // the key was used with another request
  };
  Outcome outcome = Outcome::kClaimed;
  std::optional<Answer> answer;  // kAnswered
  IdempotentCreate create;       // kClaimed: the key's id and first attempt, as first stored
  // kClaimed: names this claim of the key (the store's own token), for Finish.
  std::string claim_id;
};

// Where keys and answers are kept (commands/pg_idempotency_store.h). Thread-safe.
class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;
  // Claims `caller`'s `key` for a request with `fingerprint`. The first claim of a key stores
  // a new key id (random: a key used again after it was forgotten names other tasks) and the
  // time; a later one gets them back. kUnavailable when the store did not answer.
  virtual Result<IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                         const std::string& fingerprint) = 0;
  // Keeps the answer the request that made claim `claim_id` got, to replay it; a 5xx answer is
  // not kept: the key is free for the next attempt. Only while that claim holds the key: a late
  // Finish (RetriedFinishes) after the claim was abandoned and the key claimed again, or
  // forgotten and used again, changes nothing.
  virtual Status Finish(const std::string& caller, const std::string& key,
                        const std::string& claim_id, const Answer& answer) = 0;
};

// An IdempotencyStore that keeps, on its next claim, the answer of a key whose Finish failed.
// When PostgreSQL goes away while a request is answered, its key stays claimed: without this,
// the client's retry after the outage would be told the request is still being answered
// (409) until the claim is abandoned (PgIdempotencyStore::kAbandonedAfter, 2 minutes). Here
// the next Claim of that key on this producer first keeps the answer (a 5xx frees the key),
// so the retry runs again, or is replayed, as soon as the store answers. A retry that reaches
// another producer still waits for the claim to be abandoned. An answer is remembered for
// `max_age` (after that the store has freed its key anyway) and at most `capacity` of them at
// once; past that a key waits as before. Thread-safe when `store` is.
class RetriedFinishes final : public IdempotencyStore {
 public:
  RetriedFinishes(IdempotencyStore& store, const Clock& clock,
                  std::chrono::microseconds max_age = std::chrono::minutes(2),
                  std::size_t capacity = 10000)
      : store_(store), clock_(clock), max_age_(max_age), capacity_(capacity) {}

  // kUnavailable, as the store's own, when the remembered answer still cannot be kept.
  Result<IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                 const std::string& fingerprint) override;
  Status Finish(const std::string& caller, const std::string& key, const std::string& claim_id,
                const Answer& answer) override;

  // How many answers wait to be kept.
  std::size_t waiting() const;

 private:
  using KeyOf = std::pair<std::string, std::string>;  // caller, key
  struct Unkept {
    std::string claim_id;
    Answer answer;
    Timestamp since;
  };
  Status KeepRemembered(const std::string& caller, const std::string& key_text);
  void Remember(const KeyOf& key, Unkept unkept);
  void ForgetOld();  // under mutex_

  IdempotencyStore& store_;
  const Clock& clock_;
  const std::chrono::microseconds max_age_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<KeyOf, Unkept> waiting_;
};

// kInvalidArgument naming the header unless `key` is 1 to kMaxIdempotencyKeyBytes printable
// ASCII characters.
Status CheckIdempotencyKey(std::string_view key);
// SHA-256 (hex) of what makes two requests the same one: method, path, query, the headers that
// shape the answer (Content-Type, Accept, SO-TimeZone) and body, each part length-prefixed.
std::string RequestFingerprint(const Request& request);

}  // namespace conveyor::http

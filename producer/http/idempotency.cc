#include "http/idempotency.h"

#include "auth/credentials.h"
#include "conveyor/logging.h"

namespace conveyor::http {

Status CheckIdempotencyKey(std::string_view key) {
  bool printable = !key.empty() && key.size() <= kMaxIdempotencyKeyBytes;
  for (char c : key) printable = printable && c >= 0x20 && c <= 0x7e;
  if (!printable)
    return Fail(ErrorCode::kInvalidArgument,
                "must be 1 to " + std::to_string(kMaxIdempotencyKeyBytes) +
                    " printable ASCII characters (a UUID is a good one)",
                kIdempotencyKeyHeader);
  return {};
}

std::string RequestFingerprint(const Request& request) {
  // Each part is preceded by its length, so that no two lists of parts read the same.
  std::string text;
  auto part = [&text](std::string_view p) {
    text += std::to_string(p.size()) + ':';
    text += p;
  };
  part(request.method);
  part(request.path);
  for (const auto& [name, value] : request.params) {
    part(name);
    part(value);
  }
  for (const char* header : {"Content-Type", "Accept", "SO-TimeZone"}) part(request.Header(header));
  part(request.body);
  return auth::Sha256Hex(text);
}

Result<IdempotencyClaim> RetriedFinishes::Claim(const std::string& caller, const std::string& key,
                                                const std::string& fingerprint) {
  if (auto s = KeepRemembered(caller, key); !s) return std::unexpected(s.error());
  return store_.Claim(caller, key, fingerprint);
}

Status RetriedFinishes::Finish(const std::string& caller, const std::string& key,
                               const std::string& claim_id, const Answer& answer) {
  auto s = store_.Finish(caller, key, claim_id, answer);
  if (!s) Remember({caller, key}, {claim_id, answer, clock_.Now()});
  return s;
}

std::size_t RetriedFinishes::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

Status RetriedFinishes::KeepRemembered(const std::string& caller, const std::string& key_text) {
  std::optional<Unkept> unkept;
  KeyOf key;
  {
    std::lock_guard lock(mutex_);
    if (waiting_.empty()) return {};  // nearly always: no copy of the key for the lookup
    key = {caller, key_text};
    auto it = waiting_.find(key);
    if (it == waiting_.end()) return {};
    unkept = std::move(it->second);
    waiting_.erase(it);
  }
  auto s = store_.Finish(key.first, key.second, unkept->claim_id, unkept->answer);
  if (!s) {
    Remember(key, std::move(*unkept));
    return s;
  }
  logging::Get("ingest")->info(
      "the answer to Idempotency-Key '{}' of {} ({}) that was not kept is kept now, if its claim "
      "still holds the key",
      key.second, key.first, unkept->answer.status);
  return {};
}

void RetriedFinishes::Remember(const KeyOf& key, Unkept unkept) {
  std::lock_guard lock(mutex_);
  ForgetOld();
  if (waiting_.size() < capacity_ || waiting_.contains(key))
    waiting_.insert_or_assign(key, std::move(unkept));
}

void RetriedFinishes::ForgetOld() {
  auto now = clock_.Now();
  std::erase_if(waiting_, [&](const auto& entry) { return now - entry.second.since >= max_age_; });
}

}  // namespace conveyor::http

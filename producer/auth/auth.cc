#include "auth/auth.h"

#include "auth/credentials.h"
#include "conveyor/logging.h"
#include "conveyor/pg_rows.h"

namespace conveyor {
namespace {

constexpr char kWrongCredentials[] = "unknown id or wrong secret";

ClientRecord ClientFromRow(const pqxx::row& r) {
  ClientRecord c;
  c.id = Uuid::Parse(r[0].c_str()).value_or(Uuid());
  c.name = r[1].c_str();
  c.user_id = Uuid::Parse(r[2].c_str()).value_or(Uuid());
  c.created_at = TimeFromField(r[3]).value_or(Timestamp());
  c.created_by = r[4].c_str();
  c.enabled = r[5].as<bool>();
  return c;
}

constexpr char kClientColumns[] =
    "id, name, user_id, (extract(epoch from created_at) * 1e6)::bigint, created_by, enabled";

}  // namespace

Result<std::optional<CredentialStore::Secret>> PgCredentialStore::FindSecret(const Uuid& id) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = ExecPrepared(tx,
                             R"(SELECT 'client', name, secret_hash FROM clients
            WHERE id = $1 AND enabled AND deleted_at IS NULL
           UNION ALL
           SELECT 'admin', name, secret_hash FROM admin_keys
            WHERE id = $1 AND revoked_at IS NULL)",
                             id.ToString());
    if (rows.empty()) return std::optional<Secret>();
    Secret s;
    s.caller.kind = std::string_view(rows[0][0].c_str()) == "admin" ? Caller::Kind::kAdmin
                                                                    : Caller::Kind::kClient;
    s.caller.id = id;
    s.caller.name = rows[0][1].c_str();
    s.secret_hash = rows[0][2].c_str();
    return std::optional<Secret>(std::move(s));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading credentials"));
  }
}

Result<std::optional<CredentialStore::Token>> PgCredentialStore::FindToken(
    const std::string& token_sha256) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows =
        ExecPrepared(tx,
                     R"(SELECT c.id, c.name, (extract(epoch from t.expires_at) * 1e6)::bigint
             FROM access_tokens t JOIN clients c ON c.id = t.client_id
            WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL
              AND c.enabled AND c.deleted_at IS NULL)",
                     token_sha256);
    if (rows.empty()) return std::optional<Token>();
    Token t;
    t.caller.kind = Caller::Kind::kClient;
    t.caller.id = Uuid::Parse(rows[0][0].c_str()).value_or(Uuid());
    t.caller.name = rows[0][1].c_str();
    t.expires_at = TimeFromField(rows[0][2]).value_or(Timestamp());
    return std::optional<Token>(std::move(t));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading a token"));
  }
}

Status PgCredentialStore::SaveToken(const std::string& token_sha256, const Uuid& client_id,
                                    Timestamp issued_at, Timestamp expires_at) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    tx.exec_params(
        R"(INSERT INTO access_tokens (token_sha256, client_id, issued_at, expires_at)
           VALUES ($1, $2, $3::timestamptz, $4::timestamptz))",
        token_sha256, client_id.ToString(), TimeParam(issued_at), TimeParam(expires_at));
    // Expired tokens are of no use to anyone; dropping them here keeps the table small.
    tx.exec_params(
        "DELETE FROM access_tokens WHERE expires_at < $1::timestamptz - interval '1 day'",
        TimeParam(issued_at));
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "saving a token"));
  }
  return {};
}

Result<ClientRecord> PgCredentialStore::CreateClient(const ClientRecord& client,
                                                     const std::string& secret_hash) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto row = tx.exec_params1(
        "INSERT INTO clients (id, name, secret_hash, user_id, created_by) VALUES ($1, $2, $3, "
        "$4, $5) RETURNING " +
            std::string(kClientColumns),
        client.id.ToString(), client.name, secret_hash, client.user_id.ToString(),
        client.created_by);
    auto stored = ClientFromRow(row);
    tx.commit();
    return stored;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "creating client " + client.name));
  }
}

Result<std::optional<ClientRecord>> PgCredentialStore::FindClient(const Uuid& id) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = tx.exec_params("SELECT " + std::string(kClientColumns) +
                                   " FROM clients WHERE id = $1 AND deleted_at IS NULL",
                               id.ToString());
    if (rows.empty()) return std::optional<ClientRecord>();
    return std::optional<ClientRecord>(ClientFromRow(rows[0]));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading client " + id.ToString()));
  }
}

Result<std::vector<ClientRecord>> PgCredentialStore::ListClients() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<ClientRecord> out;
  try {
    pqxx::read_transaction tx(**lease);
    for (const auto& r : tx.exec("SELECT " + std::string(kClientColumns) +
                                 " FROM clients WHERE deleted_at IS NULL ORDER BY created_at, id"))
      out.push_back(ClientFromRow(r));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "listing clients"));
  }
  return out;
}

namespace {

// Revokes every token of the client that is not revoked yet.
void RevokeTokensOf(pqxx::work& tx, const Uuid& client_id) {
  tx.exec_params(
      "UPDATE access_tokens SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL",
      client_id.ToString());
}

}  // namespace

Result<std::optional<ClientRecord>> PgCredentialStore::UpdateClient(const Uuid& id,
                                                                    const ClientChange& change) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        "UPDATE clients SET name = COALESCE($2, name), secret_hash = COALESCE($3, secret_hash), "
        "enabled = COALESCE($4, enabled) WHERE id = $1 AND deleted_at IS NULL RETURNING " +
            std::string(kClientColumns),
        id.ToString(), change.name, change.secret_hash, change.enabled);
    if (rows.empty()) return std::optional<ClientRecord>();
    if (change.secret_hash) RevokeTokensOf(tx, id);
    auto stored = ClientFromRow(rows[0]);
    tx.commit();
    return std::optional<ClientRecord>(std::move(stored));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "changing client " + id.ToString()));
  }
}

Status PgCredentialStore::DeleteClient(const Uuid& id) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        "UPDATE clients SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING 1",
        id.ToString());
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no client " + id.ToString());
    RevokeTokensOf(tx, id);
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "deleting client " + id.ToString()));
  }
  return {};
}

Status PgCredentialStore::RevokeToken(const std::string& token_sha256, const Uuid& client_id) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    tx.exec_params(
        "UPDATE access_tokens SET revoked_at = now() "
        "WHERE token_sha256 = $1 AND client_id = $2 AND revoked_at IS NULL",
        token_sha256, client_id.ToString());
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "revoking a token"));
  }
  return {};
}

Result<std::string> PgCredentialStore::CreateAdminKey(const std::string& name) {
  auth::AdminKeyText key{Uuid::Random(), auth::RandomToken()};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    tx.exec_params("INSERT INTO admin_keys (id, name, secret_hash) VALUES ($1, $2, $3)",
                   key.id.ToString(), name, auth::HashSecret(key.secret));
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "creating an admin key"));
  }
  return key.ToString();
}

Status PgCredentialStore::RevokeAdminKey(const Uuid& id) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        "UPDATE admin_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 "
        "RETURNING 1",
        id.ToString());
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no admin key " + id.ToString());
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "revoking admin key " + id.ToString()));
  }
  return {};
}

Authenticator::Authenticator(CredentialStore& store, const Clock& clock, AuthSettings settings)
    : store_(store),
      clock_(clock),
      settings_(settings),
      decoy_hash_(auth::DecoyHash(settings.decoy_iterations)),
      throttle_(clock, settings.throttle),
      verify_concurrency_(static_cast<int>(
          std::clamp<std::ptrdiff_t>(settings.verify_concurrency, 1, kMaxVerifyConcurrency))),
      verify_slots_(verify_concurrency_) {}

void Authenticator::Forget(const Uuid& id) {
  std::lock_guard lock(mutex_);
  ++generation_;
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.caller.id == id; });
}

void Authenticator::SetListening(bool listening) {
  std::lock_guard lock(mutex_);
  listening_ = listening;
  ++generation_;
  cache_.clear();
}

std::optional<Caller> Authenticator::Cached(const std::string& key, Timestamp now) {
  std::lock_guard lock(mutex_);
  if (!listening_) return std::nullopt;
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  if (it->second.valid_until <= now) {
    cache_.erase(it);
    return std::nullopt;
  }
  return it->second.caller;
}

std::uint64_t Authenticator::Generation() {
  std::lock_guard lock(mutex_);
  return generation_;
}

void Authenticator::Remember(const std::string& key, const Caller& caller, Timestamp valid_until,
                             std::uint64_t generation) {
  if (settings_.cache_ttl.count() <= 0) return;
  auto now = clock_.Now();
  std::lock_guard lock(mutex_);
  if (!listening_ || generation != generation_) return;
  if (cache_.size() >= settings_.cache_capacity) {
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.valid_until <= now; });
    if (cache_.size() >= settings_.cache_capacity) cache_.clear();
  }
  cache_[key] = CacheEntry{caller, valid_until};
}

std::unexpected<Error> Authenticator::Refuse(std::string_view secret) {
  auth::VerifySecret(secret, decoy_hash_);
  return Fail(ErrorCode::kUnauthenticated, kWrongCredentials);
}

Result<Caller> Authenticator::Verify(const Uuid& id, std::string_view secret, bool clients_only) {
  if (secret.size() > auth::kMaxSecretBytes)
    return Fail(ErrorCode::kUnauthenticated, "the secret is over the limit of " +
                                                 std::to_string(auth::kMaxSecretBytes) + " bytes");
  auto found = store_.FindSecret(id);
  if (!found) return std::unexpected(found.error());
  if (!*found || (clients_only && (*found)->caller.is_admin())) return Refuse(secret);
  if (!auth::VerifySecret(secret, (*found)->secret_hash))
    return Fail(ErrorCode::kUnauthenticated, kWrongCredentials);
  return (*found)->caller;
}

// Holds one of the Authenticator's verification slots while it lives.
class VerifySlot {
 public:
  VerifySlot(std::counting_semaphore<kMaxVerifyConcurrency>& slots, std::atomic<int>& count)
      : slots_(slots), count_(count) {}
  ~VerifySlot() {
    slots_.release();
    count_.fetch_sub(1);
  }
  VerifySlot(const VerifySlot&) = delete;
  VerifySlot& operator=(const VerifySlot&) = delete;

 private:
  std::counting_semaphore<kMaxVerifyConcurrency>& slots_;
  std::atomic<int>& count_;
};

Result<Caller> Authenticator::CheckSecret(std::string_view id_text, std::string_view secret,
                                          bool clients_only, std::string_view address) {
  // One bucket per id however it is spelled (case, braces); one for all that are no id.
  auto id = Uuid::Parse(id_text);
  std::string bucket = id ? id->ToString() : std::string("(not an id)");
  if (auto s = throttle_.Check(bucket, address); !s) return std::unexpected(s.error());
  // At most twice as many checks wait as run: the rest of the HTTP threads stay free.
  bool may_wait = verifying_.fetch_add(1) < 3 * verify_concurrency_;
  bool admitted = may_wait && verify_slots_.try_acquire_for(settings_.verify_wait);
  verifying_.fetch_sub(admitted ? 0 : 1);
  if (!admitted) {
    Error busy = MakeError(ErrorCode::kUnavailable,
                           "too many logins are being checked at once; try again in a second");
    busy.retry_after = std::chrono::seconds(1);
    return std::unexpected(std::move(busy));
  }
  VerifySlot slot(verify_slots_, verifying_);
  // Again: the failures of the checks this one waited behind count too.
  if (auto s = throttle_.Check(bucket, address); !s) return std::unexpected(s.error());
  auto caller = id ? Verify(*id, secret, clients_only) : Refuse(secret);
  if (!caller && caller.error().code == ErrorCode::kUnauthenticated)
    throttle_.Failed(bucket, address);
  return caller;
}

Result<Caller> Authenticator::Authenticate(std::string_view header, std::string_view address) {
  auto credential = auth::ParseAuthorization(header);
  if (!credential) return std::unexpected(credential.error());
  auto now = clock_.Now();
  auto key = auth::Sha256Hex(header);
  if (auto cached = Cached(key, now)) return *cached;
  return Coalesced(key, [&]() -> Result<Caller> {
    // A check of the same credential may have ended (and been remembered) between the cache's
    // miss above and this one taking its turn: then its answer is used, not a second check.
    if (auto cached = Cached(key, now)) return *cached;
    return Check(*credential, key, now, address);
  });
}

Result<Caller> Authenticator::Coalesced(const std::string& key,
                                        const std::function<Result<Caller>()>& check) {
  std::promise<Result<Caller>> promise;
  std::shared_future<Result<Caller>> answer;
  {
    std::lock_guard lock(mutex_);
    if (auto it = in_flight_.find(key); it != in_flight_.end()) {
      answer = it->second;
    } else {
      in_flight_.emplace(key, promise.get_future().share());
    }
  }
  if (answer.valid()) return answer.get();  // the same credential is being checked: its answer
  auto result = check();
  promise.set_value(result);
  std::lock_guard lock(mutex_);
  in_flight_.erase(key);
  return result;
}

Result<Caller> Authenticator::Check(const auth::Credential& credential, const std::string& key,
                                    Timestamp now, std::string_view address) {
  // What the store answers below may be overtaken by a change heard meanwhile: then it is not
  // remembered (Remember compares the generation).
  auto generation = Generation();
  if (const auto* basic = std::get_if<auth::BasicCredential>(&credential)) {
    auto caller = CheckSecret(basic->id, basic->secret, false, address);
    if (caller) Remember(key, *caller, now + settings_.cache_ttl, generation);
    return caller;
  }
  const auto& token = std::get<auth::BearerCredential>(credential).token;
  if (auto admin = auth::AdminKeyText::Parse(token)) {
    auto caller = CheckSecret(admin->id.ToString(), admin->secret, false, address);
    if (caller && !caller->is_admin())
      return Fail(ErrorCode::kUnauthenticated,
                  "a client's secret is not a bearer credential: get a token at POST /Token, "
                  "or send Basic base64(id:secret)");
    if (caller) Remember(key, *caller, now + settings_.cache_ttl, generation);
    return caller;
  }
  auto found = store_.FindToken(auth::Sha256Hex(token));
  if (!found) return std::unexpected(found.error());
  if (!*found) return Fail(ErrorCode::kUnauthenticated, "the bearer token is unknown or revoked");
  if ((*found)->expires_at <= now)
    return Fail(ErrorCode::kUnauthenticated,
                "the bearer token has expired; request a new one at POST /Token");
  Remember(key, (*found)->caller, std::min(now + settings_.cache_ttl, (*found)->expires_at),
           generation);
  return (*found)->caller;
}

Result<Caller> Authenticator::AuthenticateClient(std::string_view client_id,
                                                 std::string_view client_secret,
                                                 std::string_view address) {
  return CheckSecret(client_id, client_secret, true, address);
}

Status Authenticator::RevokeToken(const Caller& client, std::string_view token) {
  return store_.RevokeToken(auth::Sha256Hex(token), client.id);
}

Result<IssuedToken> Authenticator::IssueToken(std::string_view client_id,
                                              std::string_view client_secret,
                                              std::string_view address) {
  auto caller = AuthenticateClient(client_id, client_secret, address);
  if (!caller) return std::unexpected(caller.error());
  auto id = Uuid::Parse(client_id);
  IssuedToken issued{auth::RandomToken(), settings_.token_lifetime};
  auto now = clock_.Now();
  if (auto s = store_.SaveToken(auth::Sha256Hex(issued.access_token), *id, now,
                                now + settings_.token_lifetime);
      !s)
    return std::unexpected(s.error());
  logging::Get("auth")->info("token issued to client {} '{}', valid {} s", id->ToString(),
                             caller->name, settings_.token_lifetime.count());
  return issued;
}

}  // namespace conveyor

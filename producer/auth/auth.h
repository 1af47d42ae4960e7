// Authentication of HTTP callers: the credential store port, its PostgreSQL adapter, and the
// Authenticator that turns an Authorization header into a Caller (caller.h).
//
// Credentials: a client authenticates with its id and secret (HTTP Basic, or POST /Token to
// get a bearer token that expires); an operator with an admin key ("<id>.<secret>" as a
// Bearer credential, or Basic id:secret). Secrets are kept only as PBKDF2 hashes and tokens
// only as SHA-256 hashes (credentials.h).
//
// Guessing is throttled: failed checks of a secret are counted per client id and per source
// address (login_throttle.h), and past the limit an attempt is refused at once (429). PBKDF2
// work is bounded: at most `verify_concurrency` checks run at once and twice as many wait; one
// that would wait beyond that, or longer than `verify_wait`, is refused (503, Retry-After), so a
// flood of logins cannot hold every HTTP thread.
//
// Requests that carry the same credential while it is being checked wait for that one check.
//
// PBKDF2 is deliberately slow (hundreds of milliseconds), so the Authenticator remembers a
// verified credential for `cache_ttl` (keyed by the SHA-256 of the header, never the secret
// itself). A change to a credential (a revoked admin key or token, a client disabled, deleted
// or given a new secret) is heard at once through PostgreSQL (credential_listener.h), and
// Forget drops what was remembered of it; while changes cannot be heard, nothing is
// remembered. A token's own expiry is checked on every request, cached or not.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/caller.h"
#include "auth/client_directory.h"
#include "auth/credentials.h"
#include "auth/login_throttle.h"
#include "conveyor/clock.h"
#include "conveyor/pg.h"
#include "conveyor/result.h"

namespace conveyor {

// The store of credentials and clients. Implementations are thread-safe; every method may
// block on the database and answers kUnavailable when it does not answer.
class CredentialStore : public ClientDirectory {
 public:
  virtual ~CredentialStore() = default;

  struct Secret {
    Caller caller;
    std::string secret_hash;
  };
  struct Token {
    Caller caller;
    Timestamp expires_at;
  };

  // The client, or the admin key that is not revoked, with this id.
  virtual Result<std::optional<Secret>> FindSecret(const Uuid& id) = 0;
  // The token with this SHA-256 (hex) that is not revoked, expired or not.
  virtual Result<std::optional<Token>> FindToken(const std::string& token_sha256) = 0;
  virtual Status SaveToken(const std::string& token_sha256, const Uuid& client_id,
                           Timestamp issued_at, Timestamp expires_at) = 0;

  // Clients. CreateClient stores `secret_hash` as given.
  virtual Result<ClientRecord> CreateClient(const ClientRecord& client,
                                            const std::string& secret_hash) = 0;
  virtual Result<std::vector<ClientRecord>> ListClients() = 0;
  // What an admin changes of a client: each field that is set.
  struct ClientChange {
    std::optional<std::string> name{};
    std::optional<std::string> secret_hash{};  // a new secret: the client's tokens are revoked
    std::optional<bool> enabled{};
  };
  // The client as changed; std::nullopt when there is none (or it was deleted).
  virtual Result<std::optional<ClientRecord>> UpdateClient(const Uuid& id,
                                                           const ClientChange& change) = 0;
  // Deletes the client for good (its tasks stay) and revokes its tokens; kNotFound when there
  // is none.
  virtual Status DeleteClient(const Uuid& id) = 0;
  // Revokes the token with this SHA-256 when it is `client_id`'s; does nothing otherwise, as
  // RFC 7009 §2.2 answers the same for a token that is unknown or another's.
  virtual Status RevokeToken(const std::string& token_sha256, const Uuid& client_id) = 0;

  // Admin keys: creates one named `name` and returns its text (shown once), or revokes one.
  virtual Result<std::string> CreateAdminKey(const std::string& name) = 0;
  // kNotFound when there is no such key.
  virtual Status RevokeAdminKey(const Uuid& id) = 0;
};

// Writes straight to PostgreSQL (clients, admin_keys, access_tokens; migration 0003): clients
// and keys are configuration that must work as soon as they are answered (docs/adr/0005).
class PgCredentialStore final : public CredentialStore {
 public:
  explicit PgCredentialStore(PgPool& pool) : pool_(pool) {}
  Result<std::optional<Secret>> FindSecret(const Uuid& id) override;
  Result<std::optional<Token>> FindToken(const std::string& token_sha256) override;
  Status SaveToken(const std::string& token_sha256, const Uuid& client_id, Timestamp issued_at,
                   Timestamp expires_at) override;
  Result<ClientRecord> CreateClient(const ClientRecord& client,
                                    const std::string& secret_hash) override;
  Result<std::optional<ClientRecord>> FindClient(const Uuid& id) override;
  Result<std::vector<ClientRecord>> ListClients() override;
  Result<std::optional<ClientRecord>> UpdateClient(const Uuid& id,
                                                   const ClientChange& change) override;
  Status DeleteClient(const Uuid& id) override;
  Status RevokeToken(const std::string& token_sha256, const Uuid& client_id) override;
  Result<std::string> CreateAdminKey(const std::string& name) override;
  Status RevokeAdminKey(const Uuid& id) override;

 private:
  PgPool& pool_;
};

struct AuthSettings {
  std::chrono::seconds token_lifetime = std::chrono::hours(8);  // TwoSms's 8 hours
  std::chrono::seconds cache_ttl = std::chrono::seconds(30);    // 0 disables the cache
  std::size_t cache_capacity = 10000;
  // The PBKDF2 work spent on a credential that names no one (an unknown id, an id that is no
  // UUID, a client's id where only an admin's will do): the same as checking a stored secret,
  // so that the time of an answer does not tell which ids exist.
  int decoy_iterations = auth::kPbkdf2Iterations;
  LoginThrottleSettings throttle{};
  std::ptrdiff_t verify_concurrency = 2;  // PBKDF2 checks at once (1 to kMaxVerifyConcurrency)
  std::chrono::milliseconds verify_wait{2000};
};
inline constexpr std::ptrdiff_t kMaxVerifyConcurrency = 256;

struct IssuedToken {
  std::string access_token;
  std::chrono::seconds expires_in;
};

// Thread-safe. Blocks on the store and on PBKDF2 when a credential is not cached.
class Authenticator {
 public:
  Authenticator(CredentialStore& store, const Clock& clock, AuthSettings settings);

  // The caller an Authorization header sent from `address` names. kUnauthenticated (saying
  // why) when it is missing, malformed, unknown, wrong, revoked or expired; kRateLimited after
  // too many failures for its id or address; kUnavailable when the store did not answer or
  // too many checks are waiting.
  Result<Caller> Authenticate(std::string_view authorization_header, std::string_view address = {});

  // The client_credentials grant (RFC 6749 §4.4): a new bearer token for the client with this
  // id and secret, valid for token_lifetime. kUnauthenticated when the id is not a client's
  // or the secret is wrong (admin keys get no tokens: they are bearer credentials already).
  // kRateLimited and kUnavailable as for Authenticate.
  Result<IssuedToken> IssueToken(std::string_view client_id, std::string_view client_secret,
                                 std::string_view address = {});
  // The client with this id and secret (never an admin key), as for IssueToken.
  Result<Caller> AuthenticateClient(std::string_view client_id, std::string_view client_secret,
                                    std::string_view address = {});
  // Revokes `token` when it is `client`'s (RFC 7009: the same answer when it is not).
  Status RevokeToken(const Caller& client, std::string_view token);

  // Forgets what is remembered of the client or admin key with this id (its credential
  // changed).
  void Forget(const Uuid& id);
  // Whether changes to credentials are heard now. While they are not, nothing is remembered
  // (each request is checked against the store); when they are again, the cache starts empty.
  // An Authenticator starts listening: one without a listener (tests) relies on cache_ttl.
  void SetListening(bool listening);

  const AuthSettings& settings() const { return settings_; }

 private:
  // One check per credential at a time: a request whose credential is being checked already
  // (a client that opened many connections at once) waits for that check's answer.
  Result<Caller> Coalesced(const std::string& key, const std::function<Result<Caller>()>& check);
  // The check of a credential that is not remembered; `key` is its header's SHA-256.
  Result<Caller> Check(const auth::Credential& credential, const std::string& key, Timestamp now,
                       std::string_view address);
  // Checks `secret` against the stored hash of `id`: throttled, bounded, counted when wrong.
  Result<Caller> CheckSecret(std::string_view id, std::string_view secret, bool clients_only,
                             std::string_view address);
  Result<Caller> Verify(const Uuid& id, std::string_view secret, bool clients_only);
  // kWrongCredentials, after the decoy's PBKDF2 work.
  std::unexpected<Error> Refuse(std::string_view secret);
  std::optional<Caller> Cached(const std::string& key, Timestamp now);
  // Changes heard so far (Forget, SetListening): what was read from the store before one is
  // not remembered after it.
  std::uint64_t Generation();
  void Remember(const std::string& key, const Caller& caller, Timestamp valid_until,
                std::uint64_t generation);

  CredentialStore& store_;
  const Clock& clock_;
  AuthSettings settings_;
  struct CacheEntry {
    Caller caller;
    Timestamp valid_until;
  };
  std::string decoy_hash_;  // auth::DecoyHash(settings_.decoy_iterations)
  LoginThrottle throttle_;
  int verify_concurrency_;
  std::counting_semaphore<kMaxVerifyConcurrency> verify_slots_;
  std::atomic<int> verifying_{0};  // checks running or waiting for a slot
  std::mutex mutex_;
  std::unordered_map<std::string, CacheEntry> cache_;  // SHA-256 of the header -> caller
  bool listening_ = true;                              // guarded by mutex_
  std::uint64_t generation_ = 0;                       // guarded by mutex_
  // Checks running, by header SHA-256 (guarded by mutex_).
  std::unordered_map<std::string, std::shared_future<Result<Caller>>> in_flight_;
};

}  // namespace conveyor

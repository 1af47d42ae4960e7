// The producer's request pipeline as main.cc wires it (the three dialects, the server's own
// routes, the Router) on the in-memory fakes of producer_fakes.h and a credential store in
// memory: requests in, answers out, no network, no broker, no database. The store knows one
// client (its secret and a bearer token) and one admin key, secrets hashed at one PBKDF2
// iteration so that verifying is cheap; kClientAuthorization and kAdminAuthorization are
// their Authorization headers.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/credentials.h"
#include "dialects/oracle/routes.h"
#include "dialects/superoffice/routes.h"
#include "dialects/twosms/dialect.h"
#include "http/router.h"
#include "http/server.h"
#include "support/memory_credential_store.h"
#include "support/memory_idempotency_store.h"
#include "support/producer_fakes.h"

namespace conveyor::testing {

class ProducerOnFakes {
 public:
  static constexpr char kClientId[] = "6b1f3c2e-0000-4000-8000-00000000c001";
  static constexpr char kAdminKeyId[] = "6b1f3c2e-0000-4000-8000-00000000a001";
  static constexpr char kSecret[] = "s3cr3t";
  static constexpr char kToken[] = "known-bearer-token";
  static constexpr char kPublicBaseUrl[] = "https://tasks.example.com";
  static constexpr char kClientAuthorization[] = "Bearer known-bearer-token";
  static constexpr char kAdminAuthorization[] =
      "Bearer 6b1f3c2e-0000-4000-8000-00000000a001.s3cr3t";

  ProducerOnFakes() {
    Caller client{Caller::Kind::kClient, *Uuid::Parse(kClientId), "acme"};
    Caller admin{Caller::Kind::kAdmin, *Uuid::Parse(kAdminKeyId), "ops"};
    store.secrets[client.id] = {client, auth::HashSecret(kSecret, 1)};
    store.secrets[admin.id] = {admin, auth::HashSecret(kSecret, 1)};
    store.tokens[auth::Sha256Hex(kToken)] = {client, clock.Now() + std::chrono::hours(1)};
    TaskType noop;
    noop.id = NoopTaskTypeId();
    noop.number = 1;  // as the built-in has it (Oracle taskType.id)
    noop.name = noop.handler = "noop";
    catalog.types = {noop};
    twosms = Built(twosms::TwoSmsDialect::Create(catalog, commands, reader, clock, store, queue));
    superoffice = Built(superoffice::SuperOfficeDialect::Create(catalog, commands, reader));
    oracle = Built(OracleDialect::Create(catalog, commands, reader, kPublicBaseUrl));
    router.emplace(auth, std::vector<http::Dialect*>{twosms.get(), superoffice.get(), oracle.get()},
                   *twosms, http::ServerRoutes(auth, {}, {}), nullptr, &idempotency,
                   [this](std::function<void()> continuation) {
                     ++resumed;
                     continuation();
                   });
  }

  // `method` `path` with `authorization` (none when empty), a JSON `body` and `headers`.
  http::Answer Send(std::string method, std::string path, std::string authorization = {},
                    std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) const {
    http::Request r;
    r.headers = std::move(headers);
    r.method = std::move(method);
    r.path = std::move(path);
    if (!authorization.empty()) r.headers.emplace_back("Authorization", std::move(authorization));
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return router->Handle(std::move(r));
  }

  FakeClock clock{Timestamp(std::chrono::seconds(1'800'000'000))};
  MemoryCredentialStore store;
  Authenticator auth{store, clock, AuthSettings{.decoy_iterations = 1}};  // as cheap as the secrets
  FakeCatalog catalog;
  FakeNumbers numbers;
  NoClients clients;
  RecordingPublisher publisher;
  RecordingAcceptedWrites accepted;
  MemoryIdempotencyStore idempotency{clock};
  FakeReader reader;
  FakeCommandQueue queue;
  TaskCommandService commands{catalog,  numbers, clients,    publisher,
                              accepted, clock,   "commands", "/test"};
  std::unique_ptr<twosms::TwoSmsDialect> twosms;
  std::unique_ptr<superoffice::SuperOfficeDialect> superoffice;
  std::unique_ptr<OracleDialect> oracle;
  std::optional<http::Router> router;
  // How many deferred answers the router resumed elsewhere (the server's handler pool; here,
  // at once on the same thread).
  std::atomic<int> resumed = 0;

 private:
  template <typename T>
  static std::unique_ptr<T> Built(Result<std::unique_ptr<T>> dialect) {
    if (!dialect) throw std::runtime_error(dialect.error().Describe());
    return std::move(*dialect);
  }
};

}  // namespace conveyor::testing

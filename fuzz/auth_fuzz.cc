// Credentials from outside (credentials.h, auth.h, http_auth.h): the first byte picks the
// request path (so the refusal is rendered in each dialect) and whether the rest is an
// Authorization header or the client_id:client_secret of a token request. A header goes
// through ParseAuthorization, AdminKeyText::Parse and Base64Decode on their own, then through
// the pre-routing handler that every request meets (RefuseAnonymous: Authenticator over an
// in-memory store, then the dialect's error body). A fresh store per input knows one client,
// one admin key and one token, with secrets hashed at one PBKDF2 iteration so that a
// verification is cheap.
#include <cstdlib>

#include "auth/auth.h"
#include "auth/credentials.h"
#include "fuzz_input.h"
#include "http/guard.h"
#include "support/memory_credential_store.h"

namespace conveyor {
namespace {

// The seeds in fuzz/corpus/auth use these credentials.
constexpr char kClientId[] = "6b1f3c2e-0000-4000-8000-00000000c001";
constexpr char kAdminKeyId[] = "6b1f3c2e-0000-4000-8000-00000000a001";
constexpr char kSecret[] = "s3cr3t";
constexpr char kToken[] = "known-bearer-token";

struct Credentials {
  Credentials() {
    Caller client{Caller::Kind::kClient, *Uuid::Parse(kClientId), "acme"};
    Caller admin{Caller::Kind::kAdmin, *Uuid::Parse(kAdminKeyId), "ops"};
    store.secrets[client.id] = {client, auth::HashSecret(kSecret, 1)};
    store.secrets[admin.id] = {admin, auth::HashSecret(kSecret, 1)};
    store.tokens[auth::Sha256Hex(kToken)] = {client, clock.Now() + std::chrono::hours(1)};
  }
  FakeClock clock{Timestamp(std::chrono::seconds(1'800'000'000))};
  testing::MemoryCredentialStore store;
};

// A path of each dialect (the refusal is answered in its error body) and a public one.
constexpr const char* kPaths[] = {
    "/api/v2/admin/tasks/account", "/api/v1/Agents/BatchTask/GetBatchTaskInfo",
    "/api/v1/BatchTask/1000", "/services/rest/connect/v1.4/tasks", "/healthz"};

void CheckHeader(std::string_view header, std::string_view path) {
  Credentials credentials;
  auto parsed = auth::ParseAuthorization(header);
  if (parsed)
    if (auto* basic = std::get_if<auth::BasicCredential>(&*parsed);
        basic && (basic->id.empty() || basic->secret.empty()))
      std::abort();
  auth::AdminKeyText::Parse(header);
  auth::Base64Decode(header);

  Authenticator authenticator(credentials.store, credentials.clock, AuthSettings{});
  httplib::Request req;
  req.method = "GET";
  req.path = std::string(path);
  req.headers.emplace("Authorization", std::string(header));
  httplib::Response res;
  RefuseAnonymous(authenticator)(req, res);
}

void CheckTokenRequest(std::string_view id_and_secret) {
  Credentials credentials;
  auto colon = id_and_secret.find(':');
  auto id = id_and_secret.substr(0, colon);
  auto secret =
      colon == std::string_view::npos ? std::string_view() : id_and_secret.substr(colon + 1);
  Authenticator authenticator(credentials.store, credentials.clock, AuthSettings{});
  auto issued = authenticator.IssueToken(id, secret);
  if (issued && issued->access_token.empty()) std::abort();
}

}  // namespace
}  // namespace conveyor

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  fuzz::FuzzInput in(data, size);
  auto choice = in.TakeByte();
  if (choice & 0x80)
    CheckTokenRequest(in.rest());
  else
    CheckHeader(in.rest(), kPaths[choice % std::size(kPaths)]);
  return 0;
}

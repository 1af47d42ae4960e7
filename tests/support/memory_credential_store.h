// The credential store in memory: what the Authenticator sees of PostgreSQL, for the unit
// tests (auth_test.cc) and the auth fuzz target. Not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.h"

namespace conveyor::testing {

class MemoryCredentialStore final : public CredentialStore {
 public:
  std::map<Uuid, Secret> secrets;
  std::map<std::string, Token> tokens;
  std::map<Uuid, Secret> disabled;
  int secret_reads = 0;

  Result<std::optional<Secret>> FindSecret(const Uuid& id) override {
    ++secret_reads;
    auto it = secrets.find(id);
    return it == secrets.end() ? std::optional<Secret>() : std::optional<Secret>(it->second);
  }
  Result<std::optional<Token>> FindToken(const std::string& sha) override {
    auto it = tokens.find(sha);
    return it == tokens.end() ? std::optional<Token>() : std::optional<Token>(it->second);
  }
  Status SaveToken(const std::string& sha, const Uuid& client_id, Timestamp,
                   Timestamp expires_at) override {
    tokens[sha] = Token{secrets.at(client_id).caller, expires_at};
    return {};
  }
  Result<ClientRecord> CreateClient(const ClientRecord& c, const std::string&) override {
    return c;
  }
  Result<std::optional<ClientRecord>> FindClient(const Uuid&) override {
    return std::optional<ClientRecord>();
  }
  Result<std::vector<ClientRecord>> ListClients() override { return std::vector<ClientRecord>{}; }
  // A changed secret or name is kept; a disabled client's secret is set aside until enabled.
  Result<std::optional<ClientRecord>> UpdateClient(const Uuid& id,
                                                   const ClientChange& change) override {
    if (change.enabled == true && disabled.contains(id))
      secrets[id] = disabled.extract(id).mapped();
    auto it = secrets.find(id);
    if (it == secrets.end() || it->second.caller.is_admin()) return std::optional<ClientRecord>();
    if (change.name) it->second.caller.name = *change.name;
    if (change.secret_hash) {
      it->second.secret_hash = *change.secret_hash;
      std::erase_if(tokens, [&](const auto& kv) { return kv.second.caller.id == id; });
    }
    ClientRecord record{id, it->second.caller.name, Uuid(), Timestamp(), "", true};
    if (change.enabled == false) {
      disabled[id] = it->second;
      secrets.erase(it);
      record.enabled = false;
    }
    return std::optional<ClientRecord>(record);
  }
  Status DeleteClient(const Uuid& id) override {
    if (!secrets.erase(id) && !disabled.erase(id)) return Fail(ErrorCode::kNotFound, "no client");
    std::erase_if(tokens, [&](const auto& kv) { return kv.second.caller.id == id; });
    return {};
  }
  Status RevokeToken(const std::string& sha, const Uuid& client_id) override {
    auto it = tokens.find(sha);
    if (it != tokens.end() && it->second.caller.id == client_id) tokens.erase(it);
    return {};
  }
  Result<std::string> CreateAdminKey(const std::string&) override { return std::string(); }
  Status RevokeAdminKey(const Uuid& id) override {
    secrets.erase(id);
    return {};
  }
};

}  // namespace conveyor::testing

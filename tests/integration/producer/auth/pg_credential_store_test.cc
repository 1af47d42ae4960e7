// PgCredentialStore and the Authenticator over it against a real PostgreSQL server (label:
// integration): clients, admin keys and tokens are stored hashed and found again; changes to
// them are heard at once by every listening Authenticator.
#include <gtest/gtest.h>

#include "auth/auth.h"
#include "auth/credential_listener.h"
#include "auth/credentials.h"
#include "conveyor/pg.h"
#include "conveyor/time_format.h"
#include "support/services.h"
#include "support/wait.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::ScratchDatabase;

// "Basic base64(id:secret)", in standard base64 with padding.
std::string BasicHeader(const Uuid& id, const std::string& secret) {
  std::string b = auth::Base64UrlEncode(id.ToString() + ":" + secret);
  for (char& c : b) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b.size() % 4) b.push_back('=');
  return "Basic " + b;
}

class PgCredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }

  ClientRecord NewClient(const std::string& name) {
    ClientRecord c;
    c.id = Uuid::Random();
    c.name = name;
    c.user_id = Uuid::Random();
    c.created_by = "admin:test";
    return c;
  }

  std::string Text(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  }

  ScratchDatabase db_;
  PgPool pool_{db_.url(), 4};
  PgCredentialStore store_{pool_};
};

TEST_F(PgCredentialStoreTest, ClientIsStoredWithItsHashAndFoundListedAndAuthenticated) {
  auto client = NewClient("acme");
  auto stored = store_.CreateClient(client, auth::HashSecret("client-secret", 1000));
  ASSERT_TRUE(stored.has_value()) << stored.error().Describe();
  EXPECT_EQ(stored->id, client.id);
  EXPECT_GT(stored->created_at.time_since_epoch().count(), 0);

  auto found = store_.FindClient(client.id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->name, "acme");
  EXPECT_EQ((*found)->user_id, client.user_id);
  EXPECT_EQ((*found)->created_by, "admin:test");
  EXPECT_FALSE(store_.FindClient(Uuid::Random())->has_value());

  ASSERT_TRUE(store_.CreateClient(NewClient("beta"), auth::HashSecret("b", 1000)).has_value());
  auto list = store_.ListClients();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "acme");

  // Only the hash is in the database.
  EXPECT_EQ(Text("SELECT count(*) FROM clients WHERE secret_hash LIKE '%client-secret%'"), "0");
  auto secret = store_.FindSecret(client.id);
  ASSERT_TRUE(secret.has_value() && secret->has_value());
  EXPECT_FALSE((*secret)->caller.is_admin());
  EXPECT_TRUE(auth::VerifySecret("client-secret", (*secret)->secret_hash));
}

TEST_F(PgCredentialStoreTest, NameOver18CharactersIsRefusedByTheTableToo) {
  auto stored = store_.CreateClient(NewClient(std::string(19, 'n')), "x");
  ASSERT_FALSE(stored.has_value());
}

TEST_F(PgCredentialStoreTest, AdminKeyIsPrintedOnceStoredHashedAndStopsWhenRevoked) {
  auto key = store_.CreateAdminKey("ops");
  ASSERT_TRUE(key.has_value()) << key.error().Describe();
  auto parsed = auth::AdminKeyText::Parse(*key);
  ASSERT_TRUE(parsed.has_value()) << *key;
  EXPECT_EQ(
      Text("SELECT count(*) FROM admin_keys WHERE secret_hash LIKE '%" + parsed->secret + "%'"),
      "0");

  SystemClock clock;
  Authenticator auth(store_, clock,
                     AuthSettings{.token_lifetime = 8h,
                                  .cache_ttl = 0s,
                                  .cache_capacity = 100});  // no cache: see the store
  auto caller = auth.Authenticate("Bearer " + *key);
  ASSERT_TRUE(caller.has_value()) << caller.error().message;
  EXPECT_TRUE(caller->is_admin());
  EXPECT_EQ(caller->name, "ops");

  ASSERT_TRUE(store_.RevokeAdminKey(parsed->id).has_value());
  auto revoked = auth.Authenticate("Bearer " + *key);
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(store_.RevokeAdminKey(Uuid::Random()).error().code, ErrorCode::kNotFound);
}

TEST_F(PgCredentialStoreTest, TokenIsStoredAsSha256AndExpires) {
  auto client = NewClient("acme");
  ASSERT_TRUE(store_.CreateClient(client, auth::HashSecret("s", 1000)).has_value());
  FakeClock clock(*ParseDateTime("2026-11-25T10:00:00Z"));
  Authenticator auth(store_, clock,
                     AuthSettings{.token_lifetime = 60s, .cache_ttl = 0s, .cache_capacity = 100});
  auto issued = auth.IssueToken(client.id.ToString(), "s");
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  EXPECT_EQ(Text("SELECT count(*) FROM access_tokens WHERE token_sha256 = '" +
                 auth::Sha256Hex(issued->access_token) + "'"),
            "1");
  EXPECT_EQ(Text("SELECT count(*) FROM access_tokens WHERE token_sha256 = '" +
                 issued->access_token + "'"),
            "0");
  EXPECT_EQ(Text("SELECT expires_at - issued_at FROM access_tokens"), "00:01:00");

  auto caller = auth.Authenticate("Bearer " + issued->access_token);
  ASSERT_TRUE(caller.has_value()) << caller.error().message;
  EXPECT_EQ(caller->id, client.id);
  EXPECT_EQ(caller->name, "acme");
  clock.Advance(60s);
  auto expired = auth.Authenticate("Bearer " + issued->access_token);
  ASSERT_FALSE(expired.has_value());
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST_F(PgCredentialStoreTest, UnreachableDatabaseIsUnavailableNotUnauthenticated) {
  PgPool dead("postgresql://postgres@127.0.0.1:" + std::to_string(testing::FreePort()) + "/x", 1);
  PgCredentialStore store(dead);
  SystemClock clock;
  Authenticator auth(store, clock, AuthSettings{});
  auto r = auth.Authenticate("Basic " +
                             std::string("NmIxZjNjMmUtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxOng="));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
}

// Two producers' Authenticators over one database, each hearing changes through a
// CredentialListener of its own, with a cache long enough to hide any change it did not hear.
class CredentialChangesTest : public PgCredentialStoreTest {
 protected:
  static AuthSettings LongCache() {
    AuthSettings s;
    s.cache_ttl = 3600s;
    s.decoy_iterations = 1000;
    return s;
  }
  void SetUp() override {
    PgCredentialStoreTest::SetUp();
    listener_a_.Start();
    listener_b_.Start();
    ASSERT_TRUE(testing::PollUntil(
        [&] { return listener_a_.listening() && listener_b_.listening(); }, 10s));
    client_ = NewClient("acme");
    ASSERT_TRUE(store_.CreateClient(client_, auth::HashSecret("first secret 16ch", 1000)));
  }
  std::string Basic(const std::string& secret) { return BasicHeader(client_.id, secret); }
  // Whether both producers refuse `header` within the deadline.
  bool BothRefuseSoon(const std::string& header) {
    return testing::PollUntil(
        [&] {
          return !a_.Authenticate(header).has_value() && !b_.Authenticate(header).has_value();
        },
        5s, 10ms);
  }
  bool BothAccept(const std::string& header) {
    return a_.Authenticate(header).has_value() && b_.Authenticate(header).has_value();
  }

  SystemClock clock_;
  Authenticator a_{store_, clock_, LongCache()}, b_{store_, clock_, LongCache()};
  CredentialListener listener_a_{db_.url(), a_}, listener_b_{db_.url(), b_};
  ClientRecord client_;
};

TEST_F(CredentialChangesTest, AClientDisabledEnabledGivenANewSecretAndDeletedIsHeardAtOnce) {
  auto first = Basic("first secret 16ch");
  auto token = a_.IssueToken(client_.id.ToString(), "first secret 16ch");
  ASSERT_TRUE(token.has_value()) << token.error().message;
  auto bearer = "Bearer " + token->access_token;
  ASSERT_TRUE(BothAccept(first));  // remembered for an hour from now on
  ASSERT_TRUE(BothAccept(bearer));

  auto disabled = store_.UpdateClient(client_.id, {.enabled = false});
  ASSERT_TRUE(disabled.has_value() && disabled->has_value());
  EXPECT_FALSE((*disabled)->enabled);
  EXPECT_TRUE(BothRefuseSoon(first));
  EXPECT_TRUE(BothRefuseSoon(bearer));
  ASSERT_TRUE(store_.UpdateClient(client_.id, {.enabled = true}).has_value());
  EXPECT_TRUE(BothAccept(first));
  EXPECT_TRUE(BothAccept(bearer));

  ASSERT_TRUE(
      store_.UpdateClient(client_.id, {.secret_hash = auth::HashSecret("second secret 16", 1000)}));
  EXPECT_TRUE(BothRefuseSoon(first));
  EXPECT_TRUE(BothRefuseSoon(bearer)) << "a new secret revokes the client's tokens";
  auto second = Basic("second secret 16");
  EXPECT_TRUE(BothAccept(second));

  ASSERT_TRUE(store_.DeleteClient(client_.id).has_value());
  EXPECT_TRUE(BothRefuseSoon(second));
  EXPECT_FALSE(store_.FindClient(client_.id)->has_value());
  EXPECT_TRUE(store_.ListClients()->empty());
  EXPECT_EQ(store_.DeleteClient(client_.id).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store_.UpdateClient(client_.id, {.enabled = true})->has_value());
}

TEST_F(CredentialChangesTest, ARevokedTokenStopsAtOnceAndOnlyItsClientCanRevokeIt) {
  auto token = a_.IssueToken(client_.id.ToString(), "first secret 16ch");
  ASSERT_TRUE(token.has_value());
  auto bearer = "Bearer " + token->access_token;
  ASSERT_TRUE(BothAccept(bearer));
  Caller other;
  other.id = Uuid::Random();
  ASSERT_TRUE(a_.RevokeToken(other, token->access_token).has_value());
  EXPECT_TRUE(BothAccept(bearer)) << "another client cannot revoke it";
  auto owner = a_.AuthenticateClient(client_.id.ToString(), "first secret 16ch");
  ASSERT_TRUE(owner.has_value());
  ASSERT_TRUE(a_.RevokeToken(*owner, token->access_token).has_value());
  EXPECT_TRUE(BothRefuseSoon(bearer));
  EXPECT_TRUE(BothAccept(Basic("first secret 16ch"))) << "only the token";
}

TEST_F(CredentialChangesTest, AChangeMadeInPsqlIsHeardToo) {
  auto first = Basic("first secret 16ch");
  ASSERT_TRUE(BothAccept(first));
  pqxx::connection conn(db_.url());
  pqxx::work tx(conn);
  tx.exec_params("UPDATE clients SET enabled = false WHERE id = $1", client_.id.ToString());
  tx.commit();
  EXPECT_TRUE(BothRefuseSoon(first));
}

TEST_F(PgCredentialStoreTest, WhileChangesCannotBeHeardNoCredentialIsRemembered) {
  auto client = NewClient("acme");
  ASSERT_TRUE(store_.CreateClient(client, auth::HashSecret("s", 1000)).has_value());
  SystemClock clock;
  AuthSettings settings;
  settings.cache_ttl = 3600s;
  Authenticator deaf(store_, clock, settings), hearing(store_, clock, settings);
  CredentialListener nowhere(
      "postgresql://postgres@127.0.0.1:" + std::to_string(testing::FreePort()) + "/x", deaf);
  nowhere.Start();
  std::string header = BasicHeader(client.id, "s");
  auto pbkdf2_per_two_requests = [&](Authenticator& auth) {
    auto before = auth::Pbkdf2Runs();
    EXPECT_TRUE(auth.Authenticate(header).has_value());
    EXPECT_TRUE(auth.Authenticate(header).has_value());
    return auth::Pbkdf2Runs() - before;
  };
  EXPECT_FALSE(nowhere.listening());
  EXPECT_EQ(pbkdf2_per_two_requests(deaf), 2u) << "checked each time";
  EXPECT_EQ(pbkdf2_per_two_requests(hearing), 1u) << "the control: remembered";
}

}  // namespace
}  // namespace conveyor

// PgCredentialStore and the Authenticator over it against a real PostgreSQL server (label:
// integration): clients, admin keys and tokens are stored hashed and found again.
#include <gtest/gtest.h>

#include "auth/auth.h"
#include "auth/credentials.h"
#include "conveyor/pg.h"
#include "conveyor/time_format.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::ScratchDatabase;

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

}  // namespace
}  // namespace conveyor

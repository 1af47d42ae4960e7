// Credentials without I/O: secret hashing and verification, Authorization header parsing,
// and the Authenticator over an in-memory credential store with a fake clock.
#include "auth/auth.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "auth/credentials.h"
#include "conveyor/time_format.h"
#include "support/memory_credential_store.h"
#include "support/wait.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

// Few iterations keep the tests quick; the count travels inside the stored hash.
constexpr int kTestIterations = 1000;

TEST(SecretHash, VerifiesTheSecretItWasMadeFromAndNothingElse) {
  auto stored = auth::HashSecret("correct horse", kTestIterations);
  EXPECT_TRUE(auth::VerifySecret("correct horse", stored));
  EXPECT_FALSE(auth::VerifySecret("correct hors", stored));
  EXPECT_FALSE(auth::VerifySecret("", stored));
}

TEST(SecretHash, IsSaltedSoTheSameSecretHashesDifferently) {
  auto a = auth::HashSecret("same", kTestIterations);
  auto b = auth::HashSecret("same", kTestIterations);
  EXPECT_NE(a, b);
  EXPECT_TRUE(auth::VerifySecret("same", a));
  EXPECT_TRUE(auth::VerifySecret("same", b));
}

TEST(SecretHash, DefaultCostIsRecordedInTheHashAndNeverContainsTheSecret) {
  auto stored = auth::HashSecret("s3cret-value");
  EXPECT_TRUE(stored.starts_with("pbkdf2-sha256$600000$")) << stored;
  EXPECT_EQ(stored.find("s3cret-value"), std::string::npos);
}

TEST(SecretHash, DecoyHashHasTheFormAndCostOfARealOneAndMatchesNothing) {
  auto decoy = auth::DecoyHash(kTestIterations);
  EXPECT_EQ(decoy.rfind("pbkdf2-sha256$" + std::to_string(kTestIterations) + "$", 0), 0u);
  EXPECT_EQ(decoy.size(), auth::HashSecret("x", kTestIterations).size());
  auto before = auth::Pbkdf2Runs();
  EXPECT_FALSE(auth::VerifySecret("", decoy));
  EXPECT_FALSE(auth::VerifySecret("x", decoy));
  EXPECT_EQ(auth::Pbkdf2Runs() - before, 2u);
}

TEST(SecretHash, MalformedStoredHashMatchesNothing) {
  auto good = auth::HashSecret("x", kTestIterations);
  EXPECT_FALSE(auth::VerifySecret("x", ""));
  EXPECT_FALSE(auth::VerifySecret("x", "x"));
  EXPECT_FALSE(auth::VerifySecret("x", "md5$1000$abc$def"));
  EXPECT_FALSE(auth::VerifySecret("x", "pbkdf2-sha256$-1$abc$def"));
  EXPECT_FALSE(auth::VerifySecret("x", "pbkdf2-sha256$1000$!!$def"));
  EXPECT_FALSE(auth::VerifySecret("x", good.substr(0, good.size() - 4)));  // hash cut short
}

TEST(Token, IsRandomBase64UrlWithoutPaddingAndStoredAsSha256) {
  auto a = auth::RandomToken(), b = auth::RandomToken();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 43u);  // 32 bytes
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(auth::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Base64, DecodesStandardBase64AndRefusesTheRest) {
  EXPECT_EQ(auth::Base64Decode("aWQ6c2VjcmV0").value(), "id:secret");
  EXPECT_EQ(auth::Base64Decode("YQ==").value(), "a");
  EXPECT_EQ(auth::Base64Decode("YWI=").value(), "ab");
  EXPECT_FALSE(auth::Base64Decode("YQ=").has_value());   // length
  EXPECT_FALSE(auth::Base64Decode("Y*Q=").has_value());  // alphabet
  EXPECT_FALSE(auth::Base64Decode("Y=Q=").has_value());  // padding inside
}

TEST(AuthorizationHeader, BearerCarriesTheToken) {
  auto c = auth::ParseAuthorization("Bearer abc-DEF_123");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(std::get<auth::BearerCredential>(*c).token, "abc-DEF_123");
  auto lower = auth::ParseAuthorization("bearer   xyz  ");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ(std::get<auth::BearerCredential>(*lower).token, "xyz");
}

TEST(AuthorizationHeader, BasicCarriesIdAndSecretWhichMayContainAColon) {
  auto c = auth::ParseAuthorization("Basic aWQ6c2U6Y3JldA==");  // "id:se:cret"
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(std::get<auth::BasicCredential>(*c).id, "id");
  EXPECT_EQ(std::get<auth::BasicCredential>(*c).secret, "se:cret");
}

TEST(AuthorizationHeader, MalformedHeadersAreUnauthenticatedSayingWhy) {
  struct Case {
    std::string header, why;
  };
  for (const auto& [header, why] : std::vector<Case>{
           {"", "no credentials"},
           {"   ", "no credentials"},
           {"Bearer", "Bearer credential is empty"},
           {"Bearer a b", "Bearer credential is empty or malformed"},
           {"Basic", "not base64"},
           {"Basic !!!!", "not base64"},
           {"Basic aWRzZWNyZXQ=", "no ':'"},              // "idsecret"
           {"Basic OnNlY3JldA==", "empty id or secret"},  // ":secret"
           {"Basic aWQ6", "empty id or secret"},          // "id:"
           {"Basic aWQ6c2U", "not base64"},               // unpadded
           {"Digest username=x", "scheme 'Digest' is not supported"},
           {"Bearer " + std::string(5000, 'a'), "over the limit of 1024 bytes"},
       }) {
    auto c = auth::ParseAuthorization(header);
    ASSERT_FALSE(c.has_value()) << header;
    EXPECT_EQ(c.error().code, ErrorCode::kUnauthenticated) << header;
    EXPECT_NE(c.error().message.find(why), std::string::npos)
        << header << ": " << c.error().message;
  }
}

TEST(AdminKeyText, IsIdDotSecret) {
  auto k = auth::AdminKeyText::Parse("6b1f3c2e-0000-4000-8000-000000000001.s3cr3t");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->id.ToString(), "6b1f3c2e-0000-4000-8000-000000000001");
  EXPECT_EQ(k->secret, "s3cr3t");
  EXPECT_EQ(k->ToString(), "6b1f3c2e-0000-4000-8000-000000000001.s3cr3t");
  EXPECT_FALSE(auth::AdminKeyText::Parse("not-a-uuid.s3cr3t").has_value());
  EXPECT_FALSE(auth::AdminKeyText::Parse("6b1f3c2e-0000-4000-8000-000000000001.").has_value());
  EXPECT_FALSE(auth::AdminKeyText::Parse(auth::RandomToken()).has_value());
}

using testing::MemoryCredentialStore;

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() {
    client_.kind = Caller::Kind::kClient;
    client_.id = Uuid::Random();
    client_.name = "acme";
    admin_.kind = Caller::Kind::kAdmin;
    admin_.id = Uuid::Random();
    admin_.name = "ops";
    store_.secrets[client_.id] = {client_, auth::HashSecret("client-secret", kTestIterations)};
    store_.secrets[admin_.id] = {admin_, auth::HashSecret("admin-secret", kTestIterations)};
  }
  static std::string Basic(const Uuid& id, const std::string& secret) {
    std::string text = id.ToString() + ":" + secret;
    // Standard base64: the url-safe alphabet differs only in '-' and '_'.
    std::string b = auth::Base64UrlEncode(text);
    for (char& c : b) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (b.size() % 4) b.push_back('=');
    return "Basic " + b;
  }

  FakeClock clock_{*ParseDateTime("2026-11-25T10:00:00Z")};
  MemoryCredentialStore store_;
  Caller client_, admin_;
  AuthSettings settings_{.token_lifetime = std::chrono::seconds(3600),
                         .cache_ttl = std::chrono::seconds(30),
                         .cache_capacity = 100,
                         .decoy_iterations = kTestIterations};
  Authenticator auth_{store_, clock_, settings_};
};

TEST_F(AuthenticatorTest, BasicWithTheClientsSecretIsThatClient) {
  auto c = auth_.Authenticate(Basic(client_.id, "client-secret"));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->is_admin());
  EXPECT_EQ(c->client_id(), client_.id);
  EXPECT_EQ(c->Identity(), "client:" + client_.id.ToString());
}

TEST_F(AuthenticatorTest, WrongSecretOrUnknownIdIsUnauthenticated) {
  for (const auto& header : {Basic(client_.id, "client-secreT"), Basic(Uuid::Random(), "x"),
                             std::string("Basic ") + "bm90LWEtdXVpZDpzZWNyZXQ="}) {
    auto c = auth_.Authenticate(header);
    ASSERT_FALSE(c.has_value()) << header;
    EXPECT_EQ(c.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(c.error().message, "unknown id or wrong secret");
  }
}

// An answer that came sooner for an id that is no one's than for a wrong secret would tell
// an attacker which client ids exist: every refusal does one PBKDF2 derivation.
TEST_F(AuthenticatorTest, EveryRefusalCostsOnePbkdf2AsAWrongSecretDoes) {
  for (const auto& header :
       {Basic(client_.id, "client-secreT"), Basic(Uuid::Random(), "x"),
        std::string("Basic ") + "bm90LWEtdXVpZDpzZWNyZXQ=",  // not-a-uuid:secret
        "Bearer " + Uuid::Random().ToString() + ".admin-secret"}) {
    auto before = auth::Pbkdf2Runs();
    ASSERT_FALSE(auth_.Authenticate(header).has_value()) << header;
    EXPECT_EQ(auth::Pbkdf2Runs() - before, 1u) << header;
  }
  for (const auto& [id, secret] : std::vector<std::pair<std::string, std::string>>{
           {client_.id.ToString(), "wrong"},
           {admin_.id.ToString(), "admin-secret"},  // an admin key gets no token
           {"not-a-guid", "x"}}) {
    auto before = auth::Pbkdf2Runs();
    ASSERT_FALSE(auth_.IssueToken(id, secret).has_value()) << id;
    EXPECT_EQ(auth::Pbkdf2Runs() - before, 1u) << id;
  }
}

TEST_F(AuthenticatorTest, AdminKeyWorksAsBearerAndAsBasic) {
  auto bearer = auth_.Authenticate("Bearer " + admin_.id.ToString() + ".admin-secret");
  ASSERT_TRUE(bearer.has_value()) << bearer.error().message;
  EXPECT_TRUE(bearer->is_admin());
  auto basic = auth_.Authenticate(Basic(admin_.id, "admin-secret"));
  ASSERT_TRUE(basic.has_value()) << basic.error().message;
  EXPECT_TRUE(basic->is_admin());
  EXPECT_FALSE(basic->client_id().has_value());
}

TEST_F(AuthenticatorTest, ClientSecretIsNoBearerCredential) {
  auto c = auth_.Authenticate("Bearer " + client_.id.ToString() + ".client-secret");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("POST /Token"), std::string::npos);
}

TEST_F(AuthenticatorTest, VerifiedCredentialIsCachedSoPbkdf2RunsOncePerTtl) {
  ASSERT_TRUE(auth_.Authenticate(Basic(client_.id, "client-secret")).has_value());
  ASSERT_TRUE(auth_.Authenticate(Basic(client_.id, "client-secret")).has_value());
  EXPECT_EQ(store_.secret_reads, 1);
  clock_.Advance(31s);
  ASSERT_TRUE(auth_.Authenticate(Basic(client_.id, "client-secret")).has_value());
  EXPECT_EQ(store_.secret_reads, 2);
}

TEST_F(AuthenticatorTest, RevokedAdminKeyStopsWorkingWithinTheCacheTtl) {
  std::string header = "Bearer " + admin_.id.ToString() + ".admin-secret";
  ASSERT_TRUE(auth_.Authenticate(header).has_value());
  ASSERT_TRUE(store_.RevokeAdminKey(admin_.id).has_value());
  clock_.Advance(30s);
  auto after = auth_.Authenticate(header);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, IssuedTokenAuthenticatesTheClientUntilItExpires) {
  auto issued = auth_.IssueToken(client_.id.ToString(), "client-secret");
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  EXPECT_EQ(issued->expires_in, 3600s);
  ASSERT_EQ(store_.tokens.size(), 1u);
  EXPECT_EQ(store_.tokens.begin()->first, auth::Sha256Hex(issued->access_token));
  auto c = auth_.Authenticate("Bearer " + issued->access_token);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->id, client_.id);
  clock_.Advance(3600s - 1s);
  EXPECT_TRUE(auth_.Authenticate("Bearer " + issued->access_token).has_value());
  clock_.Advance(1s);  // expiry is checked even though the token is cached
  auto expired = auth_.Authenticate("Bearer " + issued->access_token);
  ASSERT_FALSE(expired.has_value());
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
}

TEST_F(AuthenticatorTest, TokensAreOnlyForClientsWithTheRightSecret) {
  EXPECT_EQ(auth_.IssueToken(client_.id.ToString(), "wrong").error().code,
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth_.IssueToken(admin_.id.ToString(), "admin-secret").error().code,
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth_.IssueToken("not-a-guid", "x").error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth_.Authenticate("Bearer " + auth::RandomToken()).error().message,
            "the bearer token is unknown or revoked");
}

TEST_F(AuthenticatorTest, PastTheFailureLimitEvenTheRightSecretIsRefusedWithoutPbkdf2Work) {
  auto settings = settings_;
  settings.throttle.failures_per_id = 3;
  settings.throttle.window = 60s;
  Authenticator auth(store_, clock_, settings);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(auth.Authenticate(Basic(client_.id, "wrong"), "192.0.2.1").error().code,
              ErrorCode::kUnauthenticated);
  auto runs = auth::Pbkdf2Runs();
  auto refused = auth.Authenticate(Basic(client_.id, "client-secret"), "192.0.2.2");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(refused.error().retry_after, 20s);
  EXPECT_EQ(auth::Pbkdf2Runs(), runs) << "a refused attempt costs no PBKDF2";
  auto token = auth.IssueToken(client_.id.ToString(), "client-secret", "192.0.2.3");
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code, ErrorCode::kRateLimited);
  clock_.Advance(20s);
  EXPECT_TRUE(auth.Authenticate(Basic(client_.id, "client-secret"), "192.0.2.2").has_value());
  EXPECT_TRUE(auth.Authenticate(Basic(admin_.id, "admin-secret"), "192.0.2.1").has_value())
      << "another id from the same address";
}

TEST_F(AuthenticatorTest, WrongAdminKeysAndUnknownIdsCountAsFailuresToo) {
  auto settings = settings_;
  settings.throttle.failures_per_id = 100;
  settings.throttle.failures_per_address = 2;
  Authenticator auth(store_, clock_, settings);
  auth.Authenticate("Bearer " + admin_.id.ToString() + ".wrong", "192.0.2.9");
  auth.Authenticate(Basic(Uuid::Random(), "x"), "192.0.2.9");
  auto refused = auth.Authenticate(Basic(client_.id, "client-secret"), "192.0.2.9");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
}

// A store whose secret lookups wait until released: a verification in progress.
class HeldStore final : public CredentialStore {
 public:
  explicit HeldStore(CredentialStore& inner) : inner_(inner) {}
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }
  Result<std::optional<Secret>> FindSecret(const Uuid& id) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] { return released_; });
    return inner_.FindSecret(id);
  }
  Result<std::optional<Token>> FindToken(const std::string& sha) override {
    return inner_.FindToken(sha);
  }
  Status SaveToken(const std::string& sha, const Uuid& id, Timestamp at, Timestamp until) override {
    return inner_.SaveToken(sha, id, at, until);
  }
  Result<ClientRecord> CreateClient(const ClientRecord& c, const std::string& h) override {
    return inner_.CreateClient(c, h);
  }
  Result<std::optional<ClientRecord>> FindClient(const Uuid& id) override {
    return inner_.FindClient(id);
  }
  Result<std::vector<ClientRecord>> ListClients() override { return inner_.ListClients(); }
  Result<std::optional<ClientRecord>> UpdateClient(const Uuid& id,
                                                   const ClientChange& change) override {
    return inner_.UpdateClient(id, change);
  }
  Status DeleteClient(const Uuid& id) override { return inner_.DeleteClient(id); }
  Status RevokeToken(const std::string& sha, const Uuid& id) override {
    return inner_.RevokeToken(sha, id);
  }
  Result<std::string> CreateAdminKey(const std::string& n) override {
    return inner_.CreateAdminKey(n);
  }
  Status RevokeAdminKey(const Uuid& id) override { return inner_.RevokeAdminKey(id); }

 private:
  CredentialStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  int waiting_ = 0;
};

TEST_F(AuthenticatorTest, ChecksBeyondTheConcurrencyBoundAreRefusedWith503AndRetryAfter) {
  HeldStore held(store_);
  auto settings = settings_;
  settings.verify_concurrency = 1;
  settings.verify_wait = 50ms;
  Authenticator auth(held, clock_, settings);
  std::thread first(
      [&] { EXPECT_TRUE(auth.Authenticate(Basic(client_.id, "client-secret"), "a").has_value()); });
  ASSERT_TRUE(conveyor::testing::PollUntil([&] { return held.waiting() == 1; }, 10s));
  auto busy = auth.Authenticate(Basic(admin_.id, "admin-secret"), "b");
  held.Release();
  first.join();
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(busy.error().retry_after, 1s);
  EXPECT_TRUE(auth.Authenticate(Basic(admin_.id, "admin-secret"), "b").has_value())
      << "the slot is free again";
}

TEST_F(AuthenticatorTest, AnIdCountsAsOneForTheThrottleHoweverItIsSpelled) {
  auto settings = settings_;
  settings.throttle.failures_per_id = 3;
  Authenticator auth(store_, clock_, settings);
  std::string lower = client_.id.ToString(), upper = lower;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto basic = [](const std::string& id, const std::string& secret) {
    std::string b = auth::Base64UrlEncode(id + ":" + secret);
    for (char& c : b) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (b.size() % 4) b.push_back('=');
    return "Basic " + b;
  };
  for (const auto& id : {lower, upper, "{" + lower + "}"})
    EXPECT_EQ(auth.Authenticate(basic(id, "wrong"), "a").error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate(basic(upper, "client-secret"), "b").error().code,
            ErrorCode::kRateLimited);
}

TEST_F(AuthenticatorTest, ACredentialChangedWhileItWasBeingCheckedIsNotRemembered) {
  HeldStore held(store_);
  Authenticator auth(held, clock_, settings_);
  std::thread checking([&] {
    // Read before the change, answered after it: this request may pass, no later one may
    // ride on it.
    EXPECT_TRUE(auth.Authenticate(Basic(client_.id, "client-secret")).has_value());
  });
  ASSERT_TRUE(conveyor::testing::PollUntil([&] { return held.waiting() == 1; }, 10s));
  auth.Forget(client_.id);  // the change is heard
  held.Release();
  checking.join();
  auto reads = store_.secret_reads;
  EXPECT_TRUE(auth.Authenticate(Basic(client_.id, "client-secret")).has_value());
  EXPECT_EQ(store_.secret_reads, reads + 1) << "checked against the store again, not the cache";
}

TEST_F(AuthenticatorTest, ManyRequestsWithOneCredentialAtOnceShareOneCheck) {
  HeldStore held(store_);
  auto settings = settings_;
  settings.verify_concurrency = 1;
  settings.verify_wait = 50ms;  // a second check would be refused as busy
  Authenticator auth(held, clock_, settings);
  auto runs = auth::Pbkdf2Runs();
  std::vector<std::thread> connections;
  std::atomic<int> admitted{0};
  for (int i = 0; i < 8; ++i)
    connections.emplace_back([&] {
      if (auth.Authenticate(Basic(client_.id, "client-secret"), "a").has_value()) ++admitted;
    });
  ASSERT_TRUE(conveyor::testing::PollUntil([&] { return held.waiting() == 1; }, 10s));
  held.Release();
  for (auto& t : connections) t.join();
  EXPECT_EQ(admitted.load(), 8);
  EXPECT_EQ(held.waiting(), 1) << "one store read";
  EXPECT_EQ(auth::Pbkdf2Runs() - runs, 1u);
}

}  // namespace
}  // namespace conveyor

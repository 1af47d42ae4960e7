// Idempotent creates (http/idempotency.h) through the Router of the whole producer on fakes:
// a create sent again with its Idempotency-Key is answered as before and publishes nothing;
// after a 503 it makes the same command again; another request under the key is refused.
// A create's deferred answer resumes on the handler pool only to record a key's answer, and an
// answer after the server closed is dropped. Then RetriedFinishes, on its own over the memory
// store.
#include "http/idempotency.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"
#include "support/memory_idempotency_store.h"
#include "support/producer_on_fakes.h"

namespace conveyor {
namespace {

using nlohmann::json;
using testing::ProducerOnFakes;

constexpr char kTasks[] = "/api/v2/admin/tasks/account";
constexpr char kAuth[] = "Bearer known-bearer-token";

std::string TwoSmsBody(const std::string& parameters = "{}") {
  return json{{"TaskID", NoopTaskTypeId().ToString()},
              {"Frequency", "NONE"},
              {"Parameters", parameters},
              {"ContentType", "application/json"}}
      .dump();
}

class IdempotencyTest : public ::testing::Test {
 protected:
  http::Answer Create(const std::string& key, const std::string& body = TwoSmsBody()) {
    return producer_.Send("POST", kTasks, kAuth, body, {{"Idempotency-Key", key}});
  }
  static std::string IdOf(const http::Answer& a) {
    return json::parse(a.body)["ResponseData"]["Detail"]["ID"].get<std::string>();
  }
  std::vector<CloudEvent> Commands() {
    std::vector<CloudEvent> out;
    for (const auto& m : producer_.publisher.sent) out.push_back(*CloudEvent::Parse(m.value));
    return out;
  }
  ProducerOnFakes producer_;
};

TEST_F(IdempotencyTest, TheSameKeyAndBodyReplayTheAnswerAndPublishNothingMore) {
  auto first = Create("order-1234");
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = Create("order-1234");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("Idempotent-Replayed"), "true");
  EXPECT_EQ(first.Header("Idempotent-Replayed"), "");
  EXPECT_EQ(producer_.publisher.sent.size(), 1u);
  auto other = Create("order-1235");
  ASSERT_EQ(other.status, 200);
  EXPECT_NE(IdOf(other), IdOf(first));
  EXPECT_EQ(producer_.publisher.sent.size(), 2u);
}

TEST_F(IdempotencyTest, AfterA503TheRetryMakesTheSameCommandForTheSameTask) {
  // The first attempt's command is not acknowledged (though Kafka may have kept it).
  std::optional<CloudEvent> unacknowledged;
  producer_.publisher.refuse = [&](const OutgoingMessage& m) {
    unacknowledged = CloudEvent::Parse(m.value).value();
    return true;
  };
  auto refused = Create("order-1234");
  ASSERT_EQ(refused.status, 503) << refused.body;
  ASSERT_TRUE(unacknowledged.has_value());
  producer_.publisher.refuse = nullptr;
  producer_.clock.Advance(std::chrono::seconds(5));  // the client retries a little later
  auto retried = Create("order-1234");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.Header("Idempotent-Replayed"), "") << "run again, not replayed";
  ASSERT_EQ(producer_.publisher.sent.size(), 1u);
  // The very same command: a worker that got both applies one, and the answer names it.
  auto command = Commands().back();
  EXPECT_EQ(command.id, unacknowledged->id);
  EXPECT_EQ(command.time, unacknowledged->time);
  EXPECT_EQ(command.subject, unacknowledged->subject);
  EXPECT_EQ(command.data, unacknowledged->data);
  EXPECT_EQ(IdOf(retried), command.subject);
  EXPECT_EQ(Create("order-1234").body, retried.body);
}

TEST_F(IdempotencyTest, TheKeyWithAnotherRequestIsRefusedNamingTheHeader) {
  ASSERT_EQ(Create("order-1234").status, 200);
  auto other = Create("order-1234", TwoSmsBody(R"({"x":1})"));
  EXPECT_EQ(other.status, 400) << other.body;
  auto error = json::parse(other.body)["Error"];
  EXPECT_EQ(error["ErrorCode"], "InvalidRequest");
  EXPECT_NE(error["ErrorReason"].get<std::string>().find(
                "Idempotency-Key: 'order-1234' was used with another request"),
            std::string::npos)
      << other.body;
  EXPECT_EQ(producer_.publisher.sent.size(), 1u);
}

TEST_F(IdempotencyTest, AKeyStillBeingAnsweredIs409WithRetryAfter) {
  producer_.idempotency.rows[{"client:" + std::string(ProducerOnFakes::kClientId), "k"}] = {
      http::RequestFingerprint([] {
        http::Request r;
        r.method = "POST";
        r.path = kTasks;
        r.headers = {{"Content-Type", "application/json"}};
        r.body = TwoSmsBody();
        return r;
      }()),
      "running",
      {},
      {},
      "another producer's claim"};
  auto busy = Create("k");
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_EQ(busy.Header("Retry-After"), "1");
  EXPECT_TRUE(producer_.publisher.sent.empty());
}

TEST_F(IdempotencyTest, KeysAreEachCallersOwn) {
  ASSERT_EQ(Create("shared-key").status, 200);
  // The same key from another caller, with another request: not the client's key, so neither
  // a replay nor a mismatch.
  auto admins = producer_.Send("POST", "/api/v1/BatchTask", ProducerOnFakes::kAdminAuthorization,
                               R"({"Name":"noop"})", {{"Idempotency-Key", "shared-key"}});
  EXPECT_LT(admins.status, 300) << admins.body;
  EXPECT_EQ(admins.Header("Idempotent-Replayed"), "");
  EXPECT_EQ(producer_.publisher.sent.size(), 2u);
}

TEST_F(IdempotencyTest, AKeyThatIsNotPrintableAsciiOrTooLongIsRefused) {
  for (const std::string& key : {std::string(256, 'k'), std::string("caf\xc3\xa9")}) {
    auto refused = Create(key);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_NE(refused.body.find("Idempotency-Key: must be 1 to 255 printable ASCII characters"),
              std::string::npos)
        << refused.body;
  }
  EXPECT_EQ(Create(std::string(255, 'k')).status, 200);
}

TEST_F(IdempotencyTest, EveryDialectsCreateIsIdempotent) {
  struct Case {
    std::string path, body;
  };
  std::vector<Case> cases = {
      {"/api/v2/admin/tasks/account/bulk",
       json{{"Tasks", json::array({json::parse(TwoSmsBody()), json::parse(TwoSmsBody())})}}.dump()},
      {"/api/v1/Agents/Batch/StartBatchJob", R"({"BatchTaskInfo":{"Name":"noop"}})"},
      {"/api/v1/BatchTask", R"({"Name":"noop"})"},
      {"/services/rest/connect/v1.4/tasks", R"({"name":"idempotent"})"},
  };
  for (const auto& c : cases) {
    auto before = producer_.publisher.sent.size();
    auto first = producer_.Send("POST", c.path, kAuth, c.body, {{"Idempotency-Key", c.path}});
    ASSERT_LT(first.status, 300) << c.path << ": " << first.body;
    auto published = producer_.publisher.sent.size() - before;
    EXPECT_GE(published, 1u) << c.path;
    auto again = producer_.Send("POST", c.path, kAuth, c.body, {{"Idempotency-Key", c.path}});
    EXPECT_EQ(again.status, first.status) << c.path;
    EXPECT_EQ(again.body, first.body) << c.path;
    EXPECT_EQ(again.Header("Idempotent-Replayed"), "true") << c.path;
    EXPECT_EQ(producer_.publisher.sent.size() - before, published) << c.path;
  }
}

TEST_F(IdempotencyTest, WithoutAKeyEveryCreateIsANewTask) {
  auto a = producer_.Send("POST", kTasks, kAuth, TwoSmsBody());
  auto b = producer_.Send("POST", kTasks, kAuth, TwoSmsBody());
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_NE(IdOf(a), IdOf(b));
  EXPECT_TRUE(producer_.idempotency.rows.empty());
}

// RetriedFinishes over the memory store, which goes down on demand: PostgreSQL gone between a
// request's claim and the keeping of its answer.
class StoreThatGoesDown final : public http::IdempotencyStore {
 public:
  explicit StoreThatGoesDown(const Clock& clock) : rows(clock) {}
  Result<http::IdempotencyClaim> Claim(const std::string& caller, const std::string& key,
                                       const std::string& fingerprint) override {
    if (down) return std::unexpected(MakeError(ErrorCode::kUnavailable, "the store is down"));
    return rows.Claim(caller, key, fingerprint);
  }
  Status Finish(const std::string& caller, const std::string& key, const std::string& claim_id,
                const http::Answer& answer) override {
    if (down) return Fail(ErrorCode::kUnavailable, "the store is down");
    return rows.Finish(caller, key, claim_id, answer);
  }
  bool down = false;
  testing::MemoryIdempotencyStore rows;
};

TEST_F(IdempotencyTest, ACreatesAnswerResumesOnTheHandlerPoolOnlyToRecordItsKey) {
  EXPECT_EQ(producer_.Send("POST", kTasks, kAuth, TwoSmsBody()).status, 200);
  EXPECT_EQ(producer_.resumed, 0) << "nothing that blocks follows a create without a key";
  EXPECT_EQ(Create("resumed-once").status, 200);
  EXPECT_EQ(producer_.resumed, 1);
  auto again = Create("resumed-once");
  EXPECT_EQ(again.Header("Idempotent-Replayed"), "true");
  EXPECT_EQ(producer_.resumed, 1) << "a replay runs no route";
}

TEST_F(IdempotencyTest, AnAnswerThatComesAfterTheServerClosedIsDropped) {
  producer_.router->Close();
  http::Request r;
  r.method = "POST";
  r.path = kTasks;
  r.headers = {{"Authorization", kAuth}, {"Content-Type", "application/json"}};
  r.body = TwoSmsBody();
  bool answered = false;
  producer_.router->Handle(r, [&answered](http::Answer) { answered = true; });
  EXPECT_FALSE(answered);
  EXPECT_EQ(producer_.publisher.sent.size(), 1u) << "the create itself went on";
  r.method = "GET";
  r.body.clear();
  producer_.router->Handle(r, [&answered](http::Answer) { answered = true; });
  EXPECT_TRUE(answered) << "a route that is not deferred answers as before";
}

class RetriedFinishesTest : public ::testing::Test {
 protected:
  using Outcome = http::IdempotencyClaim::Outcome;
  Result<http::IdempotencyClaim> Claim(const std::string& key,
                                       const std::string& fingerprint = "fp-1") {
    return retried_.Claim("client:a", key, fingerprint);
  }
  // What claiming `key` finds; kMismatch when the claim failed (which the test is told).
  Outcome OutcomeOf(const std::string& key, const std::string& fingerprint = "fp-1") {
    auto c = Claim(key, fingerprint);
    EXPECT_TRUE(c.has_value()) << c.error().Describe();
    return c ? c->outcome : Outcome::kMismatch;
  }
  // `key` claimed, then its answer not kept: the store went down meanwhile.
  void ClaimedThenNotKept(const std::string& key, const http::Answer& answer) {
    auto claim = Claim(key);
    ASSERT_TRUE(claim.has_value() && claim->outcome == Outcome::kClaimed);
    store_.down = true;
    auto kept = retried_.Finish("client:a", key, claim->claim_id, answer);
    ASSERT_FALSE(kept.has_value());
    EXPECT_EQ(kept.error().code, ErrorCode::kUnavailable);
    store_.down = false;
  }

  FakeClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
  StoreThatGoesDown store_{clock_};
  http::RetriedFinishes retried_{store_, clock_, std::chrono::minutes(2), 2};
};

TEST_F(RetriedFinishesTest, AKeyWhose503WasNotKeptRunsAgainOnItsNextClaim) {
  ClaimedThenNotKept("k", {503, "text/plain", "down", {}});
  auto held = store_.Claim("client:a", "k", "fp-1");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->outcome, Outcome::kInProgress) << "the store alone still holds the claim";
  auto first_id = store_.rows.rows.at({"client:a", "k"}).create.key_id;

  store_.down = true;
  auto refused = Claim("k");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(retried_.waiting(), 1u);

  store_.down = false;
  auto again = Claim("k");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->outcome, Outcome::kClaimed);
  EXPECT_EQ(again->create.key_id, first_id) << "the same key id: the same task and command";
  EXPECT_EQ(retried_.waiting(), 0u);
}

TEST_F(RetriedFinishesTest, AnAnswerThatWasNotKeptIsReplayedOnTheNextClaim) {
  ClaimedThenNotKept("k", {201, "application/json", R"({"id":7})", {}});
  auto replay = Claim("k");
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->outcome, Outcome::kAnswered);
  EXPECT_EQ(replay->answer->status, 201);
  EXPECT_EQ(replay->answer->body, R"({"id":7})");
}

TEST_F(RetriedFinishesTest, PastItsCapacityAKeyWaitsForItsClaimToBeAbandoned) {
  ClaimedThenNotKept("k1", {503, "text/plain", "down", {}});
  ClaimedThenNotKept("k2", {503, "text/plain", "down", {}});
  ClaimedThenNotKept("k3", {503, "text/plain", "down", {}});
  EXPECT_EQ(retried_.waiting(), 2u);
  EXPECT_EQ(OutcomeOf("k1"), Outcome::kClaimed);
  EXPECT_EQ(OutcomeOf("k2"), Outcome::kClaimed);
  EXPECT_EQ(OutcomeOf("k3"), Outcome::kInProgress);
}

TEST_F(RetriedFinishesTest, AnAnswerIsForgottenOnceTheStoreHasFreedItsKeyAnyway) {
  ClaimedThenNotKept("k1", {503, "text/plain", "down", {}});
  clock_.Advance(std::chrono::minutes(2));
  ClaimedThenNotKept("k2", {503, "text/plain", "down", {}});
  EXPECT_EQ(retried_.waiting(), 1u);
  EXPECT_EQ(OutcomeOf("k1"), Outcome::kInProgress) << "the memory store never abandons a claim";
  EXPECT_EQ(OutcomeOf("k2"), Outcome::kClaimed);
}

TEST_F(RetriedFinishesTest, ALateAnswerLeavesAloneTheClaimThatHoldsTheKeyNow) {
  ClaimedThenNotKept("k", {503, "text/plain", "down", {}});
  // Another producer took the key over once the claim was abandoned.
  store_.rows.rows.at({"client:a", "k"}).state = "failed";
  auto other = store_.Claim("client:a", "k", "fp-1");
  ASSERT_TRUE(other.has_value() && other->outcome == Outcome::kClaimed);
  EXPECT_EQ(OutcomeOf("k"), Outcome::kInProgress) << "the other producer's claim still holds it";
  EXPECT_EQ(store_.rows.rows.at({"client:a", "k"}).claim_id, other->claim_id);
  EXPECT_EQ(retried_.waiting(), 0u);
}

TEST_F(RetriedFinishesTest, AKeyWhoseAnswerWasKeptIsClaimedAsTheStoreSays) {
  auto claim = Claim("k");
  ASSERT_TRUE(claim.has_value() && claim->outcome == Outcome::kClaimed);
  ASSERT_TRUE(retried_.Finish("client:a", "k", claim->claim_id, {200, "text/plain", "ok", {}}));
  EXPECT_EQ(retried_.waiting(), 0u);
  EXPECT_EQ(OutcomeOf("k"), Outcome::kAnswered);
  EXPECT_EQ(OutcomeOf("k", "fp-2"), Outcome::kMismatch);
}

}  // namespace
}  // namespace conveyor

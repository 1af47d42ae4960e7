// PgIdempotencyStore and the idempotent task numbers against a real PostgreSQL server (label:
// integration): one claim per key however many producers ask at once, answers kept and
// replayed, a 5xx or an abandoned claim leaves the key free, an answer kept only while its claim
// holds the key, the same task id keeps its number.
#include "commands/pg_idempotency_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "commands/pg_catalog.h"
#include "conveyor/pg.h"
#include "support/services.h"

namespace conveyor {
namespace {

using Outcome = http::IdempotencyClaim::Outcome;

class PgIdempotencyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    auto migrated = RunMigrations(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().Describe();
  }
  Outcome ClaimOutcome(const std::string& fingerprint = "fp-1") {
    auto c = store_.Claim("client:a", "key-1", fingerprint);
    EXPECT_TRUE(c.has_value()) << c.error().Describe();
    return c ? c->outcome : Outcome::kMismatch;
  }
  // Claims the key, which must be free; the claim's id.
  std::string Claimed() {
    auto c = store_.Claim("client:a", "key-1", "fp-1");
    EXPECT_TRUE(c.has_value() && c->outcome == Outcome::kClaimed);
    return c ? c->claim_id : "";
  }
  void Sql(const std::string& statement) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(statement);
    tx.commit();
  }

  testing::ScratchDatabase db_;
  PgPool pool_{db_.url(), 8};
  PgIdempotencyStore store_{pool_};
};

TEST_F(PgIdempotencyStoreTest, AFinishKeepsAnAnswerOnlyWhileItsClaimHoldsTheKey) {
  // Finishes carried out late (http::RetriedFinishes, after an outage).
  auto first = Claimed();
  Sql("UPDATE idempotency_keys SET claimed_at = now() - interval '3 minutes'");  // abandoned
  auto second = Claimed();
  EXPECT_NE(second, first);
  ASSERT_TRUE(store_.Finish("client:a", "key-1", first, {503, "text/plain", "late", {}}));
  EXPECT_EQ(ClaimOutcome(), Outcome::kInProgress) << "the second claim still holds the key";
  ASSERT_TRUE(store_.Finish("client:a", "key-1", first, {200, "text/plain", "late", {}}));
  EXPECT_EQ(ClaimOutcome(), Outcome::kInProgress) << "the second claim's answer is not taken";

  http::Answer kept{201, "application/json", R"({"id":7})", {}};
  ASSERT_TRUE(store_.Finish("client:a", "key-1", second, kept).has_value());
  ASSERT_TRUE(store_.Finish("client:a", "key-1", second, {503, "text/plain", "late", {}}));
  auto replay = store_.Claim("client:a", "key-1", "fp-1");
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->outcome, Outcome::kAnswered);
  EXPECT_EQ(replay->answer->status, 201);
  EXPECT_EQ(replay->answer->body, R"({"id":7})");
}

TEST_F(PgIdempotencyStoreTest, AnAnswerIsKeptAndReplayedAndAnotherRequestIsAMismatch) {
  auto claim = Claimed();
  EXPECT_EQ(ClaimOutcome(), Outcome::kInProgress);
  http::Answer answer{201, "application/json", R"({"id":7})", {{"Location", "/tasks/7"}}};
  ASSERT_TRUE(store_.Finish("client:a", "key-1", claim, answer).has_value());
  auto replay = store_.Claim("client:a", "key-1", "fp-1");
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->outcome, Outcome::kAnswered);
  EXPECT_EQ(replay->answer->status, 201);
  EXPECT_EQ(replay->answer->content_type, "application/json");
  EXPECT_EQ(replay->answer->body, R"({"id":7})");
  EXPECT_EQ(replay->answer->Header("Location"), "/tasks/7");
  EXPECT_EQ(ClaimOutcome("fp-2"), Outcome::kMismatch);
  auto other_caller = store_.Claim("client:b", "key-1", "fp-2");
  EXPECT_EQ(other_caller->outcome, Outcome::kClaimed);
}

TEST_F(PgIdempotencyStoreTest, A5xxOrAnAbandonedClaimLeavesTheKeyFreeForTheSameRequestOnly) {
  auto first = store_.Claim("client:a", "key-1", "fp-1");
  ASSERT_TRUE(first.has_value() && first->outcome == Outcome::kClaimed);
  ASSERT_TRUE(store_.Finish("client:a", "key-1", first->claim_id, {503, "", "", {}}));
  EXPECT_EQ(ClaimOutcome("fp-2"), Outcome::kMismatch);
  auto again = store_.Claim("client:a", "key-1", "fp-1");
  ASSERT_TRUE(again.has_value() && again->outcome == Outcome::kClaimed);
  EXPECT_EQ(again->create.key_id, first->create.key_id) << "the same tasks, the same commands";
  EXPECT_EQ(again->create.first_at, first->create.first_at);
  EXPECT_EQ(ClaimOutcome(), Outcome::kInProgress);
  // Its producer died while answering: the claim is free once it is old enough.
  Sql("UPDATE idempotency_keys SET claimed_at = now() - interval '3 minutes'");
  EXPECT_EQ(ClaimOutcome(), Outcome::kClaimed);
  Sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'");
  auto reused = store_.Claim("client:a", "key-1", "fp-2");
  ASSERT_TRUE(reused.has_value());
  EXPECT_EQ(reused->outcome, Outcome::kClaimed) << "forgotten after 24 hours";
  EXPECT_NE(reused->create.key_id, first->create.key_id) << "a reused key names other tasks";
  EXPECT_GT(reused->create.first_at, first->create.first_at) << "and starts its time afresh";
}

TEST_F(PgIdempotencyStoreTest, AnAnsweredKeyOlderThan24HoursIsClaimedAfreshNotReplayed) {
  auto first = store_.Claim("client:a", "key-1", "fp-1");
  ASSERT_TRUE(first.has_value() && first->outcome == Outcome::kClaimed);
  ASSERT_TRUE(store_.Finish("client:a", "key-1", first->claim_id, {201, "text/plain", "made", {}}));
  EXPECT_EQ(ClaimOutcome(), Outcome::kAnswered);
  Sql("UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second'");
  auto again = store_.Claim("client:a", "key-1", "fp-1");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->outcome, Outcome::kClaimed) << "the same request, a day later: a new one";
  EXPECT_NE(again->create.key_id, first->create.key_id);
  EXPECT_EQ(ClaimOutcome(), Outcome::kInProgress) << "the old answer is not replayed";
  pqxx::connection conn(db_.url());
  EXPECT_TRUE(pqxx::nontransaction(conn).exec1("SELECT body FROM idempotency_keys")[0].is_null())
      << "nor kept";
}

TEST_F(PgIdempotencyStoreTest, OfManyProducersClaimingOneKeyAtOnceExactlyOneRunsIt) {
  std::atomic<int> claimed{0}, waiting{0};
  std::vector<std::thread> producers;
  for (int i = 0; i < 8; ++i)
    producers.emplace_back([&] {
      auto c = store_.Claim("client:a", "key-1", "fp-1");
      if (c && c->outcome == Outcome::kClaimed) ++claimed;
      if (c && c->outcome == Outcome::kInProgress) ++waiting;
    });
  for (auto& t : producers) t.join();
  EXPECT_EQ(claimed.load(), 1);
  EXPECT_EQ(waiting.load(), 7);
}

TEST_F(PgIdempotencyStoreTest, ATaskIdKeepsItsNumberOnEveryAttempt) {
  PgTaskNumberAllocator numbers(pool_);
  auto id = Uuid::Random();
  auto first = numbers.NumberFor(id);
  ASSERT_TRUE(first.has_value()) << first.error().Describe();
  EXPECT_EQ(numbers.NumberFor(id).value(), *first);
  EXPECT_NE(numbers.NumberFor(Uuid::Random()).value(), *first);
  EXPECT_NE(numbers.Next().value(), *first);
}

TEST_F(PgIdempotencyStoreTest, TheExpiryDeletesTheKeysAndNumbersOlderThanTheyAreKept) {
  PgTaskNumberAllocator numbers(pool_);
  ASSERT_TRUE(store_.Claim("client:a", "old", "fp").has_value());
  ASSERT_TRUE(store_.Claim("client:a", "young", "fp").has_value());
  auto old_task = Uuid::Random(), young_task = Uuid::Random();
  ASSERT_TRUE(numbers.NumberFor(old_task).has_value());
  ASSERT_TRUE(numbers.NumberFor(young_task).has_value());
  Sql("UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' "
      "WHERE key = 'old'");
  Sql("UPDATE idempotency_keys SET created_at = now() - interval '23 hours 59 minutes' "
      "WHERE key = 'young'");
  Sql("UPDATE idempotent_task_numbers SET created_at = now() - interval '24 hours 1 minute' "
      "WHERE task_id = '" +
      old_task.ToString() + "'");
  // More than one statement's batch of expired keys.
  Sql("INSERT INTO idempotency_keys (caller, key, fingerprint, key_id, state, created_at) "
      "SELECT 'client:b', 'k' || g, 'fp', gen_random_uuid(), 'done', now() - interval '2 days' "
      "FROM generate_series(1, " +
      std::to_string(kDropBatch) + ") g");
  auto dropped = DropExpiredIdempotencyRows(pool_);
  ASSERT_TRUE(dropped.has_value()) << dropped.error().Describe();
  EXPECT_EQ(dropped->keys, kDropBatch + 1);
  EXPECT_EQ(dropped->numbers, 1u);
  pqxx::connection conn(db_.url());
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT string_agg(key, ',') FROM idempotency_keys")[0].as<std::string>(),
            "young");
  EXPECT_EQ(tx.exec1("SELECT string_agg(task_id::text, ',') FROM idempotent_task_numbers")[0]
                .as<std::string>(),
            young_task.ToString());
}

}  // namespace
}  // namespace conveyor

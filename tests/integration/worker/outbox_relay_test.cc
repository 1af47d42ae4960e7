// OutboxRelay on PgOutboxStore, against real PostgreSQL and Kafka (label: integration).
#include "src/outbox_relay.h"

#include <gtest/gtest.h>

#include "src/pg_outbox_store.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

TEST(OutboxRelayIT, PublishesUnsentRowsInOrderAndMarksThemSentAndANullPayloadAsATombstone) {
  testing::ScratchDatabase db;
  {
    pqxx::connection conn(db.url());
    ASSERT_TRUE(RunMigrations(conn).has_value());
  }
  auto topic = testing::UniqueName("it.notes.");
  testing::CreateTopics({topic}, 1);
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    for (int i = 0; i < 5; ++i)
      tx.exec_params("INSERT INTO outbox (topic, key, payload) VALUES ($1, 'task-1', $2)", topic,
                     "n" + std::to_string(i));
    tx.exec_params("INSERT INTO outbox (topic, key, payload) VALUES ($1, 'task-1', NULL)", topic);
    tx.commit();
  }
  KafkaSettings s;
  s.brokers = testing::KafkaBrokers();
  auto producer = KafkaProducer::Create(s, "it", 10s);
  ASSERT_TRUE(producer.has_value());
  PgPool pool(db.url(), 2);
  PgOutboxStore outbox(pool, "/conveyor/worker/test");
  SteadyClock clock;
  OutboxRelay relay({}, outbox, **producer, clock);
  auto relayed = relay.RelayOnce();
  ASSERT_TRUE(relayed.has_value()) << relayed.error().Describe();
  EXPECT_EQ(*relayed, 6u);
  auto again = relay.RelayOnce();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0u);

  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")[0].as<int>(), 6);

  testing::TopicReader reader(topic);
  auto got = reader.ReadUntil([](auto& all) { return all.size() >= 6; }, 30s);
  ASSERT_EQ(got.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].value, "n" + std::to_string(i));
    EXPECT_FALSE(got[i].tombstone);
  }
  EXPECT_TRUE(got[5].tombstone);
  EXPECT_EQ(got[5].key, "task-1");
}

// Two workers' relays on one outbox: while one claim is publishing some of a task's rows,
// another claims none of that task's rows (it would otherwise take the next ones, and the
// task's later event could overtake its earlier one), but it does take other tasks' rows.
TEST(OutboxRelayIT, WhileOneRelayHoldsATasksRowsAnotherTakesOnlyOtherTasks) {
  testing::ScratchDatabase db;
  {
    pqxx::connection conn(db.url());
    ASSERT_TRUE(RunMigrations(conn).has_value());
    pqxx::work tx(conn);
    for (int i = 0; i < 4; ++i)
      tx.exec_params("INSERT INTO outbox (topic, key, payload) VALUES ('t', 'task-1', $1)",
                     "n" + std::to_string(i));
    tx.exec0("INSERT INTO outbox (topic, key, payload) VALUES ('t', 'task-2', 'other')");
    tx.commit();
  }
  PgPool pool(db.url(), 3);
  PgOutboxStore first(pool, "/conveyor/worker/one"), second(pool, "/conveyor/worker/two");
  auto payloads = [](const std::vector<OutboxRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.message.value);
    return out;
  };
  auto ids = [](const std::vector<OutboxRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
  };
  std::vector<std::string> second_saw;
  auto claimed = first.ClaimUnsent(2, [&](const std::vector<OutboxRow>& rows) {
    EXPECT_EQ(payloads(rows), (std::vector<std::string>{"n0", "n1"}));
    auto during = second.ClaimUnsent(10, [&](const std::vector<OutboxRow>& more) {
      second_saw = payloads(more);
      return ids(more);
    });
    EXPECT_TRUE(during.has_value());
    return ids(rows);
  });
  ASSERT_TRUE(claimed.has_value()) << claimed.error().Describe();
  EXPECT_EQ(*claimed, 2u);
  EXPECT_EQ(second_saw, (std::vector<std::string>{"other"}));
  // Once the first claim ended, the second relay takes the rest of task-1's rows, in order.
  std::vector<std::string> rest;
  auto later = second.ClaimUnsent(10, [&](const std::vector<OutboxRow>& rows) {
    rest = payloads(rows);
    return ids(rows);
  });
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(rest, (std::vector<std::string>{"n2", "n3"}));
}

}  // namespace
}  // namespace conveyor

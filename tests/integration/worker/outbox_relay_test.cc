// OutboxRelay on PgOutboxStore, against real PostgreSQL and Kafka (label: integration).
#include "src/outbox_relay.h"

#include <gtest/gtest.h>

#include "src/pg_outbox_store.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

TEST(OutboxRelayIT, PublishesUnsentRowsInOrderAndMarksThemSent) {
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
    tx.commit();
  }
  KafkaSettings s;
  s.brokers = testing::KafkaBrokers();
  auto producer = KafkaProducer::Create(s, "it", 10s);
  ASSERT_TRUE(producer.has_value());
  PgPool pool(db.url(), 2);
  PgOutboxStore outbox(pool);
  SteadyClock clock;
  OutboxRelay relay({}, outbox, **producer, clock);
  auto relayed = relay.RelayOnce();
  ASSERT_TRUE(relayed.has_value()) << relayed.error().Describe();
  EXPECT_EQ(*relayed, 5u);
  auto again = relay.RelayOnce();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0u);

  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")[0].as<int>(), 5);

  testing::TopicReader reader(topic);
  auto got = reader.ReadUntil([](auto& all) { return all.size() >= 5; }, 30s);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i].value, "n" + std::to_string(i));
}

}  // namespace
}  // namespace conveyor

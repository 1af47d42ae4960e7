#include "conveyor/dependency_metrics.h"

#include <gtest/gtest.h>

#include "support/recording_publisher.h"

namespace conveyor {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MeteredPublisher, TimesEveryPublishByTopicAndCountsTheUnacknowledged) {
  testing::RecordingPublisher inner;
  metrics::Registry registry;
  MeteredPublisher publisher(inner, registry);
  inner.refuse = [](const OutgoingMessage& m) { return m.key == "refused"; };

  ASSERT_TRUE(publisher.Publish({"commands", "a", "{}", {}}).has_value());
  auto all = publisher.PublishAll({{"commands", "b", "{}", {}}, {"notes", "refused", "{}", {}}});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].has_value());
  EXPECT_FALSE(all[1].has_value());

  EXPECT_EQ(inner.sent.size(), 2u);  // forwarded, not swallowed
  auto text = registry.Render();
  EXPECT_TRUE(Has(text, R"(conveyor_kafka_publish_duration_seconds_count{topic="commands"} 2)"))
      << text;
  EXPECT_TRUE(Has(text, R"(conveyor_kafka_publish_duration_seconds_count{topic="notes"} 1)"))
      << text;
  EXPECT_TRUE(Has(text, R"(conveyor_kafka_publish_failures_total{topic="notes"} 1)")) << text;
  EXPECT_FALSE(Has(text, R"(conveyor_kafka_publish_failures_total{topic="commands"} 1)")) << text;
}

TEST(PgPoolMetrics, ReadThePoolAtScrapeTime) {
  PgPool pool("postgresql://127.0.0.1:1/none", 7);  // never connects: nothing is leased
  metrics::Registry registry;
  RegisterPgPoolMetrics(registry, pool);
  auto text = registry.Render();
  EXPECT_TRUE(Has(text, "conveyor_pg_pool_max_connections 7")) << text;
  EXPECT_TRUE(Has(text, R"(conveyor_pg_pool_connections{state="in_use"} 0)")) << text;
  EXPECT_TRUE(Has(text, R"(conveyor_pg_pool_connections{state="idle"} 0)")) << text;
}

}  // namespace
}  // namespace conveyor

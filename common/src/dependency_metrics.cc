#include "conveyor/dependency_metrics.h"

#include <chrono>

namespace conveyor {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

MeteredPublisher::MeteredPublisher(EventPublisher& inner, metrics::Registry& registry)
    : inner_(inner),
      duration_(registry.AddHistogram(
          "conveyor_kafka_publish_duration_seconds",
          "From publishing an event to the broker's acknowledgement (acks=all) or the failure",
          metrics::ExponentialBuckets(0.0005, 2, 16), {"topic"})),
      failures_(registry.AddCounter("conveyor_kafka_publish_failures_total",
                                    "Events the broker did not acknowledge in time", {"topic"})) {}

void MeteredPublisher::Count(const std::string& topic, bool acknowledged, double seconds) {
  duration_.With({topic}).Observe(seconds);
  if (!acknowledged) failures_.With({topic}).Inc();
}

Result<Delivery> MeteredPublisher::Publish(const OutgoingMessage& message) {
  auto start = std::chrono::steady_clock::now();
  auto delivery = inner_.Publish(message);
  Count(message.topic, delivery.has_value(), SecondsSince(start));
  return delivery;
}

std::vector<Result<Delivery>> MeteredPublisher::PublishAll(
    const std::vector<OutgoingMessage>& messages) {
  auto start = std::chrono::steady_clock::now();
  auto deliveries = inner_.PublishAll(messages);
  double seconds = SecondsSince(start);
  for (std::size_t i = 0; i < messages.size() && i < deliveries.size(); ++i)
    Count(messages[i].topic, deliveries[i].has_value(), seconds);
  return deliveries;
}

void RegisterPgPoolMetrics(metrics::Registry& registry, PgPool& pool) {
  auto& connections =
      registry.AddCallbackGauge("conveyor_pg_pool_connections",
                                "PostgreSQL connections of this process, by state", {"state"});
  connections.Add({"in_use"}, [&pool] {
    auto u = pool.usage();
    return static_cast<double>(u.open - u.idle);
  });
  connections.Add({"idle"}, [&pool] { return static_cast<double>(pool.usage().idle); });
  registry
      .AddCallbackGauge("conveyor_pg_pool_max_connections",
                        "The most PostgreSQL connections this process opens")
      .Add({}, [&pool] { return static_cast<double>(pool.usage().max); });
}

}  // namespace conveyor

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
  CountAll(messages, deliveries, SecondsSince(start));
  return deliveries;
}

void MeteredPublisher::CountAll(const std::vector<OutgoingMessage>& messages,
                                const std::vector<Result<Delivery>>& deliveries, double seconds) {
  for (std::size_t i = 0; i < messages.size() && i < deliveries.size(); ++i)
    Count(messages[i].topic, deliveries[i].has_value(), seconds);
}

void MeteredPublisher::PublishThen(const OutgoingMessage& message, DeliveryDone done) {
  inner_.PublishThen(message,
                     [this, topic = message.topic, start = std::chrono::steady_clock::now(),
                      done = std::move(done)](Result<Delivery> delivery) {
                       Count(topic, delivery.has_value(), SecondsSince(start));
                       done(std::move(delivery));
                     });
}

void MeteredPublisher::PublishAllThen(const std::vector<OutgoingMessage>& messages,
                                      DeliveriesDone done) {
  // The topics only, not the messages: the answer may come long after the caller's are gone.
  std::vector<OutgoingMessage> topics(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) topics[i].topic = messages[i].topic;
  inner_.PublishAllThen(messages,
                        [this, topics = std::move(topics), start = std::chrono::steady_clock::now(),
                         done = std::move(done)](std::vector<Result<Delivery>> d) {
                          CountAll(topics, d, SecondsSince(start));
                          done(std::move(d));
                        });
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

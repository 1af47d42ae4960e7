// Metrics of the services a process depends on: Kafka publishes and the PostgreSQL pool.
//
// MeteredPublisher is an EventPublisher that forwards to another and measures each publish
// from the call to the broker's acknowledgement (or the failure), by topic; the topics are the
// process's configured ones, so the label is bounded. It is thread-safe as the wrapped
// publisher is, and both it and the registry must outlive its use.
//
// RegisterPgPoolMetrics adds gauges read from a PgPool at scrape time.
#pragma once

#include "conveyor/event_publisher.h"
#include "conveyor/metrics.h"
#include "conveyor/pg.h"

namespace conveyor {

class MeteredPublisher final : public EventPublisher {
 public:
  MeteredPublisher(EventPublisher& inner, metrics::Registry& registry);

  Result<Delivery> Publish(const OutgoingMessage& message) override;
  std::vector<Result<Delivery>> PublishAll(const std::vector<OutgoingMessage>& messages) override;
  void PublishThen(const OutgoingMessage& message, DeliveryDone done) override;
  void PublishAllThen(const std::vector<OutgoingMessage>& messages, DeliveriesDone done) override;

 private:
  void Count(const std::string& topic, bool acknowledged, double seconds);
  void CountAll(const std::vector<OutgoingMessage>& messages,
                const std::vector<Result<Delivery>>& deliveries, double seconds);

  EventPublisher& inner_;
  metrics::HistogramFamily& duration_;
  metrics::CounterFamily& failures_;
};

// conveyor_pg_pool_connections{state="in_use"|"idle"} and conveyor_pg_pool_max_connections.
void RegisterPgPoolMetrics(metrics::Registry& registry, PgPool& pool);

}  // namespace conveyor

#include "kafka_event_source.h"

namespace conveyor {

Result<std::unique_ptr<KafkaEventSource>> KafkaEventSource::Create(
    const KafkaSettings& settings, const std::string& group_id, const std::string& client_id,
    const std::vector<std::string>& topics, RebalanceListener* listener) {
  auto consumer = KafkaConsumer::Create(settings, group_id, client_id, topics, listener);
  if (!consumer) return std::unexpected(consumer.error());
  return std::unique_ptr<KafkaEventSource>(new KafkaEventSource(std::move(*consumer)));
}

}  // namespace conveyor

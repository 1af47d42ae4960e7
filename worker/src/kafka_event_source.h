// EventSource on a Kafka consumer-group member (KafkaConsumer, conveyor/kafka.h): every call
// is the consumer's own. Owns the consumer; used from one thread, like it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conveyor/kafka.h"
#include "event_source.h"

namespace conveyor {

class KafkaEventSource final : public EventSource {
 public:
  // Joins `group_id` and subscribes to `topics` (KafkaConsumer::Create); `listener` is told
  // of partitions gained and lost and must outlive the source.
  static Result<std::unique_ptr<KafkaEventSource>> Create(const KafkaSettings& settings,
                                                          const std::string& group_id,
                                                          const std::string& client_id,
                                                          const std::vector<std::string>& topics,
                                                          RebalanceListener* listener);

  Result<std::vector<ConsumedMessage>> Poll(std::size_t max_messages,
                                            std::chrono::milliseconds timeout) override {
    return consumer_->Poll(max_messages, timeout);
  }
  Status Commit(const std::vector<PartitionOffset>& offsets) override {
    return consumer_->Commit(offsets);
  }
  Status Pause() override { return consumer_->Pause(); }
  Status Resume() override { return consumer_->Resume(); }
  bool paused() const override { return consumer_->paused(); }
  std::vector<PartitionLag> Lag() override { return consumer_->Lag(); }
  void Close() override { consumer_->Close(); }

 private:
  explicit KafkaEventSource(std::unique_ptr<KafkaConsumer> consumer)
      : consumer_(std::move(consumer)) {}
  std::unique_ptr<KafkaConsumer> consumer_;
};

}  // namespace conveyor

// ConsumerLoop drives one consumer-group member: poll a batch, hand it to the
// CommandProcessor, commit the batch's offsets. A batch that failed for a retryable reason
// (PostgreSQL or Kafka away) is processed again after a backoff, never skipped; offsets are
// committed only after the whole batch is applied and run. Run blocks until `stop` is set
// (checked between batches and during backoff) or a fatal error, then leaves the group.
#pragma once

#include <atomic>
#include <chrono>

#include "command_processor.h"
#include "conveyor/kafka.h"

namespace conveyor {

struct ConsumerLoopSettings {
  std::size_t batch_size = 500;
  std::chrono::milliseconds poll_timeout{200};
  std::chrono::milliseconds max_backoff{5000};
};

class ConsumerLoop {
 public:
  ConsumerLoop(ConsumerLoopSettings settings, KafkaConsumer& consumer, CommandProcessor& processor)
      : settings_(settings), consumer_(consumer), processor_(processor) {}

  // OK after a requested stop; an error when the consumer failed fatally.
  Status Run(const std::atomic<bool>& stop);

 private:
  ConsumerLoopSettings settings_;
  KafkaConsumer& consumer_;
  CommandProcessor& processor_;
};

}  // namespace conveyor

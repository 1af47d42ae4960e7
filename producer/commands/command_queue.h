// The commands' way through Kafka as an operator sees it (GET /api/v1/admin/queue and the
// dead-letter routes, docs/operations.md): how far the workers' group is behind on the
// commands topic, and the dead-letter topic, whose messages can be read and put back where
// they came from once their cause is fixed (conveyor/dead_letter.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conveyor/dead_letter.h"
#include "conveyor/event_publisher.h"
#include "conveyor/kafka.h"

namespace conveyor {

// The workers' consumer group and dead-letter topic, as the workers are given them (their
// --group-id and --dlq-topic).
struct QueueSettings {
  std::string worker_group = "conveyor-workers";    // --worker-group-id
  std::string dlq_topic = "conveyor.commands.dlq";  // --dlq-topic
};

struct QueueState {
  std::string commands_topic, worker_group, dlq_topic;
  std::vector<PartitionProgress> commands;  // the workers' group on each commands partition
  // The messages the dead-letter topic holds; std::nullopt when that topic does not exist.
  std::optional<std::int64_t> dead_letters;
};

// Where a replayed message went.
struct Replayed {
  DeadLetterRef from;
  std::string topic;
  Delivery to;
};

class CommandQueue {
 public:
  virtual ~CommandQueue() = default;
  // kUnavailable when Kafka does not answer; kNotFound when a topic does not exist.
  virtual Result<QueueState> State() = 0;
  // Every message of the dead-letter topic, by partition and offset.
  virtual Result<std::vector<DeadLetter>> DeadLetters() = 0;
  // Publishes the messages `refs` name back to their origin topics, all found before any is
  // published (ReplaysOf's errors); where each went.
  virtual Result<std::vector<Replayed>> Replay(const std::vector<DeadLetterRef>& refs) = 0;
};

// CommandQueue on Kafka: each call asks the brokers anew (a short-lived client per call), and
// replays go out through `publisher` (acks=all).
class KafkaCommandQueue final : public CommandQueue {
 public:
  KafkaCommandQueue(KafkaSettings kafka, std::string commands_topic, QueueSettings settings,
                    EventPublisher& publisher)
      : kafka_(std::move(kafka)),
        commands_topic_(std::move(commands_topic)),
        settings_(std::move(settings)),
        publisher_(publisher) {}

  Result<QueueState> State() override;
  Result<std::vector<DeadLetter>> DeadLetters() override;
  Result<std::vector<Replayed>> Replay(const std::vector<DeadLetterRef>& refs) override;

 private:
  KafkaSettings kafka_;
  std::string commands_topic_;
  QueueSettings settings_;
  EventPublisher& publisher_;
};

}  // namespace conveyor

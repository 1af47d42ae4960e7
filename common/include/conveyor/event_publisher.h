// The port through which domain code sends events to Kafka (or to a fake in tests).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/result.h"

namespace conveyor {

struct OutgoingMessage {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent with a null value instead of `value`: on a compacted topic, the key's deletion.
  bool tombstone = false;
};

// Where the broker wrote an acknowledged message. Messages with the same key go to the same
// partition, so the offsets of a task's commands (keyed by its id) order them as the workers
// will apply them.
struct Delivery {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// What a publish without waiting hands its answer to: each message's Result, as Publish and
// PublishAll would answer.
using DeliveryDone = std::function<void(Result<Delivery>)>;
using DeliveriesDone = std::function<void(std::vector<Result<Delivery>>)>;

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // Blocks until the broker acknowledged the message (acks=all) or the delivery timeout
  // passed. kUnavailable when it was not acknowledged in time: the caller must treat the
  // message as not sent. Thread-safe.
  virtual Result<Delivery> Publish(const OutgoingMessage& message) = 0;
  // Publishes the messages together and blocks until each was acknowledged or not: one
  // result per message, in their order (each as Publish would answer it). The messages are
  // independent: some may be sent while others are not. This default publishes them one
  // after the other; an adapter that can keep several in flight overrides it. Thread-safe.
  virtual std::vector<Result<Delivery>> PublishAll(const std::vector<OutgoingMessage>& messages) {
    std::vector<Result<Delivery>> out;
    out.reserve(messages.size());
    for (const auto& m : messages) out.push_back(Publish(m));
    return out;
  }

  // Publish and PublishAll without waiting: `done` is called once with what they would
  // answer, on the adapter's delivery thread (or on the calling thread, before this returns,
  // when the message cannot even be queued; or on a thread that flushes or purges the
  // adapter). `done` must be short and must not block: it
  // holds up the delivery of every other message. These defaults wait on the calling thread;
  // an adapter with delivery reports (KafkaProducer) overrides them. Thread-safe.
  virtual void PublishThen(const OutgoingMessage& message, DeliveryDone done) {
    done(Publish(message));
  }
  virtual void PublishAllThen(const std::vector<OutgoingMessage>& messages, DeliveriesDone done) {
    done(PublishAll(messages));
  }
};

}  // namespace conveyor

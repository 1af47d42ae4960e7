// The port through which the consumer loop takes command events: a consumer-group member's
// polling, offset commits and flow control. KafkaEventSource (kafka_event_source.h) is the
// Kafka adapter; tests use an in-memory fake.
//
// Partitions come and go with the group: the source tells its RebalanceListener (conveyor/
// kafka.h) from inside Poll, on the polling thread. An implementation is used from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "conveyor/kafka.h"
#include "conveyor/result.h"

namespace conveyor {

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Up to `max_messages`, waiting at most `timeout` for the first. Transient broker errors
  // yield an empty batch; a fatal error is returned (the member cannot go on).
  virtual Result<std::vector<ConsumedMessage>> Poll(std::size_t max_messages,
                                                    std::chrono::milliseconds timeout) = 0;
  // Commits these offsets (each the next offset to read), waiting a bounded time for the
  // answer. kUnavailable when the broker refused (e.g. during a rebalance) or did not answer
  // in time: committing later is harmless.
  virtual Status Commit(const std::vector<PartitionOffset>& offsets) = 0;
  // Stops taking events of every partition, now and assigned later, until Resume; Poll keeps
  // the member in its group meanwhile.
  virtual Status Pause() = 0;
  virtual Status Resume() = 0;
  virtual bool paused() const = 0;
  // How far each assigned partition's position is behind its end, as last seen (no broker
  // round trip); for metrics. A source that cannot tell answers none.
  virtual std::vector<PartitionLag> Lag() { return {}; }
  // Leaves the group; further calls fail.
  virtual void Close() = 0;
};

}  // namespace conveyor

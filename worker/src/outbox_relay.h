// OutboxRelay publishes the notification events that FinishRun wrote to the outbox table,
// then marks them sent. Several relays (one per worker) share the table: each claims rows
// with FOR UPDATE SKIP LOCKED, so a row is published by one of them; a relay that dies
// before marking its rows sent leaves them for the next pass (at-least-once: consumers
// deduplicate by the CloudEvents id). Sent rows are deleted after an hour.
//
// Start runs the relay on its own thread; Wake makes it look at once instead of at its next
// poll; Stop finishes the current pass and joins. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "conveyor/kafka.h"
#include "conveyor/pg.h"

namespace conveyor {

struct OutboxRelaySettings {
  std::size_t batch_size = 500;
  std::chrono::milliseconds idle_poll{200};
  std::chrono::seconds keep_sent{3600};
};

class OutboxRelay {
 public:
  OutboxRelay(OutboxRelaySettings settings, PgPool& pool, KafkaProducer& producer);
  ~OutboxRelay();

  void Start();
  void Stop();
  void Wake();

  // One pass: the number of rows published and marked sent. Public for tests.
  Result<std::size_t> RelayOnce();

 private:
  void Loop();

  OutboxRelaySettings settings_;
  PgPool& pool_;
  KafkaProducer& producer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conveyor

// OutboxRelay publishes the notification events that the worker wrote to the outbox with the
// outcomes they announce, then marks them sent. Several relays (one per worker) share the
// outbox: each pass claims rows no other relay holds (OutboxStore::ClaimUnsent), so a row is
// published by one of them at a time; a relay that dies before marking its rows sent leaves
// them for the next pass (at-least-once: consumers deduplicate by the CloudEvents id). A row
// the broker did not acknowledge stays unsent and is offered again at the next pass; the rows
// after it are not held back by it. Sent rows are deleted after `keep_sent`.
//
// Start runs the relay on its own thread; Wake makes it look at once instead of at its next
// poll; Stop finishes the current pass and joins. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "conveyor/event_publisher.h"
#include "monotonic_clock.h"
#include "outbox_store.h"

namespace conveyor {

struct OutboxRelaySettings {
  std::size_t batch_size = 500;
  std::chrono::milliseconds idle_poll{200};
  std::chrono::milliseconds max_backoff{5000};  // between passes while they fail
  std::chrono::seconds keep_sent{3600};
  std::chrono::seconds cleanup_interval{60};
};

class OutboxRelay {
 public:
  // `store`, `publisher` and `clock` (which times the waits between passes and the cleanups)
  // must outlive the relay.
  OutboxRelay(OutboxRelaySettings settings, OutboxStore& store, EventPublisher& publisher,
              const MonotonicClock& clock);
  ~OutboxRelay();

  void Start();
  void Stop();
  void Wake();

  // One pass: the number of rows published and marked sent. kUnavailable naming the first
  // problem when some claimed row was not acknowledged (those stay unsent), or the store's
  // error. Called by the relay's thread; public for tests.
  Result<std::size_t> RelayOnce();

 private:
  void Loop();

  OutboxRelaySettings settings_;
  OutboxStore& store_;
  EventPublisher& publisher_;
  const MonotonicClock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conveyor

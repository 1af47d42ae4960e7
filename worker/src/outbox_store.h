// The outbox's side of the store, as the OutboxRelay sees it: notification events written
// with the outcomes they announce (TaskStore::FinishRuns, Heartbeat), waiting to be published.
// PgOutboxStore (pg_outbox_store.h) is the PostgreSQL adapter; tests use an in-memory fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "conveyor/event_publisher.h"
#include "conveyor/result.h"

namespace conveyor {

// One notification waiting in the outbox; ids grow in the order the rows were written.
struct OutboxRow {
  std::int64_t id = 0;
  OutgoingMessage message;
};

class OutboxStore {
 public:
  // Publishes the rows it is given, in their order, and returns the ids of those the broker
  // acknowledged.
  using PublishFn = std::function<std::vector<std::int64_t>(const std::vector<OutboxRow>&)>;
  virtual ~OutboxStore() = default;

  // In one transaction: claims up to `limit` unsent rows, lowest id first, passes them to
  // `publish`, and marks sent the ids it returns; the other rows stay unsent for a later
  // claim. Returns how many rows it claimed. Rows of a task (key) that another claim holds are
  // left to it, so each task's notifications go out in the order they were written. An error
  // (database away) marks nothing.
  virtual Result<std::size_t> ClaimUnsent(std::size_t limit, const PublishFn& publish) = 0;

  // Deletes the rows sent more than `age` ago.
  virtual Status DeleteSentBefore(std::chrono::seconds age) = 0;
};

}  // namespace conveyor

// OutboxStore on PostgreSQL (table outbox, migration 0002). A claim is a transaction that locks
// its rows FOR UPDATE SKIP LOCKED, so relays of several workers share the table and a row is
// published by one of them at a time; a relay that dies before its claim commits leaves the
// rows unsent for the next claim. Thread-safe (each call takes a connection from the pool).
#pragma once

#include "conveyor/pg.h"
#include "outbox_store.h"

namespace conveyor {

class PgOutboxStore final : public OutboxStore {
 public:
  explicit PgOutboxStore(PgPool& pool) : pool_(pool) {}

  Result<std::size_t> ClaimUnsent(std::size_t limit, const PublishFn& publish) override;
  Status DeleteSentBefore(std::chrono::seconds age) override;
  // Notifications not yet relayed (for metrics); waits at most 1 s for a connection.
  Result<std::size_t> Backlog();

 private:
  PgPool& pool_;
};

}  // namespace conveyor

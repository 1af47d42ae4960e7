// OutboxStore on PostgreSQL (table outbox, migration 0002). A claim is a transaction that locks
// its rows FOR UPDATE SKIP LOCKED, so relays of several workers share the table and a row is
// published by one of them at a time; a relay that dies before its claim commits leaves the
// rows unsent for the next claim. Thread-safe (each call takes a connection from the pool).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "conveyor/pg.h"
#include "outbox_store.h"

namespace conveyor {

// The outbox's headers column (jsonb, migration 0016): a message's Kafka headers as
// [[name, value], ...], written by the transactions that record notifications (PgTaskStore)
// and read back by the relay; an unreadable column reads as no headers.
std::string HeadersColumn(const std::vector<std::pair<std::string, std::string>>& headers);
std::vector<std::pair<std::string, std::string>> HeadersFromColumn(const char* column);

// Writes the messages to the outbox in `tx`, in their order, for the relay to publish once
// `tx` commits; a tombstone's payload is NULL.
void WriteOutbox(pqxx::transaction_base& tx, const std::vector<OutgoingMessage>& messages);

class PgOutboxStore final : public OutboxStore {
 public:
  // `source`: the CloudEvents source of the journal records it wraps (journal.h).
  PgOutboxStore(PgPool& pool, std::string source) : pool_(pool), source_(std::move(source)) {}

  Result<std::size_t> ClaimUnsent(std::size_t limit, const PublishFn& publish) override;
  Status DeleteSentBefore(std::chrono::seconds age) override;
  // Notifications not yet relayed (for metrics); waits at most 1 s for a connection.
  Result<std::size_t> Backlog();

 private:
  OutboxRow RowToMessage(const pqxx::row& row) const;

  PgPool& pool_;
  std::string source_;
};

}  // namespace conveyor

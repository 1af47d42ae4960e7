#include "pg_outbox_store.h"

#include <nlohmann/json.hpp>

#include "conveyor/pg_rows.h"
#include "journal.h"

namespace conveyor {
std::string HeadersColumn(const std::vector<std::pair<std::string, std::string>>& headers) {
  return nlohmann::json(headers).dump();
}

std::vector<std::pair<std::string, std::string>> HeadersFromColumn(const char* column) {
  auto j = nlohmann::json::parse(column, nullptr, false);
  if (!j.is_array()) return {};
  try {
    return j.get<std::vector<std::pair<std::string, std::string>>>();
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

void WriteOutbox(pqxx::transaction_base& tx, const std::vector<OutgoingMessage>& notes) {
  if (notes.empty()) return;
  std::vector<std::optional<std::string>> topics, keys, payloads, headers;
  for (const auto& n : notes) {
    topics.push_back(n.topic);
    keys.push_back(n.key);
    payloads.push_back(n.tombstone ? std::nullopt : std::optional(n.value));
    headers.push_back(HeadersColumn(n.headers));
  }
  ExecPrepared(
      tx,
      "INSERT INTO outbox (topic, key, payload, headers) "
      "SELECT t, k, p, h::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
      "AS v(t, k, p, h)",
      TextArrayParam(topics), TextArrayParam(keys), TextArrayParam(payloads),
      TextArrayParam(headers));
}

OutboxRow PgOutboxStore::RowToMessage(const pqxx::row& row) const {
  auto id = row[0].as<std::int64_t>();
  if (!row[5].is_null())  // a journal record: its data, to be wrapped in its envelope
    return {id, JournalMessage(row[5].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(), id,
                               TimeFromField(row[6]).value_or(Timestamp{}), source_)};
  return {id, OutgoingMessage{row[1].c_str(), row[2].c_str(), row[3].c_str(),
                              HeadersFromColumn(row[4].c_str()), row[3].is_null()}};
}

Result<std::size_t> PgOutboxStore::ClaimUnsent(std::size_t limit, const PublishFn& publish) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    // Takes the lowest unsent rows that no other claim holds, but of those only the ones with
    // no earlier unsent row of their task (key) outside this claim: while another relay holds
    // a task's earlier event, this one leaves the task's later events alone, so each task's
    // events go out in the order they were written. Other tasks' rows are taken meanwhile, so
    // a relay that cannot reach Kafka holds up only the tasks it claimed.
    auto rows = ExecPrepared(tx,
                             R"(WITH claim AS (
             SELECT id FROM outbox WHERE sent_at IS NULL
              ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
           SELECT o.id, o.topic, o.key, o.payload, o.headers, o.event_type,
                  (extract(epoch from o.created_at) * 1e6)::bigint
             FROM outbox o JOIN claim c ON c.id = o.id
            WHERE NOT EXISTS (
                    SELECT 1 FROM outbox e
                     WHERE e.key = o.key AND e.sent_at IS NULL AND e.id < o.id
                       AND e.id NOT IN (SELECT id FROM claim))
            ORDER BY o.id)",
                             static_cast<long long>(limit));
    if (rows.empty()) return std::size_t{0};
    std::vector<OutboxRow> claimed;
    claimed.reserve(rows.size());
    for (const auto& row : rows) claimed.push_back(RowToMessage(row));
    auto sent = publish(claimed);
    if (!sent.empty()) {
      std::vector<long long> ids(sent.begin(), sent.end());
      ExecPrepared(tx, "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                   IntArrayParam(ids));
    }
    tx.commit();
    return claimed.size();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "relaying the outbox"));
  }
}

Status PgOutboxStore::DeleteSentBefore(std::chrono::seconds age) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    ExecPrepared(tx, "DELETE FROM outbox WHERE sent_at < now() - $1::interval",
                 std::to_string(age.count()) + " seconds");
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "cleaning the outbox"));
  }
  return {};
}

Result<std::size_t> PgOutboxStore::Backlog() {
  auto lease = pool_.Acquire(std::chrono::seconds(1));
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    return tx.exec1("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0].as<std::size_t>();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "counting the outbox's unsent notifications"));
  }
}

}  // namespace conveyor

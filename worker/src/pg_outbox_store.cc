#include "pg_outbox_store.h"

#include <nlohmann/json.hpp>

#include "conveyor/pg_rows.h"

namespace conveyor {
namespace {

// The advisory lock of the relay ("ConvOutb").
constexpr long long kRelayLock = 0x436f6e764f757462;

// The headers column, [[name, value], ...], as the message's headers; none when unreadable.
std::vector<std::pair<std::string, std::string>> HeadersOf(const char* column) {
  auto j = nlohmann::json::parse(column, nullptr, false);
  if (!j.is_array()) return {};
  try {
    return j.get<std::vector<std::pair<std::string, std::string>>>();
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

}  // namespace

Result<std::size_t> PgOutboxStore::ClaimUnsent(std::size_t limit, const PublishFn& publish) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    // One relay publishes at a time, across every worker: two relays publishing a backlog side
    // by side could each send part of one task's notifications and put its events out of
    // order. The lock ends with the transaction; a relay that finds it taken tries later.
    if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRelayLock)[0].as<bool>())
      return std::size_t{0};
    auto rows = tx.exec_params(
        R"(SELECT id, topic, key, payload, headers FROM outbox WHERE sent_at IS NULL
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)",
        static_cast<long long>(limit));
    if (rows.empty()) return std::size_t{0};
    std::vector<OutboxRow> claimed;
    claimed.reserve(rows.size());
    for (const auto& row : rows)
      claimed.push_back(
          {row[0].as<std::int64_t>(), OutgoingMessage{row[1].c_str(), row[2].c_str(),
                                                      row[3].c_str(), HeadersOf(row[4].c_str())}});
    auto sent = publish(claimed);
    if (!sent.empty()) {
      std::vector<long long> ids(sent.begin(), sent.end());
      tx.exec_params("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
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
    tx.exec_params("DELETE FROM outbox WHERE sent_at < now() - $1::interval",
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

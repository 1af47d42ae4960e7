#include "pg_retention_store.h"

#include "conveyor/pg_rows.h"
#include "pg_outbox_store.h"

namespace conveyor {
namespace {

// The advisory lock that one retention pass at a time holds (any number, the same for all).
constexpr std::int64_t kPassLock = 0x436f6e7652657431;  // "ConvRet1"

// A task is done when it was deleted, or when it ran, every run of it ended and nothing of it
// is due any more (a recurring task past its FinishDate, a task that ran once); `before` bounds
// when. A task that never ran (disabled, or waiting for its StartDate) is not done.
constexpr char kDoneTasks[] = R"(
    SELECT t.id FROM tasks t
     WHERE (t.deleted_at IS NOT NULL AND t.deleted_at < $1::timestamptz)
        OR (t.deleted_at IS NULL AND t.modified_at < $1::timestamptz
            AND EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id)
            AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id
                              AND (r.finished_at IS NULL OR r.finished_at >= $1::timestamptz))
            AND NOT EXISTS (SELECT 1 FROM schedules s
                             WHERE s.task_id = t.id AND s.next_due_at IS NOT NULL))
     LIMIT $2
     FOR UPDATE OF t SKIP LOCKED)";

}  // namespace

std::string PurgeTasksStatement(std::string_view chosen) {
  return "WITH done AS (" + std::string(chosen) + R"(),
  notes AS (DELETE FROM task_notes WHERE task_id IN (SELECT id FROM done)),
  accepted_notes AS (DELETE FROM accepted_notes WHERE task_id IN (SELECT id FROM done)),
  runs AS (DELETE FROM runs WHERE task_id IN (SELECT id FROM done)),
  schedules AS (DELETE FROM schedules WHERE task_id IN (SELECT id FROM done)),
  accepted AS (DELETE FROM accepted_tasks WHERE id IN (SELECT id FROM done))
  DELETE FROM tasks WHERE id IN (SELECT id FROM done) RETURNING id, deleted_at IS NULL)";
}

Result<bool> PgRetentionStore::WithPassLock(const std::function<Status()>& pass) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    if (!tx.exec_params1("SELECT pg_try_advisory_lock($1)", kPassLock)[0].as<bool>()) return false;
    auto done = pass();
    tx.exec_params("SELECT pg_advisory_unlock($1)", kPassLock);
    if (!done) return std::unexpected(done.error());
    return true;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "holding the retention lock"));
  }
}

Result<std::size_t> PgRetentionStore::DeleteDoneTasks(Timestamp before, std::size_t batch) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto deleted = tx.exec_params(PurgeTasksStatement(kDoneTasks), TimeParam(before), batch);
    if (state_.enabled()) {
      std::vector<OutgoingMessage> tombstones;  // a deleted task had its tombstone already
      for (const auto& row : deleted)
        if (row[1].as<bool>())
          tombstones.push_back(
              TaskStateTombstone(Uuid::Parse(row[0].c_str()).value_or(Uuid()), state_));
      WriteOutbox(tx, tombstones);
    }
    tx.commit();
    return deleted.size();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "deleting done tasks"));
  }
}

Result<std::size_t> PgRetentionStore::DeleteInbox(Timestamp before, std::size_t batch) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto deleted = tx.exec_params(
        R"(DELETE FROM inbox WHERE event_id IN (
             SELECT event_id FROM inbox WHERE applied_at < $1::timestamptz LIMIT $2)
           RETURNING 1)",
        TimeParam(before), batch);
    tx.commit();
    return deleted.size();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "deleting old inbox rows"));
  }
}

}  // namespace conveyor

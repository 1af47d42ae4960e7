#include "pg_rebuild_store.h"

#include "pg_retention_store.h"

namespace conveyor {

Status PgRebuildStore::CheckEmpty() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    auto row = tx.exec1(
        "SELECT EXISTS (SELECT 1 FROM tasks), EXISTS (SELECT 1 FROM inbox), current_database()");
    if (row[0].as<bool>() || row[1].as<bool>())
      return Fail(ErrorCode::kFailedPrecondition,
                  std::string("database ") + row[2].c_str() +
                      " already holds tasks or applied commands: a rebuild replays into an empty "
                      "database (create one, and point CONVEYOR_PG_URL at it)");
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "checking that the database is empty"));
  }
  return {};
}

Result<std::string> PgRebuildStore::UpsertStatement(const std::string& table,
                                                    const std::string& key) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    auto columns = tx.exec_params(
        "SELECT quote_ident(column_name) FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 AND column_name <> $2 "
        "ORDER BY ordinal_position",
        table, key);
    std::string set;
    for (const auto& c : columns)
      set += std::string(set.empty() ? "" : ", ") + c[0].c_str() + " = EXCLUDED." + c[0].c_str();
    return "INSERT INTO " + table + " SELECT * FROM jsonb_populate_record(NULL::" + table +
           ", $1::jsonb) ON CONFLICT (" + key + ") DO UPDATE SET " + set;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the columns of " + table));
  }
}

Status PgRebuildStore::Apply(const JournalRecord& record) {
  using Kind = JournalRecord::Kind;
  std::string* upsert = record.kind == Kind::kRun ? &upsert_run_ : &upsert_schedule_;
  if (record.kind != Kind::kPurge && upsert->empty()) {
    auto statement = record.kind == Kind::kRun ? UpsertStatement("runs", "id")
                                               : UpsertStatement("schedules", "task_id");
    if (!statement) return std::unexpected(statement.error());
    *upsert = std::move(*statement);
  }
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    if (record.kind == Kind::kPurge)
      tx.exec_params(PurgeTasksStatement("SELECT $1::uuid AS id"), record.task_id.ToString());
    else
      tx.exec_params(*upsert, record.row.dump());
  } catch (const std::exception& e) {
    return std::unexpected(
        PgError(e, "applying a journal record of task " + record.task_id.ToString()));
  }
  return {};
}

Status PgRebuildStore::Finish() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    tx.exec("DELETE FROM outbox");
    tx.exec("ANALYZE");
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "finishing the rebuild"));
  }
  return {};
}

}  // namespace conveyor

#include "pg_rebuild_store.h"

#include <map>

#include "conveyor/pg_rows.h"
#include "pg_retention_store.h"

namespace conveyor {

Status PgRebuildStore::CheckEmpty() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    // Before the migrations (a database that holds tasks is left as it is): one without the
    // tables is empty.
    if (!tx.exec1("SELECT to_regclass('tasks') IS NOT NULL")[0].as<bool>()) return {};
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
    // A record written before a column existed lacks it: a NOT NULL column takes its default
    // then, as the row did when the migration added the column.
    pqxx::nontransaction tx(**lease);
    auto columns = tx.exec_params(
        "SELECT quote_ident(column_name), is_nullable = 'NO' AND column_default IS NOT NULL, "
        "column_default FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table);
    std::string names, values, set;
    for (const auto& c : columns) {
      std::string name = c[0].c_str();
      names += (names.empty() ? "" : ", ") + name;
      values += (values.empty() ? "" : ", ") +
                (c[1].as<bool>() ? "COALESCE(x." + name + ", " + c[2].c_str() + ")" : "x." + name);
      if (name != key) set += (set.empty() ? "" : ", ") + name + " = EXCLUDED." + name;
    }
    return "INSERT INTO " + table + " (" + names + ") SELECT " + values +
           " FROM jsonb_populate_recordset(NULL::" + table + ", $1::jsonb) AS x ON CONFLICT (" +
           key + ") DO UPDATE SET " + set;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the columns of " + table));
  }
}

Status PgRebuildStore::PrepareStatements() {
  if (!upsert_run_.empty()) return {};
  auto runs = UpsertStatement("runs", "id");
  if (!runs) return std::unexpected(runs.error());
  auto schedules = UpsertStatement("schedules", "task_id");
  if (!schedules) return std::unexpected(schedules.error());
  upsert_run_ = std::move(*runs);
  upsert_schedule_ = std::move(*schedules);
  return {};
}

namespace {

// The rows of `kind` as a JSON array, each key's last record only (a statement's upsert may
// not touch a row twice; the last record holds the whole row).
std::string LastRows(const std::vector<JournalRecord>& records, JournalRecord::Kind kind) {
  std::map<Uuid, const JournalRecord*> last;
  for (const auto& r : records)
    if (r.kind == kind) last[r.key] = &r;
  std::string array = "[";
  for (const auto& [key, r] : last) array += (array.size() > 1 ? "," : "") + r->row;
  return array + "]";
}

}  // namespace

Status PgRebuildStore::Apply(const std::vector<JournalRecord>& records) {
  if (auto s = PrepareStatements(); !s) return s;
  std::vector<Uuid> purged;
  for (const auto& r : records)
    if (r.kind == JournalRecord::Kind::kPurge) purged.push_back(r.task_id);
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    // A purged task has no record after its purge: its rows are written, then removed.
    pqxx::work tx(**lease);
    tx.exec_params(upsert_run_, LastRows(records, JournalRecord::Kind::kRun));
    tx.exec_params(upsert_schedule_, LastRows(records, JournalRecord::Kind::kSchedule));
    if (!purged.empty())
      tx.exec_params(PurgeTasksStatement("SELECT unnest($1::uuid[]) AS id"),
                     UuidArrayParam(purged));
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(
        PgError(e, "applying " + std::to_string(records.size()) + " journal records"));
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

// The RebuildStore in PostgreSQL (rebuild.h). A record's row is written as it is: every
// column of `runs` (or `schedules`) that the record holds, taken by name
// (jsonb_populate_recordset), so a column added later is rebuilt without a change here (a
// record written before it existed gives a NOT NULL column its default). One transaction per
// call, a statement per kind of record. Not thread-safe: one rebuild.
#pragma once

#include "conveyor/pg.h"
#include "rebuild.h"

namespace conveyor {

class PgRebuildStore final : public RebuildStore {
 public:
  explicit PgRebuildStore(PgPool& pool) : pool_(pool) {}
  Status CheckEmpty() override;
  Status Apply(const std::vector<JournalRecord>& records) override;
  Status Finish() override;

 private:
  // "INSERT ... ON CONFLICT (key) DO UPDATE" of the rows of `table` in a jsonb array ($1).
  Result<std::string> UpsertStatement(const std::string& table, const std::string& key);
  Status PrepareStatements();

  PgPool& pool_;
  std::string upsert_run_, upsert_schedule_;
};

}  // namespace conveyor

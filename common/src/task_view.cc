#include "conveyor/task_view.h"

#include "conveyor/pg_rows.h"

namespace conveyor {

Result<std::optional<TaskView>> PgTaskReader::FindTask(const Uuid& id) {
  return Find("t.id = $1::uuid", id.ToString());
}

Result<std::optional<TaskView>> PgTaskReader::FindTaskByNumber(std::int64_t number) {
  return Find("t.number = $1::bigint", std::to_string(number));
}

Result<std::optional<TaskView>> PgTaskReader::Find(const std::string& where,
                                                   const std::string& key) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = tx.exec_params("SELECT " + TaskColumns("t") + R"(,
                  (extract(epoch from t.modified_at) * 1e6)::bigint, t.modified_by, ty.name,
                  r.id, r.state, r.start_count,
                  (extract(epoch from r.started_at) * 1e6)::bigint,
                  (extract(epoch from r.finished_at) * 1e6)::bigint,
                  r.result, r.worker, r.attempt, r.progress_percent, r.progress_description,
                  r.file_name, r.cancel_requested_at IS NOT NULL, ty.cancellation
             FROM tasks t
             JOIN task_types ty ON ty.id = t.task_type_id
             LEFT JOIN LATERAL (SELECT * FROM runs WHERE runs.task_id = t.id
                                 ORDER BY queued_at DESC LIMIT 1) r ON true
            WHERE )" + where,
                               key);
    if (rows.empty()) return std::optional<TaskView>();
    const auto& row = rows[0];
    constexpr int c = kTaskColumnCount;
    TaskView v;
    v.task = TaskFromRow(row);
    v.modified_at = TimeFromField(row[c]).value_or(v.task.created_at);
    v.modified_by = row[c + 1].c_str();
    v.type_name = row[c + 2].c_str();
    v.cancellation = row[c + 15].c_str();
    if (!row[c + 3].is_null()) {
      RunView r;
      r.id = Uuid::Parse(row[c + 3].c_str()).value_or(Uuid());
      r.state = RunStateFromName(row[c + 4].c_str()).value_or(RunState::kQueued);
      r.start_count = row[c + 5].as<int>();
      r.started_at = TimeFromField(row[c + 6]);
      r.finished_at = TimeFromField(row[c + 7]);
      r.result = row[c + 8].c_str();
      r.worker = row[c + 9].c_str();
      r.attempt = row[c + 10].as<int>();
      r.progress_percent = row[c + 11].as<int>();
      r.progress_description = row[c + 12].c_str();
      if (!row[c + 13].is_null()) r.file_name = row[c + 13].c_str();
      r.cancel_requested = row[c + 14].as<bool>();
      v.last_run = std::move(r);
    }
    return std::optional<TaskView>(std::move(v));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading task " + key));
  }
}

}  // namespace conveyor

#include "conveyor/task_view.h"

#include "conveyor/pg_rows.h"

namespace conveyor {
namespace {

// The select list and joins that ViewFromRow reads; `where` and the order follow.
std::string ViewQuery() {
  return "SELECT " + TaskColumns("t") + R"(,
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
            WHERE t.deleted_at IS NULL AND )";
}

TaskView ViewFromRow(const pqxx::row& row) {
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
  return v;
}

std::string_view OwnerName(TaskFilter::Owner o) {
  switch (o) {
    case TaskFilter::Owner::kAny:
      return "any";
    case TaskFilter::Owner::kSystem:
      return "system";
    case TaskFilter::Owner::kUser:
      return "user";
  }
  return "any";
}

}  // namespace

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
    auto rows = tx.exec_params(ViewQuery() + where, key);
    if (rows.empty()) return std::optional<TaskView>();
    return std::optional<TaskView>(ViewFromRow(rows[0]));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading task " + key));
  }
}

Result<TaskPage> PgTaskReader::ListTasks(const std::optional<Uuid>& client_id, std::int64_t offset,
                                         int limit) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::optional<std::string> client;
  if (client_id) client = client_id->ToString();
  const std::string match = "($1::uuid IS NULL OR t.client_id = $1::uuid)";
  try {
    // One snapshot for the count and the page.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(**lease);
    TaskPage page;
    page.total =
        tx.exec_params1("SELECT count(*) FROM tasks t WHERE t.deleted_at IS NULL AND " + match,
                        client)[0]
            .as<std::int64_t>();
    auto rows =
        tx.exec_params(ViewQuery() + match + " ORDER BY t.created_at, t.number OFFSET $2 LIMIT $3",
                       client, static_cast<long long>(offset), limit);
    for (const auto& row : rows) page.tasks.push_back(ViewFromRow(row));
    return page;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "listing tasks"));
  }
}

Result<TaskList> PgTaskReader::FilterTasks(const TaskFilter& filter,
                                           const std::optional<Uuid>& client_id) {
  // Every filter is always bound; a NULL parameter switches its condition off. The statement
  // is planned with the values known, so the switched-off conditions cost nothing.
  std::optional<std::string> client, associates, type_name, states;
  if (client_id) client = client_id->ToString();
  if (filter.associate_ids) {
    std::vector<long long> ids(filter.associate_ids->begin(), filter.associate_ids->end());
    associates = IntArrayParam(ids);
  }
  type_name = filter.type_name;
  if (filter.run_states) {
    std::vector<std::optional<std::string>> names;
    for (auto s : *filter.run_states) names.emplace_back(std::string(RunStateName(s)));
    states = TextArrayParam(names);
  }
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = tx.exec_params(ViewQuery() + R"(($1::uuid IS NULL OR t.client_id = $1::uuid)
              AND ($2::int[] IS NULL OR t.associate_id = ANY($2::int[]))
              AND ($3::text IS NULL OR ty.name = $3::text)
              AND ($4::text = 'any' OR ($4::text = 'system' AND t.associate_id = 0)
                                    OR ($4::text = 'user' AND t.associate_id <> 0))
              AND ($5::text[] IS NULL OR r.state = ANY($5::text[])
                                      OR ($6::boolean AND r.id IS NULL))
              -- The same condition, looser, that the runs_state index can answer: only
              -- tasks with some run in the state can have their latest run in it.
              AND ($5::text[] IS NULL OR $6::boolean
                   OR t.id IN (SELECT task_id FROM runs WHERE state = ANY($5::text[])))
            ORDER BY t.number
            LIMIT $7::bigint)",
                               client, associates, type_name, std::string(OwnerName(filter.owner)),
                               states, filter.or_no_run, static_cast<long long>(filter.limit) + 1);
    TaskList list;
    for (const auto& row : rows) {
      if (list.tasks.size() == filter.limit) {
        list.truncated = true;
        break;
      }
      list.tasks.push_back(ViewFromRow(row));
    }
    return list;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "listing tasks"));
  }
}

}  // namespace conveyor

#include "commands/pg_accepted_writes.h"

#include "conveyor/pg_rows.h"
#include "conveyor/pg_unnest.h"

namespace conveyor {
namespace {

// The rows of accepted_tasks: every column of tasks, each task as its command leaves it.
UnnestRows AcceptedRowsOf(const std::vector<AcceptedTask>& accepted) {
  std::vector<const Task*> tasks;
  tasks.reserve(accepted.size());
  for (const auto& a : accepted) tasks.push_back(&a.task);
  using A = const AcceptedTask&;
  UnnestRows rows;
  AddTaskColumns(rows, tasks);
  rows.Add("modified_at", "timestamptz",
           TextColumn(accepted, [](A a) { return TimeParam(a.modified_at); }))
      .Add("modified_by", "text", TextColumn(accepted, [](A a) { return a.modified_by; }))
      .Add("last_event_id", "uuid", UuidColumn(accepted, [](A a) { return a.event_id; }))
      .Add("deleted_at", "timestamptz",
           TextColumn(accepted, [](A a) { return OptionalTimeParam(a.deleted_at); }))
      .Add(
          "deleted_by", "text",
          TextColumn(accepted,
                     [](A a) { return a.deleted_at ? std::optional(a.deleted_by) : std::nullopt; }))
      .Add("response", "text", TextColumn(accepted, [](A a) { return a.task.response; }))
      .Add("command_offset", "bigint", IntColumn(accepted, [](A a) { return a.offset; }));
  return rows;
}

// Inserts the rows, each unless the projection or accepted_tasks holds the task at the same
// or a later offset already (a worker may have applied the command by now). The projection
// is looked into by a LATERAL lookup with LIMIT 1, which the planner cannot turn into a hash
// join over the table: it runs once per row, a probe of tasks' primary key. As a NOT EXISTS, the
// planner hashed the whole table instead, first for every request (bench/README.md, "Read
// your own writes") and, with `t.id = ANY(ids)` added, still whenever tasks held a few ten
// thousand rows: 16 of a 29 ms statement ("The accepted record's look into tasks").
std::string UpsertTasksSql(const std::vector<AcceptedTask>& tasks,
                           std::vector<std::string>& params) {
  auto rows = AcceptedRowsOf(tasks);
  return "INSERT INTO accepted_tasks AS a (" + rows.Names() + ") SELECT r.* FROM " +
         rows.Unnest("r", params) +
         " LEFT JOIN LATERAL (SELECT t.command_offset FROM tasks t WHERE t.id = r.id LIMIT 1)"
         " AS t ON true WHERE t.command_offset IS NULL OR t.command_offset < r.command_offset"
         " ON CONFLICT (id) DO UPDATE SET (" +
         rows.Names() + ") = (" + rows.Names("EXCLUDED.") +
         ") WHERE a.command_offset < EXCLUDED.command_offset";
}

// Inserts the notes; one already recorded (the same id) stays as it is.
std::string InsertNotesSql(const std::vector<AcceptedNote>& notes,
                           std::vector<std::string>& params) {
  using N = const AcceptedNote&;
  UnnestRows rows;
  rows.Add("id", "bigint", IntColumn(notes, [](N n) { return n.note.id; }))
      .Add("task_id", "uuid", UuidColumn(notes, [](N n) { return n.note.task_id; }))
      .Add("text", "text", TextColumn(notes, [](N n) { return n.note.text; }))
      .Add("created_at", "timestamptz",
           TextColumn(notes, [](N n) { return TimeParam(n.note.created_at); }))
      .Add("created_by", "text", TextColumn(notes, [](N n) { return n.note.created_by; }))
      .Add("event_id", "uuid", UuidColumn(notes, [](N n) { return n.event_id; }));
  return "INSERT INTO accepted_notes (" + rows.Names() + ") SELECT * FROM " +
         rows.Unnest("n", params) + " ON CONFLICT (id) DO NOTHING";
}

}  // namespace

Status PgAcceptedWrites::Record(const std::vector<AcceptedTask>& tasks,
                                const std::vector<AcceptedNote>& notes) {
  if (tasks.empty() && notes.empty()) return {};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    if (!tasks.empty()) {
      std::vector<std::string> params;
      auto sql = UpsertTasksSql(tasks, params);
      ExecPrepared(tx, sql, pqxx::prepare::make_dynamic_params(params));
    }
    if (!notes.empty()) {
      std::vector<std::string> params;
      auto sql = InsertNotesSql(notes, params);
      ExecPrepared(tx, sql, pqxx::prepare::make_dynamic_params(params));
    }
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "recording accepted commands"));
  }
  return {};
}

Result<std::vector<AcceptedTask>> PgAcceptedWrites::Unapplied(const UnappliedQuery& q) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    // No row in tasks, and the latest command's event id in no inbox row.
    static const std::string sql = "SELECT " + TaskColumns("a") + R"(,
           (extract(epoch from a.modified_at) * 1e6)::bigint, a.modified_by, a.last_event_id,
           a.command_offset
      FROM accepted_tasks a
     WHERE a.deleted_at IS NULL
       AND a.modified_at >= $1::timestamptz AND a.modified_at < $2::timestamptz
       AND a.id <> ALL($3::uuid[])
       AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.id)
       AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.event_id = a.last_event_id)
     ORDER BY a.modified_at
     LIMIT $4)";
    pqxx::read_transaction tx(**lease);
    auto rows = ExecPrepared(tx, sql, TimeParam(q.after), TimeParam(q.before),
                             UuidArrayParam(q.excluded), q.limit);
    std::vector<AcceptedTask> out;
    constexpr int c = kTaskColumnCount;
    for (const auto& row : rows) {
      AcceptedTask a;
      a.task = TaskFromRow(row);
      a.modified_at = TimeFromField(row[c]).value_or(a.task.created_at);
      a.modified_by = row[c + 1].c_str();
      a.event_id = Uuid::Parse(row[c + 2].c_str()).value_or(Uuid());
      a.offset = row[c + 3].as<std::int64_t>();
      out.push_back(std::move(a));
    }
    return out;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the accepted creates no worker applied"));
  }
}

}  // namespace conveyor

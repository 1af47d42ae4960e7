#include "conveyor/task_view.h"

#include "conveyor/pg_rows.h"
#include "conveyor/scheduling.h"

namespace conveyor {
namespace {

// The tables a task read joins, up to "WHERE t.deleted_at IS NULL" (deleted tasks are never
// read; callers add their conditions with " AND ..."): the task `t` as the latest accepted
// command leaves it (current_tasks, migration 0010: a command no worker applied yet shows
// already), its type `ty` and, with `latest_run`, its latest run `r`.
std::string TaskFrom(bool latest_run, const std::string& tasks = "current_tasks") {
  std::string from = R"(
             FROM )" +
                     tasks + R"( t
             JOIN task_types ty ON ty.id = t.task_type_id)";
  if (latest_run)
    from += R"(
             LEFT JOIN LATERAL (SELECT * FROM runs WHERE runs.task_id = t.id
                                   AND runs.state <> 'skipped'
                                 ORDER BY queued_at DESC LIMIT 1) r ON true
             LEFT JOIN schedules s ON s.task_id = t.id)";
  return from + R"(
            WHERE t.deleted_at IS NULL)";
}

// The columns RunFromRow reads, of the runs table as `r`.
constexpr char kRunColumns[] = R"(r.id, r.state, r.start_count,
                  (extract(epoch from r.started_at) * 1e6)::bigint,
                  (extract(epoch from r.finished_at) * 1e6)::bigint,
                  r.result, r.worker, r.attempt, r.progress_percent, r.progress_description,
                  r.file_name, r.cancel_requested_at IS NOT NULL,
                  (extract(epoch from r.due_at) * 1e6)::bigint,
                  (extract(epoch from r.queued_at) * 1e6)::bigint)";

// The run that kRunColumns selected from `first` on.
RunView RunFromRow(const pqxx::row& row, int first) {
  auto at = [&](int i) { return row[first + i]; };
  RunView r;
  r.id = Uuid::Parse(at(0).c_str()).value_or(Uuid());
  r.state = RunStateFromName(at(1).c_str()).value_or(RunState::kQueued);
  r.start_count = at(2).as<int>();
  r.started_at = TimeFromField(at(3));
  r.finished_at = TimeFromField(at(4));
  r.result = at(5).c_str();
  r.worker = at(6).c_str();
  r.attempt = at(7).as<int>();
  r.progress_percent = at(8).as<int>();
  r.progress_description = at(9).c_str();
  if (!at(10).is_null()) r.file_name = at(10).c_str();
  r.cancel_requested = at(11).as<bool>();
  r.due_at = TimeFromField(at(12));
  r.queued_at = TimeFromField(at(13)).value_or(Timestamp());
  return r;
}

// The select list that ViewFromRow reads, with TaskFrom(true) over `tasks`.
std::string ViewSelect(const std::string& tasks = "current_tasks") {
  return "SELECT " + TaskColumns("t") + R"(,
                  (extract(epoch from t.modified_at) * 1e6)::bigint, t.modified_by, ty.name,
                  ty.cancellation, ty.number,
                  (extract(epoch from s.next_due_at) * 1e6)::bigint, s.task_id IS NOT NULL, )" +
         kRunColumns + TaskFrom(true, tasks);
}

// What a worker will write of a task whose create (or enabling update) it has not applied
// yet (docs/adr/0006): the run it will queue, as queued; or, for a task that waits for its
// schedule, its first due time.
void ShowWhatAWorkerWillWrite(TaskView& v, bool has_schedule) {
  if (!v.task.enabled || v.last_run) return;
  if (!RunsOnSchedule(v.task, v.task.created_at))
    v.last_run = RunView{};
  else if (!has_schedule)
    v.next_run_at = FirstDueTime(v.task, v.task.created_at);
}

TaskView ViewFromRow(const pqxx::row& row) {
  constexpr int c = kTaskColumnCount;
  TaskView v;
  v.task = TaskFromRow(row);
  v.modified_at = TimeFromField(row[c]).value_or(v.task.created_at);
  v.modified_by = row[c + 1].c_str();
  v.type_name = row[c + 2].c_str();
  v.cancellation = row[c + 3].c_str();
  v.type_number = row[c + 4].as<std::int64_t>();
  v.next_run_at = TimeFromField(row[c + 5]);
  if (!row[c + 7].is_null()) v.last_run = RunFromRow(row, c + 7);
  ShowWhatAWorkerWillWrite(v, row[c + 6].as<bool>());
  return v;
}

// The column of a field and the cast its values take.
std::pair<std::string, std::string> Column(TaskField f) {
  switch (f) {
    case TaskField::kNumber:
      return {"t.number", "bigint"};
    case TaskField::kName:
      return {"t.task_name", "text"};
    case TaskField::kCreatedAt:
      return {"t.created_at", "timestamptz"};
    case TaskField::kModifiedAt:
      return {"t.modified_at", "timestamptz"};
    case TaskField::kDueTime:
      return {"t.due_time", "timestamptz"};
    case TaskField::kPlannedCompletionTime:
      return {"t.planned_completion_time", "timestamptz"};
    case TaskField::kPriority:
      return {"t.priority", "smallint"};
    case TaskField::kTypeNumber:
      return {"ty.number", "bigint"};
    case TaskField::kTypeName:
      return {"ty.name", "text"};
    case TaskField::kAssociateId:
      return {"t.associate_id", "integer"};
    case TaskField::kDescription:
      return {"t.description", "text"};
  }
  return {"t.number", "bigint"};
}

std::string_view OpSql(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "IS DISTINCT FROM";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kLike:
      return "ILIKE";
    case CompareOp::kIsNull:
      return "IS NULL";
    case CompareOp::kIsNotNull:
      return "IS NOT NULL";
    case CompareOp::kIn:
      return "= ANY";
  }
  return "=";
}

// The conditions of a query (" AND ..." to follow "WHERE t.deleted_at IS NULL"), with their
// parameters in `params` ($1 ...).
std::string WhereClause(const TaskQuery& q, std::vector<std::string>* params) {
  std::vector<std::string> parts;
  auto param = [&](std::string value, const std::string& cast) {
    params->push_back(std::move(value));
    return "$" + std::to_string(params->size()) + "::" + cast;
  };
  if (q.client_id) parts.push_back("t.client_id = " + param(q.client_id->ToString(), "uuid"));
  for (const auto& c : q.conditions) {
    auto [column, cast] = Column(c.field);
    if (c.op == CompareOp::kIsNull || c.op == CompareOp::kIsNotNull) {
      parts.push_back(column + " " + std::string(OpSql(c.op)));
    } else if (c.op == CompareOp::kLike) {
      parts.push_back(column + "::text ILIKE " + param(c.value, "text"));
    } else if (c.op == CompareOp::kIn) {
      std::vector<std::optional<std::string>> values(c.values.begin(), c.values.end());
      parts.push_back(column + " = ANY(" + param(TextArrayParam(values), cast + "[]") + ")");
    } else {
      parts.push_back(column + " " + std::string(OpSql(c.op)) + " " + param(c.value, cast));
    }
  }
  for (const auto& rs : q.run_states) {
    std::vector<std::optional<std::string>> names;
    bool or_no_run = false;
    bool only_unfinished = true;
    for (const auto& s : rs.states) {
      names.push_back(s ? std::string(RunStateName(*s)) : std::string());
      or_no_run = or_no_run || !s;
      only_unfinished = only_unfinished && s && !IsFinal(*s);
    }
    auto states = param(TextArrayParam(names), "text[]");
    // An enabled task without a run has one about to be queued (ViewFromRow).
    parts.push_back(std::string(rs.negate ? "NOT " : "") +
                    "(COALESCE(r.state, CASE WHEN t.enabled THEN 'queued' ELSE '' END) = ANY(" +
                    states + "))");
    // The same condition, looser, that the runs_unfinished index answers (its predicate is
    // repeated so that the planner may use it; a run not final has no finished_at): only a
    // task with some run in one of the states can have its latest run in it. Over 100,000
    // tasks this turns a scan of every task's latest run into an index lookup; final states
    // match most tasks, so a filter for one of them scans. A task no worker queued a run of
    // yet is in accepted_tasks.
    if (!rs.negate && only_unfinished)
      parts.push_back(
          "(t.id IN (SELECT task_id FROM runs WHERE finished_at IS NULL AND state = ANY(" + states +
          ")) OR t.id IN (SELECT id FROM accepted_tasks))");
  }
  std::string out;
  for (const auto& p : parts) out += " AND " + p;
  return out;
}

}  // namespace

TaskQuery ListQuery(const std::optional<Uuid>& client_id, std::int64_t offset, std::int64_t limit) {
  TaskQuery q;
  q.client_id = client_id;
  q.order = {{TaskField::kCreatedAt, false}};
  q.offset = offset;
  q.limit = limit;
  q.count_total = true;
  return q;
}

TaskQuery FilterQuery(const TaskFilter& filter, const std::optional<Uuid>& client_id) {
  TaskQuery q;
  q.client_id = client_id;
  if (filter.associate_ids) {
    TaskCondition c{TaskField::kAssociateId, CompareOp::kIn, {}, {}};
    for (auto id : *filter.associate_ids) c.values.push_back(std::to_string(id));
    q.conditions.push_back(std::move(c));
  }
  if (filter.type_name)
    q.conditions.push_back({TaskField::kTypeName, CompareOp::kEq, *filter.type_name, {}});
  if (filter.owner == TaskFilter::Owner::kSystem)
    q.conditions.push_back({TaskField::kAssociateId, CompareOp::kEq, "0", {}});
  else if (filter.owner == TaskFilter::Owner::kUser)
    q.conditions.push_back({TaskField::kAssociateId, CompareOp::kNe, "0", {}});
  if (filter.run_states) {
    RunStateCondition c;
    c.states.assign(filter.run_states->begin(), filter.run_states->end());
    if (filter.or_no_run) c.states.push_back(std::nullopt);
    q.run_states.push_back(std::move(c));
  }
  q.limit = static_cast<std::int64_t>(filter.limit);
  return q;
}

std::map<std::string, TaskView> ReadProjectedTasks(pqxx::transaction_base& tx,
                                                   const std::vector<Uuid>& ids) {
  std::map<std::string, TaskView> views;
  if (ids.empty()) return views;
  for (const auto& row :
       ExecPrepared(tx, ViewSelect("tasks") + " AND t.id = ANY($1::uuid[])", UuidArrayParam(ids))) {
    auto view = ViewFromRow(row);
    views.emplace(view.task.id.ToString(), std::move(view));
  }
  return views;
}

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
    auto rows = ExecPrepared(tx, ViewSelect() + " AND " + where, key);
    if (rows.empty()) return std::optional<TaskView>();
    return std::optional<TaskView>(ViewFromRow(rows[0]));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading task " + key));
  }
}

Result<TaskPage> PgTaskReader::QueryTasks(const TaskQuery& q) {
  std::vector<std::string> params;
  std::string where = WhereClause(q, &params);
  std::string order = " ORDER BY ";
  for (const auto& o : q.order)
    order += Column(o.field).first + (o.descending ? " DESC NULLS LAST, " : " ASC NULLS FIRST, ");
  order += "t.number";
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  TaskPage page;
  try {
    // One snapshot for the page and the count.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(**lease);
    auto rows =
        tx.exec_params(ViewSelect() + where + order + " LIMIT " + std::to_string(q.limit + 1) +
                           " OFFSET " + std::to_string(q.offset),
                       pqxx::prepare::make_dynamic_params(params));
    for (const auto& row : rows) {
      if (static_cast<std::int64_t>(page.tasks.size()) == q.limit) {
        page.has_more = true;
        break;
      }
      page.tasks.push_back(ViewFromRow(row));
    }
    if (q.count_total) {
      // The latest run is joined only when a condition reads it: counting 100,000 tasks
      // otherwise costs a lookup of every task's latest run.
      auto count = tx.exec_params("SELECT count(*)" + TaskFrom(!q.run_states.empty()) + where,
                                  pqxx::prepare::make_dynamic_params(params));
      page.total = count[0][0].as<std::int64_t>();
    }
  } catch (const pqxx::data_exception& e) {
    // A value PostgreSQL cannot read as its field's type (the caller checks most of them).
    return Fail(ErrorCode::kInvalidArgument, std::string("a query value does not fit: ") + e.what(),
                "q");
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "listing tasks"));
  }
  return page;
}

Result<std::vector<RunView>> PgTaskReader::ListRuns(const Uuid& task_id, std::size_t limit) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<RunView> out;
  try {
    pqxx::read_transaction tx(**lease);
    for (const auto& row :
         ExecPrepared(tx,
                      std::string("SELECT ") + kRunColumns +
                          " FROM runs r WHERE r.task_id = $1 ORDER BY r.queued_at DESC LIMIT $2",
                      task_id.ToString(), static_cast<long long>(limit)))
      out.push_back(RunFromRow(row, 0));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the runs of task " + task_id.ToString()));
  }
  return out;
}

Result<std::optional<RunLog>> PgTaskReader::FindRunLog(const Uuid& task_id, const Uuid& run_id,
                                                       std::size_t tail_chars) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = ExecPrepared(
        tx, "SELECT right(log, $3), octet_length(log) FROM runs WHERE task_id = $1 AND id = $2",
        task_id.ToString(), run_id.ToString(), static_cast<long long>(tail_chars));
    if (rows.empty()) return std::optional<RunLog>();
    return RunLog{rows[0][0].c_str(), rows[0][1].as<std::int64_t>()};
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the log of run " + run_id.ToString()));
  }
}

namespace {

// The task's notes, with those accepted and not yet applied (migration 0010).
constexpr char kNotesOfTask[] = R"(
  (SELECT * FROM task_notes WHERE task_id = $1
   UNION ALL
   SELECT * FROM accepted_notes a WHERE task_id = $1
      AND NOT EXISTS (SELECT 1 FROM task_notes n WHERE n.id = a.id)) notes)";

TaskNote NoteFromRow(const pqxx::row& row, const Uuid& task_id) {
  TaskNote n;
  n.id = row[0].as<std::int64_t>();
  n.task_id = task_id;
  n.text = row[1].c_str();
  n.created_at = TimeFromField(row[2]).value_or(Timestamp());
  n.created_by = row[3].c_str();
  return n;
}

constexpr char kNoteColumns[] =
    "SELECT id, text, (extract(epoch from created_at) * 1e6)::bigint, created_by";

}  // namespace

Result<NotePage> PgTaskReader::ListNotes(const Uuid& task_id, std::int64_t offset,
                                         std::int64_t limit) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  NotePage page;
  try {
    pqxx::read_transaction tx(**lease);
    for (const auto& row : ExecPrepared(tx,
                                        std::string(kNoteColumns) + ", count(*) OVER () FROM " +
                                            kNotesOfTask + " ORDER BY id LIMIT $2 OFFSET $3",
                                        task_id.ToString(), limit, offset)) {
      page.notes.push_back(NoteFromRow(row, task_id));
      page.total = row[4].as<std::int64_t>();
    }
    if (page.notes.empty() && offset > 0)  // past the last page: count them apart
      page.total = ExecPrepared(tx, std::string("SELECT count(*) FROM ") + kNotesOfTask,
                                task_id.ToString())[0][0]
                       .as<std::int64_t>();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the notes of task " + task_id.ToString()));
  }
  return page;
}

Result<std::optional<TaskNote>> PgTaskReader::FindNote(const Uuid& task_id, std::int64_t note_id) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows =
        ExecPrepared(tx, std::string(kNoteColumns) + " FROM " + kNotesOfTask + " WHERE id = $2",
                     task_id.ToString(), note_id);
    if (rows.empty()) return std::optional<TaskNote>();
    return std::optional<TaskNote>(NoteFromRow(rows[0], task_id));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading a note of task " + task_id.ToString()));
  }
}

}  // namespace conveyor

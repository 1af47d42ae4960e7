#include "pg_task_store.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "conveyor/pg_rows.h"
#include "conveyor/pg_unnest.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "pg_outbox_store.h"
#include "pg_task_states.h"
#include "run_rules.h"

namespace conveyor {
namespace {

// The final run states as a SQL list, "('succeeded', ...)": what "not live" means in every
// statement here, as FinalRunStates (run_rules.h) says.
const std::string& FinalStates() {
  static const std::string list = [] {
    std::string out = "(";
    for (RunState s : FinalRunStates())
      out += (out.size() > 1 ? ", '" : "'") + std::string(RunStateName(s)) + "'";
    return out + ")";
  }();
  return list;
}

std::string RefsParam(const Task& t) { return nlohmann::json(t.external_refs).dump(); }

std::string ScheduleParam(const TaskSchedule& s) { return ScheduleToJson(s).dump(); }

// The task type a command names: a create's, an update's.
std::optional<Uuid> TypeOf(const IncomingCommand& c) {
  if (c.kind == CommandKind::kCreate) return c.task.task_type_id;
  if (c.kind == CommandKind::kUpdate) return c.update.task_type_id;
  return std::nullopt;
}

// Records when the task is due next (std::nullopt: never), as its create or an update set it.
void SetNextDue(pqxx::transaction_base& tx, const Uuid& task_id, std::optional<Timestamp> next) {
  ExecPrepared(tx,
               R"(INSERT INTO schedules (task_id, next_due_at) VALUES ($1, $2::timestamptz)
         ON CONFLICT (task_id) DO UPDATE SET next_due_at = EXCLUDED.next_due_at)",
               task_id.ToString(), OptionalTimeParam(next));
}

// Applies one create command inside `tx`; an empty string when applied, else the reason it
// cannot be.
std::string ApplyCreate(pqxx::transaction_base& tx, const IncomingCommand& c) {
  const Task& t = c.task;
  auto type = ExecPrepared(tx, "SELECT 1 FROM task_types WHERE id = $1", t.task_type_id.ToString());
  if (type.empty()) return "task type " + t.task_type_id.ToString() + " is not registered";
  auto inserted = ExecPrepared(
      tx,
      R"(INSERT INTO tasks (id, number, task_type_id, client_id, enabled, frequency, start_date,
                            finish_date, parameters, content_type, notification, created_at,
                            created_by, modified_at, modified_by, last_event_id, task_name,
                            priority, due_time, planned_completion_time, external_refs,
                            associate_id, description, request, command_offset, schedule)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11,
                 $12::timestamptz, $13, $12::timestamptz, $13, $14, $15, $16::smallint,
                 $17::timestamptz, $18::timestamptz, $19::jsonb, $20, $21, $22, $23, $24::jsonb)
         ON CONFLICT (id) DO NOTHING RETURNING 1)",
      t.id.ToString(), t.number, t.task_type_id.ToString(),
      t.client_id ? std::optional<std::string>(t.client_id->ToString()) : std::nullopt, t.enabled,
      std::string(FrequencyName(t.frequency)), OptionalTimeParam(t.start_date),
      OptionalTimeParam(t.finish_date), t.parameters, t.content_type,
      std::string(NotificationName(t.notification)), TimeParam(t.created_at), t.created_by,
      c.event.id.ToString(), t.name, t.priority, OptionalTimeParam(t.due_time),
      OptionalTimeParam(t.planned_completion_time), RefsParam(t), t.associate_id, t.description,
      t.request, c.offset, ScheduleParam(t.schedule));
  if (inserted.empty()) return "task " + t.id.ToString() + " exists already";
  if (c.next_due_at) {  // it waits for its schedule
    SetNextDue(tx, t.id, t.enabled ? *c.next_due_at : std::nullopt);
    return {};
  }
  if (t.enabled) {
    // The run's id is the command's event id: a redelivered command names the same run.
    ExecPrepared(tx,
                 "INSERT INTO runs (id, task_id, state, queued_at) VALUES ($1, $2, 'queued', "
                 "$3::timestamptz)",
                 c.event.id.ToString(), t.id.ToString(), TimeParam(c.event.time));
  }
  return {};
}

// Records that these commands were applied to their tasks (tasks.command_offset), before
// their runs change: the journal's records of those changes name the command (migration 0018).
void AdvanceCommandOffsets(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks,
                           const std::vector<long long>& offsets) {
  if (tasks.empty()) return;
  ExecPrepared(tx,
               R"(UPDATE tasks t SET command_offset = v.command_offset
           FROM unnest($1::uuid[], $2::bigint[]) AS v(id, command_offset)
          WHERE t.id = v.id AND t.id = ANY($1::uuid[]) AND t.command_offset < v.command_offset)",
               UuidArrayParam(tasks), IntArrayParam(offsets));
}

std::string ApplyCancel(pqxx::transaction_base& tx, const IncomingCommand& c) {
  AdvanceCommandOffsets(tx, {c.task.id}, {c.offset});
  // Reaches the live runs (StopReaches).
  ExecPrepared(
      tx,
      R"(UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, $2::timestamptz)
          WHERE task_id = $1 AND state NOT IN )" +
          FinalStates(),
      c.task.id.ToString(), TimeParam(c.event.time));
  return {};
}

// A note on a task that does not exist violates the foreign key: the caller refuses the
// command alone (careful path).
std::string ApplyAddNote(pqxx::transaction_base& tx, const IncomingCommand& c) {
  const TaskNote& n = c.note;
  ExecPrepared(tx,
               R"(INSERT INTO task_notes (id, task_id, text, created_at, created_by, event_id)
         VALUES ($1, $2, $3, $4::timestamptz, $5, $6) ON CONFLICT (id) DO NOTHING)",
               n.id, n.task_id.ToString(), n.text, TimeParam(n.created_at), n.created_by,
               c.event.id.ToString());
  ExecPrepared(
      tx,
      "UPDATE tasks SET modified_at = GREATEST(modified_at, $2::timestamptz), modified_by = $3, "
      "command_offset = GREATEST(command_offset, $4) WHERE id = $1",
      n.task_id.ToString(), TimeParam(n.created_at), n.created_by, c.offset);
  return {};
}

// Replaces the task's fields; see TaskStore::ApplyBatch for what Enabled does to its runs.
std::string ApplyUpdate(pqxx::transaction_base& tx, const IncomingCommand& c) {
  const TaskUpdate& u = c.update;
  auto type = ExecPrepared(tx, "SELECT 1 FROM task_types WHERE id = $1", u.task_type_id.ToString());
  if (type.empty()) return "task type " + u.task_type_id.ToString() + " is not registered";
  auto before =
      ExecPrepared(tx, "SELECT enabled FROM tasks WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
                   u.task_id.ToString());
  if (before.empty()) return {};  // deleted meanwhile, or never created: nothing to change
  bool was_enabled = before[0][0].as<bool>();
  ExecPrepared(tx,
               R"(UPDATE tasks
            SET task_type_id = $2, enabled = COALESCE($3::boolean, enabled), frequency = $4,
                start_date = $5::timestamptz, finish_date = $6::timestamptz, parameters = $7,
                content_type = $8, notification = $9, modified_at = $10::timestamptz,
                modified_by = $11, last_event_id = $12,
                command_offset = GREATEST(command_offset, $13),
                schedule = COALESCE($14::jsonb, schedule)
          WHERE id = $1)",
               u.task_id.ToString(), u.task_type_id.ToString(),
               u.enabled ? std::optional<std::string>(*u.enabled ? "true" : "false") : std::nullopt,
               std::string(FrequencyName(u.frequency)), OptionalTimeParam(u.start_date),
               OptionalTimeParam(u.finish_date), u.parameters, u.content_type,
               std::string(NotificationName(u.notification)), TimeParam(c.event.time),
               u.requested_by, c.event.id.ToString(), c.offset,
               u.schedule ? std::optional(ScheduleParam(*u.schedule)) : std::nullopt);
  bool enabled = u.enabled.value_or(was_enabled);
  if (c.next_due_at)  // takes effect from the next due time; none while disabled
    SetNextDue(tx, u.task_id, enabled ? *c.next_due_at : std::nullopt);
  else
    ExecPrepared(tx, "DELETE FROM schedules WHERE task_id = $1", u.task_id.ToString());
  if (u.name || u.priority || u.due_time || u.planned_completion_time) {
    auto flat = [](const auto& field) { return field ? *field : std::nullopt; };
    ExecPrepared(tx,
                 R"(UPDATE tasks
              SET task_name = CASE WHEN $2::boolean THEN $3 ELSE task_name END,
                  priority = CASE WHEN $4::boolean THEN $5::smallint ELSE priority END,
                  due_time = CASE WHEN $6::boolean THEN $7::timestamptz ELSE due_time END,
                  planned_completion_time = CASE WHEN $8::boolean THEN $9::timestamptz
                                                 ELSE planned_completion_time END
            WHERE id = $1)",
                 u.task_id.ToString(), u.name.has_value(), u.name.value_or(""),
                 u.priority.has_value(), flat(u.priority), u.due_time.has_value(),
                 OptionalTimeParam(flat(u.due_time)), u.planned_completion_time.has_value(),
                 OptionalTimeParam(flat(u.planned_completion_time)));
  }
  if (u.enabled == false) return ApplyCancel(tx, c);
  // Enabling a task that waits for its schedule resumes it from now (above); other tasks run.
  if (u.enabled == true && !was_enabled && !c.next_due_at)
    // The run's id is the event id, as for a create: a redelivery names the same run. Queued
    // as EnablingQueuesARun says.
    ExecPrepared(tx,
                 R"(INSERT INTO runs (id, task_id, state, queued_at)
           SELECT $1, $2, 'queued', $3::timestamptz
            WHERE NOT EXISTS (SELECT 1 FROM runs
                               WHERE task_id = $2
                                 AND (state IN ('succeeded', 'failed')
                                      OR (state NOT IN )" +
                     FinalStates() + R"( AND cancel_requested_at IS NULL))))",
                 c.event.id.ToString(), u.task_id.ToString(), TimeParam(c.event.time));
  return {};
}

std::string ApplyDelete(pqxx::transaction_base& tx, const IncomingCommand& c) {
  auto deleted = ExecPrepared(tx,
                              R"(UPDATE tasks SET deleted_at = $2::timestamptz, deleted_by = $3,
                          modified_at = $2::timestamptz, modified_by = $3, last_event_id = $4,
                          command_offset = GREATEST(command_offset, $5)
          WHERE id = $1 AND deleted_at IS NULL RETURNING 1)",
                              c.task.id.ToString(), TimeParam(c.event.time), c.requested_by,
                              c.event.id.ToString(), c.offset);
  if (deleted.empty()) return {};  // deleted already, or never created
  ExecPrepared(tx, "UPDATE schedules SET next_due_at = NULL WHERE task_id = $1",
               c.task.id.ToString());
  return ApplyCancel(tx, c);
}

// Sets the SuperOffice fields the update carries and changes the runs as run_change says;
// see TaskStore::ApplyBatch.
std::string ApplyBatchUpdate(pqxx::transaction_base& tx, const IncomingCommand& c) {
  const BatchTaskUpdate& u = c.batch_update;
  bool run_again = u.run_change == BatchTaskUpdate::RunChange::kRunAgain;
  auto updated =
      ExecPrepared(tx,
                   R"(UPDATE tasks
            SET description = COALESCE($2, description), request = COALESCE($3, request),
                response = CASE WHEN $4::text IS NOT NULL THEN $4::text
                                WHEN $5::boolean THEN NULL ELSE response END,
                modified_at = $6::timestamptz, modified_by = $7, last_event_id = $8,
                command_offset = GREATEST(command_offset, $9)
          WHERE id = $1 AND deleted_at IS NULL RETURNING 1)",
                   u.task_id.ToString(), u.description, u.request, u.response, run_again,
                   TimeParam(c.event.time), u.requested_by, c.event.id.ToString(), c.offset);
  if (updated.empty()) return {};  // deleted meanwhile, or never created: nothing to change
  if (u.run_change == BatchTaskUpdate::RunChange::kStop) return ApplyCancel(tx, c);
  if (run_again)
    // The run's id is the event id, as for a create: a redelivery names the same run. Queued
    // as RunAgainQueuesARun says.
    ExecPrepared(tx,
                 R"(INSERT INTO runs (id, task_id, state, queued_at)
           SELECT $1, $2, 'queued', $3::timestamptz
            WHERE NOT EXISTS (SELECT 1 FROM runs WHERE task_id = $2 AND state NOT IN )" +
                     FinalStates() + ")",
                 c.event.id.ToString(), u.task_id.ToString(), TimeParam(c.event.time));
  return {};
}

// What a fired due time meets: the task's overlap policy, its live run (the latest not final)
// and whether a run is buffered behind it already. Tasks that are disabled, deleted or missing
// have none: their fires do nothing.
struct FireFacts {
  Overlap overlap = Overlap::kSkip;
  std::optional<std::string> live;
  bool buffered = false;
  Task task;           // as it stands: what a run started at once is handed
  TaskTypeFacts type;  // its handler and run policy
};

std::map<std::string, FireFacts> ReadFireFacts(pqxx::transaction_base& tx,
                                               const std::vector<Uuid>& tasks) {
  std::map<std::string, FireFacts> facts;
  const int c = kTaskColumnCount;
  // The live and buffered runs come from one probe of runs_unfinished per task (a queued run
  // is unfinished): as two subqueries, the planner hashed the second over a scan of all runs,
  // which made this statement 3 times slower once runs held 100,000 rows.
  for (const auto& row : ExecPrepared(tx, "SELECT " + TaskColumns("t") + R"(, t.schedule::text,
                     u.live, u.buffered,
                     ty.handler, ty.timeout_seconds, ty.max_attempts, ty.retry_backoff_ms
                FROM tasks t JOIN task_types ty ON ty.id = t.task_type_id
                CROSS JOIN LATERAL (
                  SELECT (array_agg(r.id ORDER BY r.queued_at DESC))[1] AS live,
                         coalesce(bool_or(r.state = 'queued' AND r.after_run IS NOT NULL), false)
                           AS buffered
                    FROM runs r WHERE r.task_id = t.id AND r.finished_at IS NULL) u
               WHERE t.id = ANY($1::uuid[]) AND t.deleted_at IS NULL AND t.enabled
                 FOR UPDATE OF t)",
                                      UuidArrayParam(tasks))) {
    FireFacts f;
    f.task = TaskFromRow(row);
    auto schedule = ScheduleFromJson(nlohmann::json::parse(row[c].c_str(), nullptr, false));
    if (schedule) f.overlap = schedule->overlap;
    if (!row[c + 1].is_null()) f.live = row[c + 1].c_str();
    f.buffered = row[c + 2].as<bool>();
    f.type.handler = row[c + 3].c_str();
    if (!row[c + 4].is_null()) f.type.policy.timeout = std::chrono::seconds(row[c + 4].as<int>());
    f.type.policy.max_attempts = row[c + 5].as<int>();
    f.type.policy.retry_backoff = std::chrono::milliseconds(row[c + 6].as<int>());
    facts[f.task.id.ToString()] = std::move(f);
  }
  return facts;
}

// The run a fire writes started, as FindPendingRuns would read it back.
PendingRun StartedFireRun(const IncomingCommand& c, const FireFacts& f, const StartOffer& offer) {
  PendingRun run;
  run.run_id = c.event.id;
  run.task = f.task;
  run.handler = f.type.handler;
  run.policy = f.type.policy;
  run.state = RunState::kStarted;
  run.start_count = 1;
  run.worker = offer.worker;
  run.heartbeat_at = offer.at;
  run.traceparent = c.event.traceparent;
  return run;
}

// One run per fired due time, in the commands' order: queued, queued after the live run, or
// recorded skipped, as DecideFire says (each fire sees the runs the earlier ones queued);
// nothing for a task that is disabled, deleted or missing. A run's id is its event id, so the
// same due time fired again names the same run and adds nothing. Two statements, whatever the
// number of fires.
//
// Of the runs queued with no live run of their task beside them, as many as `room` allows are
// written started by the offer's worker, as a create's run is (StartableAsQueued): a burst of
// due times then costs no start statement. Returns those runs, by event id.
std::map<std::string, PendingRun> ApplyFires(pqxx::transaction_base& tx,
                                             const std::vector<const IncomingCommand*>& fires,
                                             const StartOffer& offer, std::size_t room) {
  std::map<std::string, PendingRun> starting;
  if (fires.empty()) return starting;
  std::vector<Uuid> tasks, ids, run_tasks;
  for (const auto* c : fires) tasks.push_back(c->task.id);
  auto facts = ReadFireFacts(tx, tasks);
  std::vector<std::optional<std::string>> states, queued, due, results, after_runs, started_at,
      workers;
  for (const auto* c : fires) {
    auto it = facts.find(c->task.id.ToString());
    if (it == facts.end()) continue;
    auto& f = it->second;
    auto action = DecideFire(c->fire, f.overlap, f.live.has_value(), f.buffered);
    bool skip = action == FireAction::kSkip;
    bool start = action == FireAction::kQueue && !f.live && starting.size() < room &&
                 StartableAsQueued({f.type.handler, false, true}, offer);
    ids.push_back(c->event.id);
    run_tasks.push_back(c->task.id);
    states.push_back(skip ? "skipped" : start ? "started" : "queued");
    queued.push_back(TimeParam(c->event.time));
    due.push_back(TimeParam(c->fire.due_at));
    after_runs.push_back(action == FireAction::kQueueAfter ? f.live : std::nullopt);
    results.push_back(skip ? "skipped: run " + f.live.value_or("") + " was still running" : "");
    started_at.push_back(start ? std::optional(TimeParam(offer.at)) : std::nullopt);
    workers.push_back(start ? offer.worker : "");
    if (start) starting[c->event.id.ToString()] = StartedFireRun(*c, f, offer);
    if (action == FireAction::kQueueAfter) f.buffered = true;
    if (action == FireAction::kQueue && !f.live) f.live = c->event.id.ToString();
  }
  std::map<Uuid, long long> last_fire;  // a task fired twice in the batch: its later fire
  for (const auto* c : fires)
    last_fire[c->task.id] = std::max<long long>(last_fire[c->task.id], c->offset);
  std::vector<Uuid> fired;
  std::vector<long long> offsets;
  for (const auto& [task, offset] : last_fire) {
    fired.push_back(task);
    offsets.push_back(offset);
  }
  AdvanceCommandOffsets(tx, fired, offsets);
  auto inserted = ExecPrepared(
      tx,
      R"(INSERT INTO runs (id, task_id, state, queued_at, due_at, after_run, finished_at, result,
                         start_count, started_at, worker, heartbeat_at)
         SELECT id, task_id, state, queued_at, due_at, after_run,
                CASE WHEN state = 'skipped' THEN queued_at END, result,
                CASE WHEN state = 'started' THEN 1 ELSE 0 END, started_at, worker, started_at
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[],
                       $6::uuid[], $7::text[], $8::timestamptz[], $9::text[])
                AS v(id, task_id, state, queued_at, due_at, after_run, result, started_at, worker)
         ON CONFLICT (id) DO NOTHING
         RETURNING id)",
      UuidArrayParam(ids), UuidArrayParam(run_tasks), TextArrayParam(states),
      TextArrayParam(queued), TextArrayParam(due), TextArrayParam(after_runs),
      TextArrayParam(results), TextArrayParam(started_at), TextArrayParam(workers));
  // A run that was there already (the same due time fired before) was not started here.
  std::set<std::string> written;
  for (const auto& r : inserted) written.insert(r[0].c_str());
  std::erase_if(starting, [&](const auto& kv) { return !written.contains(kv.first); });
  return starting;
}

std::string ApplyFire(pqxx::transaction_base& tx, const IncomingCommand& c) {
  ApplyFires(tx, {&c}, StartOffer{}, 0);  // the careful path starts nothing
  return {};
}

std::string ApplyOne(pqxx::transaction_base& tx, const IncomingCommand& c) {
  switch (c.kind) {
    case CommandKind::kCreate:
      return ApplyCreate(tx, c);
    case CommandKind::kCancel:
      return ApplyCancel(tx, c);
    case CommandKind::kUpdate:
      return ApplyUpdate(tx, c);
    case CommandKind::kDelete:
      return ApplyDelete(tx, c);
    case CommandKind::kAddNote:
      return ApplyAddNote(tx, c);
    case CommandKind::kBatchUpdate:
      return ApplyBatchUpdate(tx, c);
    case CommandKind::kFire:
      return ApplyFire(tx, c);
  }
  return "no command kind";
}

using Commands = std::vector<const IncomingCommand*>;

// The inbox rows of some commands, in the order of the inbox's columns.
UnnestRows InboxRowsOf(const Commands& cs) {
  UnnestRows rows;
  rows.Add("event_id", "uuid", UuidColumn(cs, [](auto c) { return c->event.id; }))
      .Add("type", "text", TextColumn(cs, [](auto c) { return c->event.type; }))
      .Add("subject", "text", TextColumn(cs, [](auto c) { return c->event.subject; }))
      .Add("source", "text", TextColumn(cs, [](auto c) { return c->event.source; }))
      .Add("event_time", "timestamptz",
           TextColumn(cs, [](auto c) { return TimeParam(c->event.time); }))
      .Add("payload", "text",
           TextColumn(
               cs, [](auto c) { return c->payload.empty() ? c->event.Serialize() : c->payload; }))
      .Add("kafka_topic", "text", TextColumn(cs, [](auto c) { return c->topic; }))
      .Add("kafka_partition", "int", IntColumn(cs, [](auto c) { return c->partition; }))
      .Add("kafka_offset", "bigint", IntColumn(cs, [](auto c) { return c->offset; }));
  return rows;
}

// Inserts the commands' inbox rows; returns the statement, which yields the event ids the
// inbox did not hold yet.
std::string InsertInboxSql(const Commands& cs, std::vector<std::string>& params) {
  auto rows = InboxRowsOf(cs);
  return "INSERT INTO inbox (" + rows.Names() + ") SELECT * FROM " + rows.Unnest("v", params) +
         " ON CONFLICT (event_id) DO NOTHING RETURNING event_id";
}

void InsertInbox(pqxx::transaction_base& tx, const Commands& cs, std::set<std::string>* fresh) {
  std::vector<std::string> params;
  auto sql = InsertInboxSql(cs, params);
  for (const auto& r : ExecPrepared(tx, sql, pqxx::prepare::make_dynamic_params(params)))
    fresh->insert(r[0].c_str());
}

// The tasks of create commands, named as the columns of tasks they go to; last_event_id is
// the create's event id.
UnnestRows TaskRowsOf(const Commands& cs) {
  std::vector<const Task*> tasks;
  tasks.reserve(cs.size());
  for (const auto* c : cs) tasks.push_back(&c->task);
  UnnestRows rows;
  AddTaskColumns(rows, tasks);
  rows.Add("last_event_id", "uuid", UuidColumn(cs, [](auto c) { return c->event.id; }))
      .Add("command_offset", "bigint", IntColumn(cs, [](auto c) { return c->offset; }));
  return rows;
}

// What the batch's creates write besides their tasks: the schedules of the tasks that wait for
// one (no run yet; no next due time while disabled), and the runs of the other enabled tasks
// (a run's id is its create's event id, so a redelivered create names the same run), each
// with whether it may start as it is queued (StartableAsQueued).
struct CreateRows {
  Commands scheduled, queued;
  std::vector<bool> startable;  // of `queued`

  CreateRows(const Commands& creates, const std::set<std::string>& named_by_others,
             const std::map<std::string, TaskTypeFacts>& types, const StartOffer& offer) {
    for (const auto* c : creates) {
      if (c->next_due_at) {
        scheduled.push_back(c);
      } else if (c->task.enabled) {
        queued.push_back(c);
        QueuedRun run{types.at(c->task.task_type_id.ToString()).handler,
                      named_by_others.contains(c->task.id.ToString())};
        startable.push_back(StartableAsQueued(run, offer));
      }
    }
  }

  UnnestRows Schedules() const {
    UnnestRows rows;
    rows.Add("task_id", "uuid", UuidColumn(scheduled, [](auto c) { return c->task.id; }))
        .Add("next_due_at", "timestamptz", TextColumn(scheduled, [](auto c) {
               return OptionalTimeParam(c->task.enabled ? *c->next_due_at : std::nullopt);
             }));
    return rows;
  }

  UnnestRows Runs() const {
    std::vector<std::size_t> index(queued.size());
    for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
    UnnestRows rows;
    rows.Add("id", "uuid", UuidColumn(queued, [](auto c) { return c->event.id; }))
        .Add("task_id", "uuid", UuidColumn(queued, [](auto c) { return c->task.id; }))
        .Add("queued_at", "timestamptz",
             TextColumn(queued, [](auto c) { return TimeParam(c->event.time); }))
        .Add("startable", "boolean",
             TextColumn(index, [&](std::size_t i) { return startable[i] ? "t" : "f"; }));
    return rows;
  }
};

// What the creates' statement did.
struct CreatesWritten {
  std::set<std::string> fresh;    // event ids the inbox did not hold yet (every command's)
  std::size_t tasks = 0;          // tasks inserted
  std::set<std::string> started;  // runs started as they were queued
};

// The inbox rows of every admitted command, and the tasks, schedules and runs of the fresh
// creates, in one statement (data-modifying CTEs), one round trip. Of the startable runs the
// statement starts, in batch order, as many as the offer has room for: only it knows which
// creates are fresh (StartAsQueued).
CreatesWritten WriteCreates(pqxx::transaction_base& tx, const Commands& admitted,
                            const Commands& creates, const CreateRows& rows,
                            const StartOffer& offer) {
  std::vector<std::string> p;
  auto tasks = TaskRowsOf(creates);
  std::string sql = "WITH fresh AS (" + InsertInboxSql(admitted, p) + R"(),
       new_tasks AS (
         INSERT INTO tasks (id, number, task_type_id, client_id, enabled, frequency, start_date,
                            finish_date, parameters, content_type, notification, created_at,
                            created_by, modified_at, modified_by, last_event_id, associate_id,
                            description, request, task_name, priority, due_time,
                            planned_completion_time, external_refs, command_offset, schedule)
         SELECT id, number, task_type_id, client_id, enabled, frequency, start_date, finish_date,
                parameters, content_type, notification, created_at, created_by, created_at,
                created_by, last_event_id, associate_id, description, request, task_name,
                priority, due_time, planned_completion_time, external_refs, command_offset,
                schedule
           FROM )" + tasks.Unnest("v", p) +
                    R"(
          WHERE v.last_event_id IN (SELECT event_id FROM fresh)
         ON CONFLICT (id) DO NOTHING RETURNING id, last_event_id),
       new_schedules AS (
         INSERT INTO schedules (task_id, next_due_at)
         SELECT v.task_id, v.next_due_at FROM )" +
                    rows.Schedules().Unnest("v", p) + R"(
          WHERE v.task_id IN (SELECT id FROM new_tasks)),
       queued AS (
         SELECT * FROM )" +
                    rows.Runs().Unnest("v", p, /*with_ordinality=*/true) + R"(
          WHERE v.id IN (SELECT last_event_id FROM new_tasks)),
       starting AS (
         SELECT id FROM queued WHERE startable ORDER BY ord LIMIT )" +
                    UnnestRows::Bind(p, std::to_string(offer.room)) + R"(),
       new_runs AS (
         INSERT INTO runs (id, task_id, state, queued_at, start_count, started_at, worker,
                           heartbeat_at)
         SELECT q.id, q.task_id, CASE WHEN s.id IS NULL THEN 'queued' ELSE 'started' END,
                q.queued_at, CASE WHEN s.id IS NULL THEN 0 ELSE 1 END,
                CASE WHEN s.id IS NOT NULL THEN )" +
                    UnnestRows::Bind(p, TimeParam(offer.at)) +
                    R"(::timestamptz END,
                CASE WHEN s.id IS NULL THEN '' ELSE )" +
                    UnnestRows::Bind(p, offer.worker) +
                    R"( END,
                CASE WHEN s.id IS NOT NULL THEN )" +
                    UnnestRows::Bind(p, TimeParam(offer.at)) +
                    R"(::timestamptz END
           FROM queued q LEFT JOIN starting s ON s.id = q.id
         RETURNING id, state)
     SELECT 'event', event_id FROM fresh
     UNION ALL SELECT 'task', id FROM new_tasks
     UNION ALL SELECT 'started', id FROM new_runs WHERE state = 'started')";
  CreatesWritten written;
  for (const auto& r : ExecPrepared(tx, sql, pqxx::prepare::make_dynamic_params(p))) {
    std::string_view kind = r[0].c_str();
    if (kind == "event")
      written.fresh.insert(r[1].c_str());
    else if (kind == "task")
      ++written.tasks;
    else
      written.started.insert(r[1].c_str());
  }
  return written;
}

// Learns the task types the commands name that `types` does not know yet; task types are
// never deleted nor changed, so one seen once is known for good.
void LearnTaskTypes(pqxx::transaction_base& tx, const std::vector<IncomingCommand>& commands,
                    std::map<std::string, TaskTypeFacts>& types) {
  std::vector<Uuid> unknown;
  for (const auto& c : commands)
    if (auto type = TypeOf(c); type && !types.contains(type->ToString())) unknown.push_back(*type);
  if (unknown.empty()) return;
  for (const auto& r :
       ExecPrepared(tx,
                    R"(SELECT id, handler, timeout_seconds, max_attempts, retry_backoff_ms
                FROM task_types WHERE id = ANY($1::uuid[]))",
                    UuidArrayParam(unknown))) {
    TaskTypeFacts facts{r[1].c_str(), {}};
    if (!r[2].is_null()) facts.policy.timeout = std::chrono::seconds(r[2].as<int>());
    facts.policy.max_attempts = r[3].as<int>();
    facts.policy.retry_backoff = std::chrono::milliseconds(r[4].as<int>());
    types[r[0].c_str()] = std::move(facts);
  }
}

// The commands the fast path applies (the others are decided already: a task type that is not
// registered is refused before anything is written; a second copy of an event in the batch is
// a duplicate).
Commands Admitted(const std::vector<IncomingCommand>& commands,
                  const std::map<std::string, TaskTypeFacts>& types,
                  std::vector<ApplyResult>& results) {
  Commands admitted;
  std::set<std::string> seen_in_batch;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto& c = commands[i];
    if (auto type = TypeOf(c); type && !types.contains(type->ToString())) {
      results[i] = {ApplyOutcome::kRejected, "task type " + type->ToString() + " is not registered",
                    std::nullopt};
    } else if (!seen_in_batch.insert(c.event.id.ToString()).second) {
      results[i] = {ApplyOutcome::kDuplicate, {}, std::nullopt};
    } else {
      admitted.push_back(&c);
    }
  }
  return admitted;
}

// The commands other than creates that are new to the inbox, in their order (a task's create
// precedes its other commands on the partition, so applying the creates first keeps each task's
// order). Fires of tasks no other of these names go together in two statements (a scheduler
// fires many tasks at once), which may start runs as the offer's `room` allows (returned by
// event id); the rest one by one.
std::map<std::string, PendingRun> ApplyOthers(pqxx::transaction_base& tx, const Commands& admitted,
                                              const std::set<std::string>& fresh,
                                              const StartOffer& offer, std::size_t room) {
  Commands others, fires;
  std::set<std::string> named_beside_fires;
  for (const auto* c : admitted) {
    if (c->kind == CommandKind::kCreate || !fresh.contains(c->event.id.ToString())) continue;
    others.push_back(c);
    if (c->kind != CommandKind::kFire) named_beside_fires.insert(c->task.id.ToString());
  }
  for (const auto* c : others) {
    if (c->kind == CommandKind::kFire && !named_beside_fires.contains(c->task.id.ToString()))
      fires.push_back(c);
    else
      ApplyOne(tx, *c);
  }
  return ApplyFires(tx, fires, offer, room);
}

// The results of the commands the fast path admitted: applied or duplicate; a fresh create's
// run, just queued (or started), comes with it as FindPendingRuns would read it, unless
// another command of the batch names its task and may have changed it since; so does a fire's
// run that the statement started.
void AdmittedResults(const std::vector<IncomingCommand>& commands, CreatesWritten& written,
                     const std::set<std::string>& named_by_others,
                     const std::map<std::string, TaskTypeFacts>& types, const StartOffer& offer,
                     std::map<std::string, PendingRun>& fires_started,
                     std::vector<ApplyResult>& results) {
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (results[i].outcome != ApplyOutcome::kApplied) continue;
    const auto& c = commands[i];
    if (written.fresh.erase(c.event.id.ToString()) == 0) {  // a later copy finds it erased
      results[i] = {ApplyOutcome::kDuplicate, {}, std::nullopt};
      continue;
    }
    if (auto fired = fires_started.extract(c.event.id.ToString()); !fired.empty()) {
      results[i].queued_run = std::move(fired.mapped());
      results[i].started = true;
      continue;
    }
    if (c.kind != CommandKind::kCreate || c.next_due_at || !c.task.enabled ||
        named_by_others.contains(c.task.id.ToString()))
      continue;
    const auto& type = types.at(c.task.task_type_id.ToString());
    PendingRun run;
    run.run_id = c.event.id;
    run.task = c.task;
    run.handler = type.handler;
    run.policy = type.policy;
    run.traceparent = c.event.traceparent;
    if (written.started.contains(c.event.id.ToString())) {
      run.state = RunState::kStarted;
      run.start_count = 1;
      run.worker = offer.worker;
      run.heartbeat_at = offer.at;
      results[i].started = true;
    }
    results[i].queued_run = std::move(run);
  }
}

// The whole batch with a few multi-row statements. Returns std::nullopt when some command
// needs the careful path (one savepoint each) to find out which one cannot be applied.
std::optional<std::vector<ApplyResult>> ApplyFast(pqxx::transaction_base& tx,
                                                  const std::vector<IncomingCommand>& commands,
                                                  std::map<std::string, TaskTypeFacts>& types,
                                                  const StartOffer& offer) {
  LearnTaskTypes(tx, commands, types);
  std::vector<ApplyResult> results(commands.size());
  auto admitted = Admitted(commands, types, results);
  if (admitted.empty()) return results;
  Commands creates;
  std::set<std::string> named_by_others;
  for (const auto* c : admitted) {
    if (c->kind == CommandKind::kCreate)
      creates.push_back(c);
    else
      named_by_others.insert(c->task.id.ToString());
  }
  CreateRows rows(creates, named_by_others, types, offer);
  auto written = WriteCreates(tx, admitted, creates, rows, offer);
  std::size_t fresh_creates = std::count_if(creates.begin(), creates.end(), [&](auto c) {
    return written.fresh.contains(c->event.id.ToString());
  });
  // A task id that exists already must be refused alone: take the careful path (the caller
  // rolls this transaction back).
  if (written.tasks != fresh_creates) return std::nullopt;
  auto room_left = offer.room - std::min(offer.room, written.started.size());
  auto fires_started = ApplyOthers(tx, admitted, written.fresh, offer, room_left);
  AdmittedResults(commands, written, named_by_others, types, offer, fires_started, results);
  return results;
}

// One savepoint per command, so that one that cannot be applied leaves the rest intact.
// Written out rather than pqxx::subtransaction: libpqxx 6.4 opens a subtransaction's savepoint
// lazily on exec() but not on exec_params(), so its abort() rolled nothing back (docs/adr/0003).
std::vector<ApplyResult> ApplyCarefully(pqxx::transaction_base& tx,
                                        const std::vector<IncomingCommand>& commands) {
  std::vector<ApplyResult> results;
  for (const auto& c : commands) {
    tx.exec("SAVEPOINT apply");
    std::string reason;
    bool fresh = true;
    try {
      std::set<std::string> inserted;
      InsertInbox(tx, {&c}, &inserted);
      fresh = !inserted.empty();
      if (fresh) reason = ApplyOne(tx, c);
    } catch (const pqxx::data_exception& e) {
      reason = std::string("the database refused it: ") + e.what();
    } catch (const pqxx::integrity_constraint_violation& e) {
      reason = std::string("the database refused it: ") + e.what();
    }
    if (!reason.empty()) {
      tx.exec("ROLLBACK TO SAVEPOINT apply");
      results.push_back({ApplyOutcome::kRejected, std::move(reason), std::nullopt});
      continue;
    }
    tx.exec("RELEASE SAVEPOINT apply");
    results.push_back(
        {fresh ? ApplyOutcome::kApplied : ApplyOutcome::kDuplicate, {}, std::nullopt});
  }
  return results;
}

std::string RunColumns() {
  auto micros = [](const char* c) {
    return std::string("(extract(epoch from r.") + c + ") * 1e6)::bigint";
  };
  return "r.id, r.state, r.start_count, r.attempt, r.worker, " + micros("heartbeat_at") + ", " +
         micros("not_before") +
         ", r.cancel_requested_at IS NOT NULL, ty.handler, ty.timeout_seconds, ty.max_attempts, "
         "ty.retry_backoff_ms, "
         // The trace of the command that made the run: its event, as the inbox kept it.
         "(SELECT i.payload::jsonb ->> 'traceparent' FROM inbox i WHERE i.event_id = r.id)";
}

// What producers recorded of these commands for their callers' reads (accepted_tasks and
// accepted_notes, migration 0010) is held by the projection now, or was refused: it goes.
// A row a producer recorded at a later offset stays. The `a.id = ANY($1)` besides the join
// keeps the plan on the primary key whatever the statistics say (accepted_tasks is a queue
// whose size and statistics change by the second), as the producer's insert does.
void ForgetAccepted(pqxx::transaction_base& tx, const std::vector<IncomingCommand>& commands) {
  std::vector<Uuid> tasks;
  std::vector<long long> offsets, notes;
  for (const auto& c : commands) {
    tasks.push_back(c.task.id);
    offsets.push_back(c.offset);
    if (c.kind == CommandKind::kAddNote) notes.push_back(c.note.id);
  }
  ExecPrepared(tx,
               R"(DELETE FROM accepted_tasks a
          USING unnest($1::uuid[], $2::bigint[]) AS c(id, command_offset)
          WHERE a.id = ANY($1::uuid[]) AND a.id = c.id AND a.command_offset <= c.command_offset)",
               UuidArrayParam(tasks), IntArrayParam(offsets));
  if (!notes.empty())
    ExecPrepared(tx, "DELETE FROM accepted_notes WHERE id = ANY($1::bigint[])",
                 IntArrayParam(notes));
}

// The task ids in the first column of `rows`.
std::vector<Uuid> TasksOf(const pqxx::result& rows) {
  std::vector<Uuid> tasks;
  tasks.reserve(rows.size());
  for (const auto& row : rows) tasks.push_back(Uuid::Parse(row[0].c_str()).value_or(Uuid()));
  return tasks;
}

// The tasks the commands name, in their order.
std::vector<Uuid> CommandTasks(const std::vector<IncomingCommand>& commands) {
  std::vector<Uuid> tasks;
  tasks.reserve(commands.size());
  for (const auto& c : commands) tasks.push_back(c.task.id);
  return tasks;
}

// The tasks of the commands that were applied (in their order; a duplicate or a rejected
// command changed nothing).
std::vector<Uuid> AppliedTasks(const std::vector<IncomingCommand>& commands,
                               const std::vector<ApplyResult>& results) {
  std::vector<Uuid> tasks;
  for (std::size_t i = 0; i < commands.size() && i < results.size(); ++i)
    if (results[i].outcome == ApplyOutcome::kApplied) tasks.push_back(commands[i].task.id);
  return tasks;
}

}  // namespace

std::unique_ptr<pqxx::transaction_base> PgTaskStore::BeginWrite(pqxx::connection& conn) const {
  if (state_.serializes_tasks()) return std::make_unique<pqxx::work>(conn);
  return std::make_unique<pqxx::nontransaction>(conn);
}

void PgTaskStore::WriteStates(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks) const {
  WriteTaskStates(tx, tasks, state_, clock_->Now());
}

void PgTaskStore::LockTasksIfSerialized(pqxx::transaction_base& tx,
                                        const std::vector<Uuid>& tasks) const {
  if (state_.serializes_tasks()) LockTasks(tx, tasks);
}

Result<std::vector<ApplyResult>> PgTaskStore::ApplyBatch(
    const std::vector<IncomingCommand>& commands, const StartOffer& offer) {
  if (commands.empty()) return std::vector<ApplyResult>{};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    {
      pqxx::work tx(**lease);
      std::optional<std::vector<ApplyResult>> fast;
      try {
        LockTasksIfSerialized(tx, CommandTasks(commands));
        std::lock_guard lock(types_mutex_);
        fast = ApplyFast(tx, commands, types_, offer);
        if (fast) ForgetAccepted(tx, commands);
        if (fast) WriteStates(tx, AppliedTasks(commands, *fast));
      } catch (const pqxx::data_exception&) {
        fast.reset();  // the transaction is aborted: the careful path
      } catch (const pqxx::integrity_constraint_violation&) {
        fast.reset();
      }
      if (fast) {
        tx.commit();
        return *fast;
      }
    }  // rolled back: the careful path finds the command that cannot be applied
    pqxx::work tx(**lease);
    LockTasksIfSerialized(tx, CommandTasks(commands));
    auto results = ApplyCarefully(tx, commands);
    ForgetAccepted(tx, commands);
    WriteStates(tx, AppliedTasks(commands, results));
    tx.commit();
    return results;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "applying " + std::to_string(commands.size()) + " commands"));
  }
}

Result<std::vector<PendingRun>> PgTaskStore::FindPending(const std::string& where,
                                                         const std::vector<Uuid>& ids) {
  std::vector<PendingRun> out;
  if (ids.empty()) return out;
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    // One statement: autocommit is as atomic as a transaction and saves BEGIN and COMMIT.
    // Each run's task is fetched by its key (LATERAL ... LIMIT 1 keeps the planner from
    // flattening it): with a few hundred ids and tasks of tens of thousands of rows the
    // planner otherwise scanned the whole tasks table for every poll batch.
    pqxx::nontransaction tx(**lease);
    auto rows = ExecPrepared(tx,
                             "SELECT " + TaskColumns("t") + ", " + RunColumns() + R"(
           FROM runs r
           CROSS JOIN LATERAL (SELECT * FROM tasks WHERE tasks.id = r.task_id LIMIT 1) t
           JOIN task_types ty ON ty.id = t.task_type_id
          WHERE )" + where + R"(
            AND r.state NOT IN )" +
                                 FinalStates() +
                                 R"(
          ORDER BY r.queued_at)",
                             UuidArrayParam(ids));
    for (const auto& row : rows) {
      int c = kTaskColumnCount;
      PendingRun p;
      p.task = TaskFromRow(row);
      p.run_id = Uuid::Parse(row[c].c_str()).value_or(Uuid());
      p.state = RunStateFromName(row[c + 1].c_str()).value_or(RunState::kQueued);
      p.start_count = row[c + 2].as<int>();
      p.attempt = row[c + 3].as<int>();
      p.worker = row[c + 4].c_str();
      p.heartbeat_at = TimeFromField(row[c + 5]);
      p.not_before = TimeFromField(row[c + 6]);
      p.cancel_requested = row[c + 7].as<bool>();
      p.handler = row[c + 8].c_str();
      if (!row[c + 9].is_null()) p.policy.timeout = std::chrono::seconds(row[c + 9].as<int>());
      p.policy.max_attempts = row[c + 10].as<int>();
      p.policy.retry_backoff = std::chrono::milliseconds(row[c + 11].as<int>());
      if (!row[c + 12].is_null()) p.traceparent = row[c + 12].c_str();
      out.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "finding pending runs"));
  }
  return out;
}

Result<std::vector<PendingRun>> PgTaskStore::FindPendingRuns(const std::vector<Uuid>& run_ids) {
  return FindPending("r.id = ANY($1::uuid[])", run_ids);
}

Result<std::vector<PendingRun>> PgTaskStore::FindPendingRunsOfTasks(
    const std::vector<Uuid>& task_ids) {
  return FindPending("r.task_id = ANY($1::uuid[])", task_ids);
}

Result<std::vector<std::optional<StartedRun>>> PgTaskStore::StartRuns(
    const std::vector<PendingRun>& runs, const std::string& worker, Timestamp now,
    std::chrono::milliseconds stale_after) {
  std::vector<std::optional<StartedRun>> out(runs.size());
  if (runs.empty()) return out;
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<Uuid> ids;
  std::vector<long long> seen;
  for (const auto& r : runs) {
    ids.push_back(r.run_id);
    seen.push_back(r.start_count);
  }
  try {
    // One statement in autocommit (atomic on its own, one round trip instead of three), unless
    // task-state events are written after it (BeginWrite).
    // The states are named as "not final", which no index answers, so that the plan always
    // reaches the runs through their ids: "state IN ('queued', ...)" let the planner, with
    // stale statistics, walk every queued run through runs_state (218 µs per run started
    // with 20,000 queued, against 15 µs by id).
    auto tx = BeginWrite(**lease);
    std::vector<Uuid> tasks;
    for (const auto& r : runs) tasks.push_back(r.task.id);
    LockTasksIfSerialized(*tx, tasks);
    auto rows = ExecPrepared(*tx,
                             R"(UPDATE runs r
              SET state = 'started', start_count = r.start_count + 1, started_at = $3::timestamptz,
                  finished_at = NULL, worker = $4, heartbeat_at = $3::timestamptz,
                  not_before = NULL, progress_percent = 0, progress_description = '',
                  progress_at = NULL
             FROM unnest($1::uuid[], $2::int[]) AS v(id, seen_start_count)
            WHERE r.id = v.id AND r.id = ANY($1::uuid[]) AND r.start_count = v.seen_start_count
              AND r.cancel_requested_at IS NULL
              AND r.state NOT IN )" +
                                 FinalStates() + R"(
              AND (r.after_run IS NULL
                   OR NOT EXISTS (SELECT 1 FROM runs p WHERE p.id = r.after_run
                                     AND p.finished_at IS NULL))
              AND (r.state <> 'started' OR r.worker = $4 OR r.heartbeat_at IS NULL
                   OR r.heartbeat_at < $3::timestamptz - $5 * interval '1 millisecond')
        RETURNING r.task_id, r.id, r.start_count)",
                             UuidArrayParam(ids), IntArrayParam(seen), TimeParam(now), worker,
                             static_cast<long long>(stale_after.count()));
    std::map<std::string, int> started;
    for (const auto& row : rows) started[row[1].c_str()] = row[2].as<int>();
    WriteStates(*tx, TasksOf(rows));
    tx->commit();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      auto it = started.find(runs[i].run_id.ToString());
      if (it != started.end()) out[i] = StartedRun{runs[i], it->second, now};
    }
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "starting " + std::to_string(runs.size()) + " runs"));
  }
  return out;
}

Status PgTaskStore::FinishRuns(const std::vector<FinishedRun>& runs) {
  if (runs.empty()) return {};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<Uuid> ids;
  std::vector<long long> starts;
  std::vector<std::optional<std::string>> states, finished, results, files, logs, note_topics,
      note_keys, note_payloads, note_headers;
  for (const auto& f : runs) {
    ids.push_back(f.run.run.run_id);
    starts.push_back(f.run.start_count);
    states.push_back(std::string(RunStateName(f.outcome.state)));
    finished.push_back(TimeParam(f.outcome.finished_at));
    results.push_back(f.outcome.result);
    files.push_back(f.outcome.file_name);
    logs.push_back(f.outcome.log);
    note_topics.push_back(f.notification ? std::optional(f.notification->topic) : std::nullopt);
    note_keys.push_back(f.notification ? std::optional(f.notification->key) : std::nullopt);
    note_payloads.push_back(f.notification ? std::optional(f.notification->value) : std::nullopt);
    note_headers.push_back(f.notification ? std::optional(HeadersColumn(f.notification->headers))
                                          : std::nullopt);
  }
  try {
    // One statement, so autocommit makes it atomic: the outcomes, and an outbox row for each
    // run whose outcome this statement recorded (a run finished already gets none), in the
    // order of `runs`. One round trip where a transaction needed four (unless task-state
    // events are written after it, in a transaction: BeginWrite).
    // "r.id = ANY($1)" repeats the join's condition so that the runs are reached through the
    // primary key, never by scanning them all: with the statistics of a table that grew
    // within seconds the planner hashed the batch and scanned every run instead (auto_explain
    // in bench/e2e: 86 of 138 finishing statements at 66,000 runs, 16 ms each against 5 by
    // key). The other statements that update runs by id carry it for the same reason.
    auto tx = BeginWrite(**lease);
    std::vector<Uuid> tasks;
    for (const auto& f : runs) tasks.push_back(f.run.run.task.id);
    LockTasksIfSerialized(*tx, tasks);
    auto done =
        ExecPrepared(*tx,
                     R"(WITH v AS (
             SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[],
                                  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                  $11::text[])
                      WITH ORDINALITY
                      AS v(id, start_count, state, finished_at, result, file_name, log,
                           note_topic, note_key, note_payload, note_headers, ord)),
           done AS (
             UPDATE runs r
                SET state = v.state, finished_at = v.finished_at, result = v.result,
                    file_name = v.file_name, log = v.log, heartbeat_at = NULL,
                    progress_percent = CASE WHEN v.state = 'succeeded' THEN 100
                                            ELSE r.progress_percent END
               FROM v
              WHERE r.id = v.id AND r.id = ANY($1::uuid[]) AND r.start_count = v.start_count
                AND r.state NOT IN )" +
                         FinalStates() + R"(
          RETURNING r.id, r.task_id),
           notes AS (
             INSERT INTO outbox (topic, key, payload, headers)
             SELECT v.note_topic, v.note_key, v.note_payload, v.note_headers::jsonb
               FROM v JOIN done ON done.id = v.id
              WHERE v.note_topic IS NOT NULL
              ORDER BY v.ord)
         SELECT task_id FROM done)",
                     UuidArrayParam(ids), IntArrayParam(starts), TextArrayParam(states),
                     TextArrayParam(finished), TextArrayParam(results), TextArrayParam(files),
                     TextArrayParam(logs), TextArrayParam(note_topics), TextArrayParam(note_keys),
                     TextArrayParam(note_payloads), TextArrayParam(note_headers));
    WriteStates(*tx, TasksOf(done));
    tx->commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "finishing " + std::to_string(runs.size()) + " runs"));
  }
  return {};
}

Status PgTaskStore::RetryRuns(const std::vector<RetryingRun>& runs) {
  if (runs.empty()) return {};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<Uuid> ids;
  std::vector<long long> starts;
  std::vector<std::optional<std::string>> errors, not_before, logs;
  for (const auto& r : runs) {
    ids.push_back(r.run.run.run_id);
    starts.push_back(r.run.start_count);
    errors.push_back(r.error);
    not_before.push_back(TimeParam(r.not_before));
    logs.push_back(r.log);
  }
  try {
    pqxx::work tx(**lease);
    std::vector<Uuid> tasks;
    for (const auto& r : runs) tasks.push_back(r.run.run.task.id);
    LockTasksIfSerialized(tx, tasks);
    auto retried = ExecPrepared(tx,
                                R"(UPDATE runs r
              SET state = 'retry_wait', attempt = r.attempt + 1, result = v.error,
                  not_before = v.not_before, log = v.log, heartbeat_at = NULL
             FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[])
                  AS v(id, start_count, error, not_before, log)
            WHERE r.id = v.id AND r.id = ANY($1::uuid[]) AND r.start_count = v.start_count
              AND r.state = 'started'
        RETURNING r.task_id)",
                                UuidArrayParam(ids), IntArrayParam(starts), TextArrayParam(errors),
                                TextArrayParam(not_before), TextArrayParam(logs));
    WriteStates(tx, TasksOf(retried));
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "scheduling " + std::to_string(runs.size()) + " retries"));
  }
  return {};
}

Status PgTaskStore::Heartbeat(const std::vector<RunHeartbeat>& runs, Timestamp now,
                              const std::vector<OutgoingMessage>& notifications) {
  if (runs.empty()) return {};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<Uuid> ids;
  std::vector<long long> starts;
  std::vector<std::optional<std::string>> percents, descriptions;
  for (const auto& r : runs) {
    ids.push_back(r.run_id);
    starts.push_back(r.start_count);
    percents.push_back(r.percent ? std::optional(std::to_string(*r.percent)) : std::nullopt);
    descriptions.push_back(r.description);
  }
  try {
    pqxx::work tx(**lease);
    if (state_.serializes_tasks()) {
      std::vector<Uuid> progressed_runs;  // only progress changes what the API shows
      for (const auto& r : runs)
        if (r.percent) progressed_runs.push_back(r.run_id);
      LockTasksOfRuns(tx, progressed_runs);
    }
    auto beaten = ExecPrepared(tx,
                               R"(UPDATE runs r
              SET heartbeat_at = $5::timestamptz,
                  progress_percent = COALESCE(v.percent, r.progress_percent),
                  progress_description = CASE WHEN v.percent IS NULL
                                              THEN r.progress_description ELSE v.description END,
                  progress_at = CASE WHEN v.percent IS NULL THEN r.progress_at
                                     ELSE $5::timestamptz END
             FROM unnest($1::uuid[], $2::int[], $3::smallint[], $4::text[])
                  AS v(id, start_count, percent, description)
            WHERE r.id = v.id AND r.id = ANY($1::uuid[]) AND r.start_count = v.start_count
              AND r.state = 'started'
        RETURNING r.task_id, v.percent IS NOT NULL)",
                               UuidArrayParam(ids), IntArrayParam(starts), TextArrayParam(percents),
                               TextArrayParam(descriptions), TimeParam(now));
    WriteOutbox(tx, notifications);
    std::vector<Uuid> progressed;  // a heartbeat alone changes nothing the API shows
    for (const auto& row : beaten)
      if (row[1].as<bool>()) progressed.push_back(Uuid::Parse(row[0].c_str()).value_or(Uuid()));
    WriteStates(tx, progressed);
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "recording heartbeats"));
  }
  return {};
}

Status PgTaskStore::ReleaseRuns(const std::vector<StartedRun>& runs) {
  if (runs.empty()) return {};
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<Uuid> ids;
  std::vector<long long> starts;
  for (const auto& r : runs) {
    ids.push_back(r.run.run_id);
    starts.push_back(r.start_count);
  }
  try {
    pqxx::work tx(**lease);
    ExecPrepared(tx,
                 R"(UPDATE runs r SET heartbeat_at = NULL
             FROM unnest($1::uuid[], $2::int[]) AS v(id, start_count)
            WHERE r.id = v.id AND r.id = ANY($1::uuid[]) AND r.start_count = v.start_count
              AND r.state = 'started')",
                 UuidArrayParam(ids), IntArrayParam(starts));
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "releasing runs"));
  }
  return {};
}

}  // namespace conveyor

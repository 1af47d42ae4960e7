#include "commands/pg_accepted_writes.h"

#include <nlohmann/json.hpp>

#include "conveyor/pg_rows.h"
#include "conveyor/task_codec.h"

namespace conveyor {
namespace {

// Every column of accepted_tasks (= tasks), as the JSON rows below name them.
constexpr const char* kTaskColumns[] = {"id",
                                        "number",
                                        "task_type_id",
                                        "client_id",
                                        "enabled",
                                        "frequency",
                                        "start_date",
                                        "finish_date",
                                        "parameters",
                                        "content_type",
                                        "notification",
                                        "created_at",
                                        "created_by",
                                        "modified_at",
                                        "modified_by",
                                        "last_event_id",
                                        "deleted_at",
                                        "deleted_by",
                                        "associate_id",
                                        "description",
                                        "request",
                                        "task_name",
                                        "priority",
                                        "due_time",
                                        "planned_completion_time",
                                        "external_refs",
                                        "response",
                                        "command_offset",
                                        "schedule"};

nlohmann::json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? nlohmann::json(TimeParam(*t)) : nlohmann::json();
}

// One row of accepted_tasks as jsonb_populate_recordset reads it.
nlohmann::json TaskRow(const AcceptedTask& a) {
  const Task& t = a.task;
  return {{"id", t.id.ToString()},
          {"number", t.number},
          {"task_type_id", t.task_type_id.ToString()},
          {"client_id", t.client_id ? nlohmann::json(t.client_id->ToString()) : nlohmann::json()},
          {"enabled", t.enabled},
          {"frequency", FrequencyName(t.frequency)},
          {"start_date", OptionalTime(t.start_date)},
          {"finish_date", OptionalTime(t.finish_date)},
          {"parameters", t.parameters},
          {"content_type", t.content_type},
          {"notification", NotificationName(t.notification)},
          {"created_at", TimeParam(t.created_at)},
          {"created_by", t.created_by},
          {"modified_at", TimeParam(a.modified_at)},
          {"modified_by", a.modified_by},
          {"last_event_id", a.event_id.ToString()},
          {"deleted_at", OptionalTime(a.deleted_at)},
          {"deleted_by", a.deleted_at ? nlohmann::json(a.deleted_by) : nlohmann::json()},
          {"associate_id", t.associate_id},
          {"description", t.description},
          {"request", t.request},
          {"task_name", t.name},
          {"priority", t.priority ? nlohmann::json(*t.priority) : nlohmann::json()},
          {"due_time", OptionalTime(t.due_time)},
          {"planned_completion_time", OptionalTime(t.planned_completion_time)},
          {"external_refs", t.external_refs},
          {"response", t.response ? nlohmann::json(*t.response) : nlohmann::json()},
          {"command_offset", a.offset},
          {"schedule", ScheduleToJson(t.schedule)}};
}

// Inserts the rows of $1, each unless the projection or accepted_tasks holds the task at the
// same or a later offset already (a worker may have applied the command by now). $2 holds the
// rows' ids: `t.id = ANY($2)` keeps the look into tasks on its primary key whatever the
// statistics say. Without it, with the statistics of a moment when tasks was small, the
// planner hashed the whole table for each request (bench/README.md, "Read your own writes").
std::string UpsertTasks() {
  std::string columns, excluded;
  for (const char* c : kTaskColumns) {
    columns += std::string(columns.empty() ? "" : ", ") + c;
    excluded += std::string(excluded.empty() ? "" : ", ") + "EXCLUDED." + c;
  }
  return R"(INSERT INTO accepted_tasks AS a
            SELECT r.* FROM jsonb_populate_recordset(NULL::accepted_tasks, $1::jsonb) r
             WHERE NOT EXISTS (SELECT 1 FROM tasks t
                                WHERE t.id = ANY($2::uuid[]) AND t.id = r.id
                                  AND t.command_offset >= r.command_offset)
            ON CONFLICT (id) DO UPDATE SET ()" +
         columns + ") = (" + excluded + R"()
             WHERE a.command_offset < EXCLUDED.command_offset)";
}

constexpr char kInsertNotes[] = R"(
    INSERT INTO accepted_notes (id, task_id, text, created_at, created_by, event_id)
    SELECT * FROM jsonb_to_recordset($1::jsonb)
             AS n(id bigint, task_id uuid, text text, created_at timestamptz, created_by text,
                  event_id uuid)
    ON CONFLICT (id) DO NOTHING)";

}  // namespace

Status PgAcceptedWrites::Record(const std::vector<AcceptedTask>& tasks,
                                const std::vector<AcceptedNote>& notes) {
  if (tasks.empty() && notes.empty()) return {};
  auto task_rows = nlohmann::json::array();
  std::vector<Uuid> task_ids;
  for (const auto& t : tasks) {
    task_rows.push_back(TaskRow(t));
    task_ids.push_back(t.task.id);
  }
  auto note_rows = nlohmann::json::array();
  for (const auto& [n, event_id] : notes)
    note_rows.push_back({{"id", n.id},
                         {"task_id", n.task_id.ToString()},
                         {"text", n.text},
                         {"created_at", TimeParam(n.created_at)},
                         {"created_by", n.created_by},
                         {"event_id", event_id.ToString()}});
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    static const std::string kUpsertTasks = UpsertTasks();
    if (!tasks.empty()) tx.exec_params0(kUpsertTasks, task_rows.dump(), UuidArrayParam(task_ids));
    if (!notes.empty()) tx.exec_params0(kInsertNotes, note_rows.dump());
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "recording accepted commands"));
  }
  return {};
}

}  // namespace conveyor

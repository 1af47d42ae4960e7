#include "conveyor/pg_unnest.h"

#include <nlohmann/json.hpp>

#include "conveyor/task_codec.h"

namespace conveyor {

void AddTaskColumns(UnnestRows& rows, const std::vector<const Task*>& tasks) {
  using T = const Task*;
  auto time = [](const std::optional<Timestamp>& t) { return OptionalTimeParam(t); };
  rows.Add("id", "uuid", UuidColumn(tasks, [](T t) { return t->id; }))
      .Add("number", "bigint", IntColumn(tasks, [](T t) { return t->number; }))
      .Add("task_type_id", "uuid", UuidColumn(tasks, [](T t) { return t->task_type_id; }))
      .Add("client_id", "uuid",
           TextColumn(tasks,
                      [](T t) {
                        return t->client_id ? std::optional(t->client_id->ToString())
                                            : std::nullopt;
                      }))
      .Add("enabled", "boolean", TextColumn(tasks, [](T t) { return t->enabled ? "t" : "f"; }))
      .Add("frequency", "text",
           TextColumn(tasks, [](T t) { return std::string(FrequencyName(t->frequency)); }))
      .Add("start_date", "timestamptz", TextColumn(tasks, [&](T t) { return time(t->start_date); }))
      .Add("finish_date", "timestamptz",
           TextColumn(tasks, [&](T t) { return time(t->finish_date); }))
      .Add("parameters", "text", TextColumn(tasks, [](T t) { return t->parameters; }))
      .Add("content_type", "text", TextColumn(tasks, [](T t) { return t->content_type; }))
      .Add("notification", "text",
           TextColumn(tasks, [](T t) { return std::string(NotificationName(t->notification)); }))
      .Add("created_at", "timestamptz",
           TextColumn(tasks, [](T t) { return TimeParam(t->created_at); }))
      .Add("created_by", "text", TextColumn(tasks, [](T t) { return t->created_by; }))
      .Add("associate_id", "int", IntColumn(tasks, [](T t) { return t->associate_id; }))
      .Add("description", "text", TextColumn(tasks, [](T t) { return t->description; }))
      .Add("request", "text", TextColumn(tasks, [](T t) { return t->request; }))
      .Add("task_name", "text", TextColumn(tasks, [](T t) { return t->name; }))
      .Add("priority", "smallint",
           TextColumn(tasks,
                      [](T t) {
                        return t->priority ? std::optional(std::to_string(*t->priority))
                                           : std::nullopt;
                      }))
      .Add("due_time", "timestamptz", TextColumn(tasks, [&](T t) { return time(t->due_time); }))
      .Add("planned_completion_time", "timestamptz",
           TextColumn(tasks, [&](T t) { return time(t->planned_completion_time); }))
      .Add("external_refs", "jsonb",
           TextColumn(tasks, [](T t) { return nlohmann::json(t->external_refs).dump(); }))
      .Add("schedule", "jsonb",
           TextColumn(tasks, [](T t) { return ScheduleToJson(t->schedule).dump(); }));
}

}  // namespace conveyor

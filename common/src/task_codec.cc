#include "conveyor/task_codec.h"

#include "conveyor/time_format.h"

namespace conveyor {

nlohmann::json TaskToEventData(const Task& t) {
  auto optional_time = [](const std::optional<Timestamp>& v) -> nlohmann::json {
    if (!v) return nullptr;
    return FormatRfc3339(*v);
  };
  return {
      {"id", t.id.ToString()},
      {"number", t.number},
      {"task_type_id", t.task_type_id.ToString()},
      {"client_id", t.client_id ? nlohmann::json(t.client_id->ToString()) : nlohmann::json()},
      {"enabled", t.enabled},
      {"frequency", FrequencyName(t.frequency)},
      {"start_date", optional_time(t.start_date)},
      {"finish_date", optional_time(t.finish_date)},
      {"parameters", t.parameters},
      {"content_type", t.content_type},
      {"notification", NotificationName(t.notification)},
      {"created_at", FormatRfc3339(t.created_at)},
      {"created_by", t.created_by},
      {"name", t.name},
      {"priority", t.priority ? nlohmann::json(*t.priority) : nlohmann::json()},
      {"due_time", optional_time(t.due_time)},
      {"planned_completion_time", optional_time(t.planned_completion_time)},
      {"external_refs", t.external_refs},
  };
}

Result<Task> TaskFromEventData(const nlohmann::json& d) {
  // The event schema has been checked before this is called; these checks guard the
  // conversions themselves.
  Task t;
  auto uuid = [&](const char* name) -> Result<Uuid> {
    auto v = Uuid::Parse(d.value(name, std::string()));
    if (!v) return Fail(ErrorCode::kInvalidArgument, "not a UUID", name);
    return *v;
  };
  auto time = [&](const char* name) -> Result<std::optional<Timestamp>> {
    if (!d.contains(name) || d[name].is_null()) return std::optional<Timestamp>();
    auto ts = ParseDateTime(d[name].get<std::string>());
    if (!ts) return Fail(ErrorCode::kInvalidArgument, ts.error().message, name);
    return std::optional<Timestamp>(*ts);
  };
  try {
    auto id = uuid("id");
    if (!id) return std::unexpected(id.error());
    t.id = *id;
    auto type = uuid("task_type_id");
    if (!type) return std::unexpected(type.error());
    t.task_type_id = *type;
    if (d.contains("client_id") && !d["client_id"].is_null()) {
      auto c = uuid("client_id");
      if (!c) return std::unexpected(c.error());
      t.client_id = *c;
    }
    t.number = d.at("number").get<std::int64_t>();
    t.enabled = d.at("enabled").get<bool>();
    auto freq = FrequencyFromName(d.at("frequency").get<std::string>());
    if (!freq) return Fail(ErrorCode::kInvalidArgument, "unknown frequency", "frequency");
    t.frequency = *freq;
    auto notification = NotificationFromName(d.at("notification").get<std::string>());
    if (!notification)
      return Fail(ErrorCode::kInvalidArgument, "unknown notification", "notification");
    t.notification = *notification;
    auto start = time("start_date");
    if (!start) return std::unexpected(start.error());
    t.start_date = *start;
    auto finish = time("finish_date");
    if (!finish) return std::unexpected(finish.error());
    t.finish_date = *finish;
    auto created = time("created_at");
    if (!created) return std::unexpected(created.error());
    if (!*created) return Fail(ErrorCode::kInvalidArgument, "required", "created_at");
    t.created_at = **created;
    t.parameters = d.at("parameters").get<std::string>();
    t.content_type = d.at("content_type").get<std::string>();
    t.created_by = d.value("created_by", std::string());
    // Fields added with the Oracle dialect: absent from older events.
    t.name = d.value("name", std::string());
    if (d.contains("priority") && !d["priority"].is_null()) t.priority = d["priority"].get<int>();
    auto due = time("due_time");
    if (!due) return std::unexpected(due.error());
    t.due_time = *due;
    auto planned = time("planned_completion_time");
    if (!planned) return std::unexpected(planned.error());
    t.planned_completion_time = *planned;
    if (d.contains("external_refs"))
      t.external_refs = d["external_refs"].get<std::map<std::string, std::int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed task data: ") + e.what());
  }
  return t;
}

nlohmann::json NoteToEventData(const TaskNote& n) {
  return {{"id", n.id},
          {"task_id", n.task_id.ToString()},
          {"text", n.text},
          {"created_at", FormatRfc3339(n.created_at)},
          {"created_by", n.created_by}};
}

Result<TaskNote> NoteFromEventData(const nlohmann::json& d) {
  TaskNote n;
  try {
    n.id = d.at("id").get<std::int64_t>();
    auto task = Uuid::Parse(d.at("task_id").get<std::string>());
    if (!task) return Fail(ErrorCode::kInvalidArgument, "not a UUID", "task_id");
    n.task_id = *task;
    n.text = d.at("text").get<std::string>();
    auto created = ParseDateTime(d.at("created_at").get<std::string>());
    if (!created) return Fail(ErrorCode::kInvalidArgument, created.error().message, "created_at");
    n.created_at = *created;
    n.created_by = d.value("created_by", std::string());
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed note data: ") + e.what());
  }
  return n;
}

}  // namespace conveyor

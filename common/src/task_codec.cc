#include "conveyor/task_codec.h"

#include <cstdint>
#include <utility>

#include "conveyor/task_view.h"
#include "conveyor/time_format.h"

namespace conveyor {

namespace {

nlohmann::json OptionalTime(const std::optional<Timestamp>& v) {
  if (!v) return nullptr;
  return FormatRfc3339(*v);
}

// `v` as an integer of type T, named `name` in the error. nlohmann converts a floating-point
// number (1.5, 1e300, or an integer too long for 64 bits) to an integer with a plain cast,
// undefined behaviour out of range, instead of throwing: the event schemas refuse such numbers,
// and this keeps the decoders safe on their own.
template <typename T>
Result<T> IntegerOf(const nlohmann::json& v, const char* name) {
  if (v.is_number_unsigned() && std::in_range<T>(v.get<std::uint64_t>()))
    return static_cast<T>(v.get<std::uint64_t>());
  if (v.is_number_integer() && !v.is_number_unsigned() && std::in_range<T>(v.get<std::int64_t>()))
    return static_cast<T>(v.get<std::int64_t>());
  return Fail(ErrorCode::kInvalidArgument, "not an integer within range", name);
}

}  // namespace

nlohmann::json ScheduleToJson(const TaskSchedule& s) {
  const TaskSchedule defaults;
  nlohmann::json j = nlohmann::json::object();
  if (s.recurrence != defaults.recurrence) j["recurrence"] = s.recurrence;
  if (s.time_zone != defaults.time_zone) j["time_zone"] = s.time_zone;
  if (s.catch_up != defaults.catch_up) j["catch_up"] = CatchUpName(s.catch_up);
  if (s.catch_up_limit != defaults.catch_up_limit) j["catch_up_limit"] = s.catch_up_limit;
  if (s.overlap != defaults.overlap) j["overlap"] = OverlapName(s.overlap);
  return j;
}

Result<TaskSchedule> ScheduleFromJson(const nlohmann::json& j) {
  TaskSchedule s;
  if (j.is_null()) return s;
  try {
    s.recurrence = j.value("recurrence", s.recurrence);
    s.time_zone = j.value("time_zone", s.time_zone);
    s.catch_up_limit = j.value("catch_up_limit", s.catch_up_limit);
    auto catch_up = CatchUpFromName(j.value("catch_up", std::string(CatchUpName(s.catch_up))));
    if (!catch_up) return Fail(ErrorCode::kInvalidArgument, "unknown catch_up", "schedule");
    s.catch_up = *catch_up;
    auto overlap = OverlapFromName(j.value("overlap", std::string(OverlapName(s.overlap))));
    if (!overlap) return Fail(ErrorCode::kInvalidArgument, "unknown overlap", "schedule");
    s.overlap = *overlap;
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed schedule: ") + e.what(),
                "schedule");
  }
  return s;
}

// The required fields always; the optional ones only when set, so that the event (consumed,
// validated and kept in the inbox once per task) carries no nulls and empty strings. Readers
// take an absent optional field as its default, as the schema says.
nlohmann::json TaskToEventData(const Task& t) {
  nlohmann::json d = {
      {"id", t.id.ToString()},
      {"number", t.number},
      {"task_type_id", t.task_type_id.ToString()},
      {"enabled", t.enabled},
      {"frequency", FrequencyName(t.frequency)},
      {"parameters", t.parameters},
      {"content_type", t.content_type},
      {"notification", NotificationName(t.notification)},
      {"created_at", FormatRfc3339(t.created_at)},
  };
  auto text = [&](const char* name, const std::string& v) {
    if (!v.empty()) d[name] = v;
  };
  auto time = [&](const char* name, const std::optional<Timestamp>& v) {
    if (v) d[name] = FormatRfc3339(*v);
  };
  if (t.client_id) d["client_id"] = t.client_id->ToString();
  time("start_date", t.start_date);
  time("finish_date", t.finish_date);
  text("created_by", t.created_by);
  text("name", t.name);
  if (t.priority) d["priority"] = *t.priority;
  time("due_time", t.due_time);
  time("planned_completion_time", t.planned_completion_time);
  if (!t.external_refs.empty()) d["external_refs"] = t.external_refs;
  if (t.associate_id != 0) d["associate_id"] = t.associate_id;
  text("description", t.description);
  text("request", t.request);
  if (auto s = ScheduleToJson(t.schedule); !s.empty()) d["schedule"] = std::move(s);
  return d;
}

namespace {

nlohmann::json TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json RunToStateData(const RunView& r) {
  nlohmann::json d = {
      {"id", r.id.ToString()},
      {"state", RunStateName(r.state)},
      {"queued_at", FormatRfc3339(r.queued_at)},
      {"due_at", TimeOrNull(r.due_at)},
      {"start_count", r.start_count},
      {"started_at", TimeOrNull(r.started_at)},
      {"finished_at", TimeOrNull(r.finished_at)},
      {"result", r.result},
      {"worker", r.worker},
      {"attempt", r.attempt},
      {"progress_percent", r.progress_percent},
      {"progress_description", r.progress_description},
      {"cancel_requested", r.cancel_requested},
  };
  if (r.file_name) d["file_name"] = *r.file_name;
  return d;
}

}  // namespace

nlohmann::json TaskStateToEventData(const TaskView& v) {
  return {
      {"task", TaskToEventData(v.task)},
      {"response", v.task.response ? nlohmann::json(*v.task.response) : nlohmann::json(nullptr)},
      {"type_name", v.type_name},
      {"modified_at", FormatRfc3339(v.modified_at)},
      {"modified_by", v.modified_by},
      {"next_run_at", TimeOrNull(v.next_run_at)},
      {"last_run", v.last_run ? RunToStateData(*v.last_run) : nlohmann::json(nullptr)},
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
    auto number = IntegerOf<std::int64_t>(d.at("number"), "number");
    if (!number) return std::unexpected(number.error());
    t.number = *number;
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
    if (d.contains("priority") && !d["priority"].is_null()) {
      auto priority = IntegerOf<int>(d["priority"], "priority");
      if (!priority) return std::unexpected(priority.error());
      t.priority = *priority;
    }
    auto due = time("due_time");
    if (!due) return std::unexpected(due.error());
    t.due_time = *due;
    auto planned = time("planned_completion_time");
    if (!planned) return std::unexpected(planned.error());
    t.planned_completion_time = *planned;
    if (d.contains("external_refs")) {
      if (!d["external_refs"].is_object())
        return Fail(ErrorCode::kInvalidArgument, "not an object", "external_refs");
      for (const auto& [key, value] : d["external_refs"].items()) {
        auto ref = IntegerOf<std::int64_t>(value, "external_refs");
        if (!ref) return std::unexpected(ref.error());
        t.external_refs[key] = *ref;
      }
    }
    // Optional: events published before migration 0006 do not carry them.
    if (d.contains("associate_id")) {
      auto associate = IntegerOf<std::int32_t>(d["associate_id"], "associate_id");
      if (!associate) return std::unexpected(associate.error());
      t.associate_id = *associate;
    }
    t.description = d.value("description", std::string());
    t.request = d.value("request", std::string());
    // Absent from events published before scheduling existed (migration 0011).
    if (d.contains("schedule")) {
      auto schedule = ScheduleFromJson(d["schedule"]);
      if (!schedule) return std::unexpected(schedule.error());
      t.schedule = std::move(*schedule);
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed task data: ") + e.what());
  }
  return t;
}

nlohmann::json TaskUpdateToEventData(const TaskUpdate& u) {
  nlohmann::json d = {
      {"task_id", u.task_id.ToString()},
      {"task_type_id", u.task_type_id.ToString()},
      {"enabled", u.enabled ? nlohmann::json(*u.enabled) : nlohmann::json()},
      {"frequency", FrequencyName(u.frequency)},
      {"start_date", OptionalTime(u.start_date)},
      {"finish_date", OptionalTime(u.finish_date)},
      {"parameters", u.parameters},
      {"content_type", u.content_type},
      {"notification", NotificationName(u.notification)},
      {"requested_by", u.requested_by},
  };
  // The Oracle fields go only when set, so that a TwoSms update leaves them as they are.
  if (u.name) d["name"] = *u.name;
  if (u.priority) d["priority"] = *u.priority ? nlohmann::json(**u.priority) : nlohmann::json();
  if (u.due_time) d["due_time"] = OptionalTime(*u.due_time);
  if (u.planned_completion_time)
    d["planned_completion_time"] = OptionalTime(*u.planned_completion_time);
  if (u.schedule) d["schedule"] = ScheduleToJson(*u.schedule);
  return d;
}

Result<TaskUpdate> TaskUpdateFromEventData(const nlohmann::json& d) {
  // As TaskFromEventData: the event schema has been checked already.
  TaskUpdate u;
  try {
    auto id = Uuid::Parse(d.at("task_id").get<std::string>());
    if (!id) return Fail(ErrorCode::kInvalidArgument, "not a UUID", "task_id");
    u.task_id = *id;
    auto type = Uuid::Parse(d.at("task_type_id").get<std::string>());
    if (!type) return Fail(ErrorCode::kInvalidArgument, "not a UUID", "task_type_id");
    u.task_type_id = *type;
    if (!d.at("enabled").is_null()) u.enabled = d["enabled"].get<bool>();
    auto freq = FrequencyFromName(d.at("frequency").get<std::string>());
    if (!freq) return Fail(ErrorCode::kInvalidArgument, "unknown frequency", "frequency");
    u.frequency = *freq;
    auto notification = NotificationFromName(d.at("notification").get<std::string>());
    if (!notification)
      return Fail(ErrorCode::kInvalidArgument, "unknown notification", "notification");
    u.notification = *notification;
    for (auto [name, out] :
         {std::pair{"start_date", &u.start_date}, std::pair{"finish_date", &u.finish_date}}) {
      if (d.at(name).is_null()) continue;
      auto t = ParseDateTime(d[name].get<std::string>());
      if (!t) return Fail(ErrorCode::kInvalidArgument, t.error().message, name);
      *out = *t;
    }
    u.parameters = d.at("parameters").get<std::string>();
    u.content_type = d.at("content_type").get<std::string>();
    u.requested_by = d.at("requested_by").get<std::string>();
    if (d.contains("name")) u.name = d["name"].get<std::string>();
    if (d.contains("priority")) {
      u.priority = std::optional<int>();
      if (!d["priority"].is_null()) {
        auto priority = IntegerOf<int>(d["priority"], "priority");
        if (!priority) return std::unexpected(priority.error());
        u.priority = *priority;
      }
    }
    for (auto [name, out] : {std::pair{"due_time", &u.due_time},
                             std::pair{"planned_completion_time", &u.planned_completion_time}}) {
      if (!d.contains(name)) continue;
      if (d[name].is_null()) {
        *out = std::optional<Timestamp>();
        continue;
      }
      auto t = ParseDateTime(d[name].get<std::string>());
      if (!t) return Fail(ErrorCode::kInvalidArgument, t.error().message, name);
      *out = std::optional<Timestamp>(*t);
    }
    if (d.contains("schedule")) {
      auto schedule = ScheduleFromJson(d["schedule"]);
      if (!schedule) return std::unexpected(schedule.error());
      u.schedule = std::move(*schedule);
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed update data: ") + e.what());
  }
  return u;
}

nlohmann::json BatchTaskUpdateToEventData(const BatchTaskUpdate& u) {
  nlohmann::json d = {
      {"task_id", u.task_id.ToString()},
      {"run_change", RunChangeName(u.run_change)},
      {"requested_by", u.requested_by},
  };
  if (u.description) d["description"] = *u.description;
  if (u.request) d["request"] = *u.request;
  if (u.response) d["response"] = *u.response;
  return d;
}

Result<BatchTaskUpdate> BatchTaskUpdateFromEventData(const nlohmann::json& d) {
  // As TaskFromEventData: the event schema has been checked already.
  BatchTaskUpdate u;
  try {
    auto id = Uuid::Parse(d.at("task_id").get<std::string>());
    if (!id) return Fail(ErrorCode::kInvalidArgument, "not a UUID", "task_id");
    u.task_id = *id;
    auto change = RunChangeFromName(d.at("run_change").get<std::string>());
    if (!change) return Fail(ErrorCode::kInvalidArgument, "unknown run change", "run_change");
    u.run_change = *change;
    for (auto [name, out] : {std::pair{"description", &u.description},
                             std::pair{"request", &u.request}, std::pair{"response", &u.response}})
      if (d.contains(name)) *out = d[name].get<std::string>();
    u.requested_by = d.at("requested_by").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("malformed batch update data: ") + e.what());
  }
  return u;
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
    auto id = IntegerOf<std::int64_t>(d.at("id"), "id");
    if (!id) return std::unexpected(id.error());
    n.id = *id;
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

nlohmann::json FireToEventData(const TaskFire& f) {
  nlohmann::json d = {{"task_id", f.task_id.ToString()},
                      {"due_at", FormatRfc3339(f.due_at)},
                      {"requested_by", f.requested_by}};
  if (f.run_now) d["run_now"] = true;
  return d;
}

Result<TaskFire> FireFromEventData(const nlohmann::json& d) {
  TaskFire f;
  try {
    auto id = Uuid::Parse(d.at("task_id").get<std::string>());
    if (!id) return Fail(ErrorCode::kInvalidArgument, "not a UUID", "task_id");
    f.task_id = *id;
    auto due = ParseDateTime(d.at("due_at").get<std::string>());
    if (!due) return Fail(ErrorCode::kInvalidArgument, due.error().message, "due_at");
    f.due_at = *due;
    f.run_now = d.value("run_now", false);
    f.requested_by = d.at("requested_by").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("malformed fire data: ") + e.what());
  }
  return f;
}

}  // namespace conveyor

#include "dialects/oracle/codec.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "conveyor/json_text.h"
#include "conveyor/text.h"
#include "conveyor/time_format.h"

namespace conveyor::oracle {
namespace {

using nlohmann::json;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto at = s.find(sep);
    out.push_back(TrimSpaces(s.substr(0, at)));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

// Characters (UTF-8 code points), as Oracle's maximum lengths count them.
std::size_t CharCount(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view Title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

json Time(const std::optional<Timestamp>& t) {
  if (!t) return nullptr;
  return FormatTime(*t);
}

json Named(const NamedId& n) { return {{"id", n.id}, {"lookupName", n.lookup_name}}; }

// A reference to a record of another collection, shown by its links as the seed shows
// `contact`.
json Reference(const std::map<std::string, std::int64_t>& refs, const std::string& attribute,
               const std::string& collection, std::string_view base_url) {
  auto it = refs.find(attribute);
  if (it == refs.end()) return nullptr;
  std::string api = std::string(base_url) + kApiPath;
  return {{"links", ResourceLinks(api + "/" + collection + "/" + std::to_string(it->second),
                                  api + "/metadata-catalog/" + collection)}};
}

// The attributes Conveyor keeps as references to the caller's records, with the collection
// each points into.
constexpr std::pair<const char*, const char*> kReferences[] = {
    {"contact", "contacts"}, {"organization", "organizations"}, {"assignedToAccount", "accounts"}};

// Attributes that only the server writes.
constexpr const char* kReadOnly[] = {
    "id",        "lookupName",    "createdTime", "updatedTime",     "percentComplete",
    "startTime", "completedTime", "links",       "fileAttachments", "notes"};

// Oracle attributes Conveyor has no home for: accepted only when empty (null, false, or an
// object of such), so that a client sending the seed's defaults is not refused.
constexpr const char* kUnsupported[] = {"inherit", "marketingSettings", "salesSettings",
                                        "serviceSettings", "taskTemplate"};

bool IsEmptyValue(const json& v) {
  if (v.is_null() || (v.is_boolean() && !v.get<bool>())) return true;
  if (!v.is_object()) return false;
  return std::all_of(v.begin(), v.end(), [](const json& e) { return IsEmptyValue(e); });
}

Result<std::optional<Timestamp>> OptionalTime(const json& body, const char* field) {
  if (!body.contains(field) || body[field].is_null()) return std::optional<Timestamp>();
  if (!body[field].is_string())
    return Fail(ErrorCode::kInvalidArgument,
                "must be a date-time string such as "
                "\"2026-03-17T14:00:56.000Z\" or null",
                field);
  auto t = ParseDateTime(body[field].get<std::string>());
  if (!t)
    return Fail(ErrorCode::kInvalidArgument,
                "'" + body[field].get<std::string>() + "' is not a date-time: " + t.error().message,
                field);
  return std::optional<Timestamp>(*t);
}

}  // namespace

// --- problems -------------------------------------------------------------------------------

json ProblemBody(const Problem& p, std::string_view base_url, std::string_view instance) {
  return {{"type", std::string(base_url) + "/services/rest/connect/exceptions/" + p.code},
          {"title", Title(p.status)},
          {"status", p.status},
          {"detail", p.detail},
          {"instance", std::string(base_url) + std::string(instance)},
          {"o:errorCode", p.code}};
}

Problem WriteProblem(const Error& e) {
  std::string detail = e.field.empty() ? e.message : e.field + ": " + e.message;
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kTooLarge:
      return {400, kWriteFailed, detail};
    case ErrorCode::kNotFound:
      return {404, kUnknownResource, detail};
    case ErrorCode::kUnauthenticated:
      return {401, kNotAuthorized, detail};
    case ErrorCode::kPermissionDenied:
      return {403, kNotAuthorized, detail};
    case ErrorCode::kRateLimited:
      return {429, kNotAuthorized, detail};
    case ErrorCode::kUnavailable:
      return {503, kInternalError, detail + " (nothing was changed; try again)"};
    case ErrorCode::kInternal:
      break;
  }
  return {500, kInternalError, detail};
}

// --- namedIDs -------------------------------------------------------------------------------

const std::vector<NamedId>& Priorities() {
  static const std::vector<NamedId> kList = {
      {1, "Low"}, {2, "Normal"}, {3, "High"}, {4, "Critical"}};
  return kList;
}

const std::vector<NamedId>& Statuses() {
  static const std::vector<NamedId> kList = {
      {kStatusNotStarted, "Not Started"}, {kStatusInProgress, "In Progress"},
      {kStatusWaiting, "Waiting"},        {kStatusCompleted, "Completed"},
      {kStatusDeferred, "Deferred"},      {kStatusFailed, "Failed"}};
  return kList;
}

const std::vector<NamedId>& StatusTypes() {
  static const std::vector<NamedId> kList = {{kStatusTypeNotComplete, "Not Complete"},
                                             {kStatusTypeComplete, "Complete"}};
  return kList;
}

std::vector<NamedId> TaskTypeIds(const std::vector<TaskType>& catalogue) {
  std::vector<NamedId> out;
  for (const auto& t : catalogue) out.push_back({t.number, t.name});
  return out;
}

Result<NamedId> ResolveNamedId(const json& v, const std::vector<NamedId>& choices,
                               const std::string& field) {
  if (!v.is_object())
    return Fail(ErrorCode::kInvalidArgument,
                "must be an object with an id or a lookupName, e.g. {\"id\": 2} or "
                "{\"lookupName\": \"Normal\"}",
                field);
  for (const auto& [key, value] : v.items())
    if (key != "id" && key != "lookupName")
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown attribute '" + key + "'; give an id or a lookupName", field);
  bool by_id = v.contains("id") && !v["id"].is_null();
  bool by_name = v.contains("lookupName") && !v["lookupName"].is_null();
  if (by_id && by_name)
    return Fail(ErrorCode::kInvalidArgument, "Only ID or lookupName can be provided", field);
  if (!by_id && !by_name)
    return Fail(ErrorCode::kInvalidArgument, "give an id or a lookupName", field);
  std::string listing = std::string(kApiPath) + "/namedIDs/tasks/" + field;
  if (by_id) {
    if (!v["id"].is_number_integer())
      return Fail(ErrorCode::kInvalidArgument, "id must be an integer", field + ".id");
    auto id = v["id"].get<std::int64_t>();
    for (const auto& c : choices)
      if (c.id == id) return c;
    return Fail(ErrorCode::kInvalidArgument,
                "no value has id " + std::to_string(id) + " (the values: GET " + listing + ")",
                field + ".id");
  }
  if (!v["lookupName"].is_string())
    return Fail(ErrorCode::kInvalidArgument, "lookupName must be a string", field + ".lookupName");
  auto name = v["lookupName"].get<std::string>();
  for (const auto& c : choices)
    if (c.lookup_name == name) return c;
  std::vector<const NamedId*> matches;
  for (const auto& c : choices)
    if (EqualsIgnoringCase(c.lookup_name, name)) matches.push_back(&c);
  if (matches.size() == 1) return *matches[0];
  if (matches.empty())
    return Fail(ErrorCode::kInvalidArgument,
                "no value is named '" + name + "' (the values: GET " + listing + ")",
                field + ".lookupName");
  std::string which;
  for (const auto* m : matches)
    which += (which.empty() ? "" : ", ") + m->lookup_name + " (id " + std::to_string(m->id) + ")";
  return Fail(ErrorCode::kInvalidArgument,
              "the name '" + name + "' cannot uniquely determine the value: it matches " + which +
                  "; give the id",
              field + ".lookupName");
}

// --- status ---------------------------------------------------------------------------------

namespace {

// The one table both directions of the derivation read.
struct StatusRule {
  std::optional<RunState> state;  // std::nullopt: the task has no run
  std::int64_t status;
};
constexpr StatusRule kStatusRules[] = {
    {std::nullopt, kStatusNotStarted},        {RunState::kQueued, kStatusNotStarted},
    {RunState::kAcquired, kStatusNotStarted}, {RunState::kStarted, kStatusInProgress},
    {RunState::kRetryWait, kStatusWaiting},   {RunState::kSucceeded, kStatusCompleted},
    {RunState::kCancelled, kStatusDeferred},  {RunState::kFailed, kStatusFailed},
};

NamedId StatusById(std::int64_t id) {
  for (const auto& s : Statuses())
    if (s.id == id) return s;
  return Statuses().front();
}

}  // namespace

StatusWithType DeriveStatus(const std::optional<RunView>& run) {
  std::optional<RunState> state;
  if (run) state = run->state;
  std::int64_t status = kStatusNotStarted;
  for (const auto& r : kStatusRules)
    if (r.state == state) status = r.status;
  bool complete = state && IsFinal(*state);
  return {StatusById(status), StatusTypes()[complete ? 1 : 0]};
}

std::vector<std::optional<RunState>> RunStatesOfStatus(std::int64_t status_id) {
  std::vector<std::optional<RunState>> out;
  for (const auto& r : kStatusRules)
    if (r.status == status_id) out.push_back(r.state);
  return out;
}

// --- the resource ---------------------------------------------------------------------------

std::string FormatTime(Timestamp t) {
  auto s = FormatRfc3339(t);  // "2026-02-22T04:10:00.962000Z"
  return s.substr(0, 23) + "Z";
}

json ResourceLinks(std::string_view href, std::string_view described_by) {
  return json::array(
      {{{"rel", "self"}, {"href", href}},
       {{"rel", "canonical"}, {"href", href}},
       {{"rel", "describedby"}, {"href", described_by}, {"mediaType", "application/schema+json"}}});
}

json TaskJson(const TaskView& v, std::string_view base_url) {
  const Task& t = v.task;
  const auto& run = v.last_run;
  std::string api = std::string(base_url) + kApiPath;
  std::string self = api + "/tasks/" + std::to_string(t.number);
  auto status = DeriveStatus(run);
  bool started = run && run->started_at.has_value();
  json priority = nullptr;
  if (t.priority && !PriorityName(*t.priority).empty())
    priority = Named({*t.priority, std::string(PriorityName(*t.priority))});
  json parameters = t.parameters;
  return {
      {"id", t.number},
      {"lookupName", t.name},
      {"createdTime", FormatTime(t.created_at)},
      {"updatedTime", FormatTime(v.modified_at)},
      {"assignedToAccount", Reference(t.external_refs, "assignedToAccount", "accounts", base_url)},
      {"completedTime", run && IsFinal(run->state) ? Time(run->finished_at) : json()},
      {"contact", Reference(t.external_refs, "contact", "contacts", base_url)},
      {"customFields", {{"c", {{"parameters", parameters}}}}},
      {"dueTime", Time(t.due_time)},
      {"fileAttachments",
       {{"links", json::array({{{"rel", "self"}, {"href", self + "/fileAttachments"}}})}}},
      {"inherit",
       {{"inheritContact", false},
        {"inheritOrganization", false},
        {"inheritStaffAssignment", false}}},
      {"marketingSettings",
       {{"campaign", nullptr}, {"document", nullptr}, {"mailing", nullptr}, {"survey", nullptr}}},
      {"name", t.name},
      {"notes", {{"links", json::array({{{"rel", "self"}, {"href", self + "/notes"}}})}}},
      {"organization", Reference(t.external_refs, "organization", "organizations", base_url)},
      {"percentComplete", started ? json(run->progress_percent) : json()},
      {"plannedCompletionTime", Time(t.planned_completion_time)},
      {"priority", priority},
      {"salesSettings", {{"opportunity", nullptr}}},
      {"serviceSettings", {{"answer", nullptr}, {"incident", nullptr}}},
      {"startTime", run ? Time(run->started_at) : json()},
      {"statusWithType", {{"status", Named(status.status)}, {"statusType", Named(status.type)}}},
      {"taskTemplate", nullptr},
      {"taskType", Named({v.type_number, v.type_name})},
      {"links", ResourceLinks(self, api + "/metadata-catalog/tasks")},
  };
}

json NoteJson(const TaskNote& n, std::int64_t task_number, std::string_view base_url) {
  std::string api = std::string(base_url) + kApiPath;
  std::string self =
      api + "/tasks/" + std::to_string(task_number) + "/notes/" + std::to_string(n.id);
  return {{"id", n.id},
          {"channel", nullptr},
          {"createdByAccount", nullptr},
          {"createdTime", FormatTime(n.created_at)},
          {"text", n.text},
          {"updatedByAccount", nullptr},
          {"updatedTime", FormatTime(n.created_at)},
          {"links", ResourceLinks(self, api + "/metadata-catalog/tasks/notes")}};
}

namespace {

// What create and PATCH refuse alike: read-only attributes and those Conveyor has no home for.
Status CheckWritable(const json& b, bool create) {
  if (!b.is_object()) return Fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  for (const char* field : kReadOnly)
    if (b.contains(field)) {
      std::string why = std::string(field) == "notes" ? "; add notes with POST tasks/{id}/notes"
                                                      : "; the server sets it";
      return Fail(ErrorCode::kInvalidArgument, "is read-only" + why, field);
    }
  for (const char* field : kUnsupported)
    if (b.contains(field) && !IsEmptyValue(b[field]))
      return Fail(ErrorCode::kInvalidArgument, "is not supported by Conveyor (send null)", field);
  if (!create)
    for (const auto& [attribute, collection] : kReferences)
      if (b.contains(attribute))
        return Fail(ErrorCode::kInvalidArgument, "is kept as given on create and cannot be changed",
                    attribute);
  return {};
}

Result<std::string> DecodeName(const json& b) {
  if (!b.contains("name") || b["name"].is_null())
    return Fail(ErrorCode::kInvalidArgument, "The name field is required for tasks", "name");
  if (!b["name"].is_string()) return Fail(ErrorCode::kInvalidArgument, "must be a string", "name");
  auto name = b["name"].get<std::string>();
  if (TrimSpaces(name).empty())
    return Fail(ErrorCode::kInvalidArgument, "The name field is required for tasks", "name");
  if (CharCount(name) > kMaxNameLength)
    return Fail(
        ErrorCode::kInvalidArgument,
        "is longer than the maximum length of " + std::to_string(kMaxNameLength) + " characters",
        "name");
  return name;
}

// null: no priority.
Result<std::optional<int>> DecodePriority(const json& v) {
  if (v.is_null()) return std::optional<int>();
  auto p = ResolveNamedId(v, Priorities(), "priority");
  if (!p) return std::unexpected(p.error());
  return std::optional<int>(static_cast<int>(p->id));
}

Result<Uuid> DecodeTaskType(const json& v, const std::vector<TaskType>& types) {
  std::int64_t number = 1;  // the built-in noop
  if (!v.is_null()) {
    auto ty = ResolveNamedId(v, TaskTypeIds(types), "taskType");
    if (!ty) return std::unexpected(ty.error());
    number = ty->id;
  }
  auto type = std::find_if(types.begin(), types.end(),
                           [&](const TaskType& ty) { return ty.number == number; });
  if (type == types.end())
    return Fail(ErrorCode::kInvalidArgument, "no task type has id " + std::to_string(number),
                "taskType");
  return type->id;
}

// statusWithType: the status asked for, std::nullopt when none is.
Result<std::optional<std::int64_t>> DecodeStatus(const json& sw) {
  if (sw.is_null()) return std::optional<std::int64_t>();
  if (!sw.is_object())
    return Fail(ErrorCode::kInvalidArgument, "must be an object", "statusWithType");
  std::optional<std::int64_t> status;
  for (const auto& [key, value] : sw.items()) {
    if (key == "statusType" && value.is_null()) continue;
    if (key != "status")
      return Fail(ErrorCode::kInvalidArgument, "is derived from the status",
                  "statusWithType." + key);
    if (value.is_null()) continue;
    auto s = ResolveNamedId(value, Statuses(), "statusWithType.status");
    if (!s) return std::unexpected(s.error());
    status = s->id;
  }
  return status;
}

// customFields: the Parameters, std::nullopt when not given.
Result<std::optional<std::string>> DecodeParameters(const json& cf) {
  if (cf.is_null()) return std::optional<std::string>();
  if (!cf.is_object())
    return Fail(ErrorCode::kInvalidArgument, "must be an object", "customFields");
  for (const auto& [key, value] : cf.items())
    if (key != "c")
      return Fail(ErrorCode::kInvalidArgument, "Conveyor has only the c namespace",
                  "customFields." + key);
  if (!cf.contains("c") || cf["c"].is_null()) return std::optional<std::string>();
  const auto& c = cf["c"];
  if (!c.is_object())
    return Fail(ErrorCode::kInvalidArgument, "must be an object", "customFields.c");
  for (const auto& [key, value] : c.items())
    if (key != "parameters")
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown custom field; Conveyor has customFields.c.parameters",
                  "customFields.c." + key);
  if (!c.contains("parameters") || c["parameters"].is_null()) return std::optional<std::string>();
  const auto& p = c["parameters"];
  std::string field = "customFields.c.parameters";
  std::string parameters;
  if (p.is_string()) {
    parameters = p.get<std::string>();
  } else if (p.is_object() || p.is_array()) {
    parameters = p.dump();  // within the body's depth limit (ParseJson)
  } else {
    return Fail(ErrorCode::kInvalidArgument, "must be JSON text or a JSON object", field);
  }
  if (parameters.size() > kMaxParametersBytes)
    return Fail(ErrorCode::kInvalidArgument,
                "is longer than the maximum of " + std::to_string(kMaxParametersBytes) + " bytes",
                field);
  if (p.is_string())
    if (auto parsed = ParseJson(parameters, "", field); !parsed)
      return std::unexpected(parsed.error());
  return std::optional<std::string>(std::move(parameters));
}

}  // namespace

Result<Task> DecodeCreate(const json& b, const std::vector<TaskType>& types) {
  if (auto s = CheckWritable(b, true); !s) return std::unexpected(s.error());
  Task t;
  t.enabled = true;
  t.frequency = Frequency::kNone;
  t.notification = TaskNotification::kNone;
  t.content_type = "application/json";
  t.parameters = "{}";

  auto name = DecodeName(b);
  if (!name) return std::unexpected(name.error());
  t.name = std::move(*name);
  if (b.contains("priority")) {
    auto p = DecodePriority(b["priority"]);
    if (!p) return std::unexpected(p.error());
    t.priority = *p;
  }
  auto type = DecodeTaskType(b.value("taskType", json()), types);
  if (!type) return std::unexpected(type.error());
  t.task_type_id = *type;
  auto status = DecodeStatus(b.value("statusWithType", json()));
  if (!status) return std::unexpected(status.error());
  if (*status && **status != kStatusNotStarted)
    return Fail(ErrorCode::kInvalidArgument,
                "a new task is Not Started; its status then follows its run",
                "statusWithType.status");
  auto due = OptionalTime(b, "dueTime");
  if (!due) return std::unexpected(due.error());
  t.due_time = *due;
  // A dueTime is when the task runs (docs/oracle.md): one in the future makes it wait.
  t.start_date = t.due_time;
  auto planned = OptionalTime(b, "plannedCompletionTime");
  if (!planned) return std::unexpected(planned.error());
  t.planned_completion_time = *planned;

  for (const auto& [attribute, collection] : kReferences) {
    if (!b.contains(attribute) || b[attribute].is_null()) continue;
    const auto& r = b[attribute];
    std::string field = attribute;
    if (!r.is_object())
      return Fail(ErrorCode::kInvalidArgument, "must be an object such as {\"id\": 83}", field);
    if (r.contains("id") && r.contains("lookupName"))
      return Fail(ErrorCode::kInvalidArgument, "Only ID or lookupName can be provided", field);
    if (r.contains("lookupName"))
      return Fail(ErrorCode::kInvalidArgument,
                  "Conveyor keeps the id of the record in " + std::string(collection) +
                      " as given and cannot look up a lookupName; give the id",
                  field);
    if (!r.contains("id") || !r["id"].is_number_integer() || r["id"].get<std::int64_t>() < 1)
      return Fail(ErrorCode::kInvalidArgument, "id must be an integer of at least 1",
                  field + ".id");
    if (r.size() != 1) return Fail(ErrorCode::kInvalidArgument, "only id can be given", field);
    t.external_refs[attribute] = r["id"].get<std::int64_t>();
  }

  auto parameters = DecodeParameters(b.value("customFields", json()));
  if (!parameters) return std::unexpected(parameters.error());
  if (*parameters) t.parameters = std::move(**parameters);
  return t;
}

bool TaskPatch::ChangesFields() const {
  return name || priority || task_type_id || due_time || planned_completion_time || parameters;
}

Result<TaskPatch> DecodePatch(const json& b, const std::vector<TaskType>& types) {
  if (auto s = CheckWritable(b, false); !s) return std::unexpected(s.error());
  TaskPatch p;
  if (b.contains("name")) {
    auto name = DecodeName(b);
    if (!name) return std::unexpected(name.error());
    p.name = std::move(*name);
  }
  if (b.contains("priority")) {
    auto priority = DecodePriority(b["priority"]);
    if (!priority) return std::unexpected(priority.error());
    p.priority = *priority;
  }
  if (b.contains("taskType")) {
    if (b["taskType"].is_null())
      return Fail(ErrorCode::kInvalidArgument, "a task always has a type; give one", "taskType");
    auto type = DecodeTaskType(b["taskType"], types);
    if (!type) return std::unexpected(type.error());
    p.task_type_id = *type;
  }
  for (auto [field, out] : {std::pair{"dueTime", &p.due_time},
                            std::pair{"plannedCompletionTime", &p.planned_completion_time}}) {
    if (!b.contains(field)) continue;
    auto t = OptionalTime(b, field);
    if (!t) return std::unexpected(t.error());
    *out = *t;
  }
  auto parameters = DecodeParameters(b.value("customFields", json()));
  if (!parameters) return std::unexpected(parameters.error());
  p.parameters = std::move(*parameters);
  auto status = DecodeStatus(b.value("statusWithType", json()));
  if (!status) return std::unexpected(status.error());
  p.status = *status;
  return p;
}

TaskUpdate UpdateOf(const Task& current, const TaskPatch& p) {
  TaskUpdate u;
  u.task_id = current.id;
  u.task_type_id = p.task_type_id.value_or(current.task_type_id);
  u.frequency = current.frequency;
  u.start_date = current.start_date;
  u.finish_date = current.finish_date;
  u.parameters = p.parameters.value_or(current.parameters);
  u.content_type = p.parameters ? "application/json" : current.content_type;
  u.notification = current.notification;
  u.name = p.name;
  u.priority = p.priority;
  u.due_time = p.due_time;
  if (p.due_time) u.start_date = *p.due_time;  // as at create: the task runs at its dueTime
  u.planned_completion_time = p.planned_completion_time;
  // The update event carries the whole schedule: the worker decides the next due time from it.
  u.schedule = current.schedule;
  return u;
}

Status CheckStatusChange(const TaskView& view, std::int64_t status, bool* cancel) {
  *cancel = false;
  auto current = DeriveStatus(view.last_run).status;
  if (status == current.id) return {};
  std::string field = "statusWithType.status";
  if (status != kStatusDeferred)
    return Fail(ErrorCode::kInvalidArgument,
                "a task's status follows its run; the only status that can be set is Deferred "
                "(20), which cancels the run",
                field);
  if (view.cancellation == "CannotCancel")
    return Fail(ErrorCode::kInvalidArgument,
                "tasks of type " + view.type_name + " cannot be cancelled (CannotCancel)", field);
  if (!view.last_run || IsFinal(view.last_run->state))
    return Fail(ErrorCode::kInvalidArgument,
                "the task is " + current.lookup_name +
                    "; only a task that is Not Started, In Progress or Waiting can be Deferred",
                field);
  *cancel = true;
  return {};
}

std::optional<Problem> DeleteProblem(const TaskView& view) {
  if (view.cancellation != "CannotCancel" || !view.last_run || IsFinal(view.last_run->state))
    return std::nullopt;
  return Problem{409, kDeleteProblem,
                 "task " + std::to_string(view.task.number) + " cannot be deleted while it is " +
                     DeriveStatus(view.last_run).status.lookup_name + ": its type " +
                     view.type_name + " is CannotCancel, and deleting cancels the run"};
}

Result<std::string> DecodeNote(const json& b) {
  if (!b.is_object()) return Fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  for (const char* field : {"id", "createdTime", "updatedTime", "links"})
    if (b.contains(field))
      return Fail(ErrorCode::kInvalidArgument, "is read-only; the server sets it", field);
  for (const auto& [key, value] : b.items())
    if (key != "text" && !value.is_null())
      return Fail(ErrorCode::kInvalidArgument, "is not supported by Conveyor (send null)", key);
  if (!b.contains("text") || !b["text"].is_string())
    return Fail(ErrorCode::kInvalidArgument, "is required and must be a string", "text");
  auto text = b["text"].get<std::string>();
  if (CharCount(text) > kMaxNoteLength)
    return Fail(
        ErrorCode::kInvalidArgument,
        "is longer than the maximum length of " + std::to_string(kMaxNoteLength) + " characters",
        "text");
  return text;
}

// --- collection query parameters ------------------------------------------------------------

Result<std::vector<std::string>> ParseFields(std::string_view fields, const json& sample,
                                             bool collection) {
  std::vector<std::string> out;
  for (auto part : Split(fields, ',')) {
    if (part.empty())
      return Fail(ErrorCode::kInvalidArgument, "an empty name in the list", "fields");
    if (collection && part.find('.') != std::string_view::npos)
      return Fail(ErrorCode::kInvalidArgument,
                  "'" + std::string(part) +
                      "': sub-field queries work on single objects only, not on collections",
                  "fields");
    const json* at = &sample;
    for (auto name : Split(part, '.')) {
      std::string key(name);
      if (!at->is_object() || !at->contains(key) || key == "links")
        return Fail(ErrorCode::kInvalidArgument, "unknown field '" + std::string(part) + "'",
                    "fields");
      at = &(*at)[key];
    }
    out.emplace_back(part);
  }
  return out;
}

json Project(const json& full, const std::vector<std::string>& fields) {
  json out = json::object();
  for (const auto& f : fields) {
    const json* from = &full;
    json* to = &out;
    auto parts = Split(f, '.');
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::string key(parts[i]);
      from = &(*from)[key];
      if (i + 1 == parts.size()) {
        (*to)[key] = *from;
      } else {
        if (!to->contains(key) || !(*to)[key].is_object()) (*to)[key] = json::object();
        to = &(*to)[key];
      }
    }
  }
  if (full.contains("links")) out["links"] = full["links"];
  return out;
}

Result<std::vector<TaskOrder>> ParseOrderBy(std::string_view order_by) {
  static const std::pair<std::string_view, TaskField> kFields[] = {
      {"id", TaskField::kNumber},
      {"name", TaskField::kName},
      {"lookupname", TaskField::kName},
      {"createdtime", TaskField::kCreatedAt},
      {"updatedtime", TaskField::kModifiedAt},
      {"duetime", TaskField::kDueTime},
      {"plannedcompletiontime", TaskField::kPlannedCompletionTime},
      {"priority", TaskField::kPriority},
      {"priority.id", TaskField::kPriority},
      {"tasktype", TaskField::kTypeNumber},
      {"tasktype.id", TaskField::kTypeNumber},
  };
  std::vector<TaskOrder> out;
  for (auto part : Split(order_by, ',')) {
    auto colon = part.find(':');
    auto name = AsciiLower(TrimSpaces(part.substr(0, colon)));
    TaskOrder o;
    if (colon != std::string_view::npos) {
      auto dir = AsciiLower(TrimSpaces(part.substr(colon + 1)));
      if (dir == "desc") {
        o.descending = true;
      } else if (dir != "asc") {
        return Fail(ErrorCode::kInvalidArgument,
                    "'" + std::string(part) + "': the direction is asc or desc", "orderBy");
      }
    }
    auto it = std::find_if(std::begin(kFields), std::end(kFields),
                           [&](const auto& f) { return f.first == name; });
    if (it == std::end(kFields))
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot sort by '" + std::string(part) +
                      "'; sortable: id, name, lookupName, createdTime, updatedTime, dueTime, "
                      "plannedCompletionTime, priority, taskType",
                  "orderBy");
    o.field = it->second;
    out.push_back(o);
  }
  return out;
}

// --- q: a subset of ROQL ----------------------------------------------------------------------

namespace {

struct Token {
  enum Kind { kWord, kString, kNumber, kOperator, kEnd } kind = kEnd;
  std::string text;
};

Result<std::vector<Token>> Tokenize(std::string_view q) {
  std::vector<Token> out;
  std::size_t i = 0;
  auto unsupported = [&](std::string what) {
    return Fail(ErrorCode::kInvalidArgument,
                what +
                    " is not supported (docs/oracle.md lists "
                    "the supported subset)",
                "q");
  };
  while (i < q.size()) {
    char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = i;
      while (i < q.size() &&
             (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '_' || q[i] == '.'))
        ++i;
      out.push_back({Token::kWord, std::string(q.substr(start, i - start))});
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
      std::size_t start = i++;
      while (i < q.size() && std::isdigit(static_cast<unsigned char>(q[i]))) ++i;
      auto text = q.substr(start, i - start);
      if (i < q.size() && (q[i] == '.' || std::isalpha(static_cast<unsigned char>(q[i]))))
        return unsupported("the number '" + std::string(text) + q[i] + "...'");
      if (!ParseInt(text)) return unsupported("the number '" + std::string(text) + "'");
      out.push_back({Token::kNumber, std::string(text)});
    } else if (c == '\'') {
      std::string text;
      ++i;
      bool closed = false;
      while (i < q.size()) {
        if (q[i] == '\'') {
          if (i + 1 < q.size() && q[i + 1] == '\'') {
            text += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        text += q[i++];
      }
      if (!closed)
        return Fail(ErrorCode::kInvalidArgument, "a string literal is not closed with '", "q");
      out.push_back({Token::kString, std::move(text)});
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      std::string op(1, c);
      if (i + 1 < q.size() && (q[i + 1] == '=' || (c == '<' && q[i + 1] == '>'))) op += q[++i];
      ++i;
      if (op == "!") return unsupported("the operator '!'");
      out.push_back({Token::kOperator, op});
    } else {
      return unsupported("'" + std::string(1, c) + "'");
    }
  }
  out.push_back({Token::kEnd, ""});
  return out;
}

// What a field of q compares.
enum class QKind { kInt, kText, kTime, kPriorityName, kStatus, kStatusType };

struct QField {
  std::string_view name;  // lower case
  QKind kind;
  TaskField field;
  bool nullable;
  bool by_name;  // status fields: lookupName rather than id
};

constexpr QField kQFields[] = {
    {"id", QKind::kInt, TaskField::kNumber, false, false},
    {"name", QKind::kText, TaskField::kName, false, false},
    {"lookupname", QKind::kText, TaskField::kName, false, false},
    {"createdtime", QKind::kTime, TaskField::kCreatedAt, false, false},
    {"updatedtime", QKind::kTime, TaskField::kModifiedAt, false, false},
    {"duetime", QKind::kTime, TaskField::kDueTime, true, false},
    {"plannedcompletiontime", QKind::kTime, TaskField::kPlannedCompletionTime, true, false},
    {"priority.id", QKind::kInt, TaskField::kPriority, true, false},
    {"priority.lookupname", QKind::kPriorityName, TaskField::kPriority, true, false},
    {"tasktype.id", QKind::kInt, TaskField::kTypeNumber, false, false},
    {"tasktype.lookupname", QKind::kText, TaskField::kTypeName, false, false},
    {"statuswithtype.status.id", QKind::kStatus, TaskField::kNumber, false, false},
    {"statuswithtype.status.lookupname", QKind::kStatus, TaskField::kNumber, false, true},
    {"statuswithtype.statustype.id", QKind::kStatusType, TaskField::kNumber, false, false},
    {"statuswithtype.statustype.lookupname", QKind::kStatusType, TaskField::kNumber, false, true},
};

std::optional<CompareOp> OperatorOf(const std::string& op) {
  if (op == "=") return CompareOp::kEq;
  if (op == "!=" || op == "<>") return CompareOp::kNe;
  if (op == "<") return CompareOp::kLt;
  if (op == "<=") return CompareOp::kLe;
  if (op == ">") return CompareOp::kGt;
  if (op == ">=") return CompareOp::kGe;
  return std::nullopt;
}

// One `field op value` of q into `query`.
Status AddCondition(const QField& f, const std::string& field_text, CompareOp op,
                    const Token& value, TaskQuery* query) {
  auto refuse = [&](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument, "'" + field_text + "' " + why, "q");
  };
  bool ordering =
      op == CompareOp::kLt || op == CompareOp::kLe || op == CompareOp::kGt || op == CompareOp::kGe;
  if (op == CompareOp::kIsNull || op == CompareOp::kIsNotNull) {
    if (!f.nullable) return refuse("is never null: 'is null' is not supported on it");
    query->conditions.push_back({f.field, op, "", {}});
    return {};
  }
  switch (f.kind) {
    case QKind::kInt:
      if (op == CompareOp::kLike) return refuse("is a number: 'like' is not supported on it");
      if (value.kind != Token::kNumber) return refuse("compares with an integer");
      query->conditions.push_back({f.field, op, value.text, {}});
      return {};
    case QKind::kText:
      if (ordering) return refuse("supports =, !=, <> and like only");
      if (value.kind != Token::kString) return refuse("compares with a 'quoted string'");
      query->conditions.push_back({f.field, op, value.text, {}});
      return {};
    case QKind::kTime: {
      if (op == CompareOp::kLike) return refuse("is a date-time: 'like' is not supported on it");
      if (value.kind != Token::kString)
        return refuse("compares with a 'quoted date-time' such as '2026-01-02T03:04:05Z'");
      // A date alone ('2026-01-02') is its midnight UTC.
      auto t = ParseDateTime(value.text.size() == 10 ? value.text + "T00:00:00Z" : value.text);
      if (!t) return refuse("compares with a date-time: '" + value.text + "' is not one");
      query->conditions.push_back({f.field, op, FormatRfc3339(*t), {}});
      return {};
    }
    case QKind::kPriorityName: {
      if (op != CompareOp::kEq && op != CompareOp::kNe) return refuse("supports = and != only");
      if (value.kind != Token::kString) return refuse("compares with a 'quoted string'");
      auto p = ResolveNamedId(json{{"lookupName", value.text}}, Priorities(), "priority");
      if (!p) return Fail(ErrorCode::kInvalidArgument, p.error().Describe(), "q");
      query->conditions.push_back({f.field, op, std::to_string(p->id), {}});
      return {};
    }
    case QKind::kStatus:
    case QKind::kStatusType: {
      if (op != CompareOp::kEq && op != CompareOp::kNe) return refuse("supports = and != only");
      const auto& choices = f.kind == QKind::kStatus ? Statuses() : StatusTypes();
      std::string list =
          f.kind == QKind::kStatus ? "statusWithType.status" : "statusWithType.statusType";
      json named;
      if (f.by_name) {
        if (value.kind != Token::kString) return refuse("compares with a 'quoted string'");
        named = {{"lookupName", value.text}};
      } else {
        if (value.kind != Token::kNumber) return refuse("compares with an integer");
        named = {{"id", *ParseInt(value.text)}};
      }
      auto s = ResolveNamedId(named, choices, list);
      if (!s) return Fail(ErrorCode::kInvalidArgument, s.error().Describe(), "q");
      RunStateCondition c;
      c.negate = op == CompareOp::kNe;
      if (f.kind == QKind::kStatus) {
        c.states = RunStatesOfStatus(s->id);
      } else {
        for (const auto& status : Statuses())
          for (const auto& state : RunStatesOfStatus(status.id))
            if ((state && IsFinal(*state)) == (s->id == kStatusTypeComplete))
              c.states.push_back(state);
      }
      query->run_states.push_back(std::move(c));
      return {};
    }
  }
  return {};
}

}  // namespace

Status ParseQ(std::string_view q, TaskQuery* query) {
  if (q.size() > kMaxQueryLength)
    return Fail(ErrorCode::kInvalidArgument,
                "is longer than the maximum of " + std::to_string(kMaxQueryLength) + " bytes", "q");
  auto tokens = Tokenize(q);
  if (!tokens) return std::unexpected(tokens.error());
  const auto& ts = *tokens;
  std::size_t i = 0;
  auto unsupported = [](const std::string& what) {
    return Fail(ErrorCode::kInvalidArgument,
                what + " is not supported (docs/oracle.md lists the supported subset)", "q");
  };
  if (ts[0].kind == Token::kEnd) return Fail(ErrorCode::kInvalidArgument, "is empty", "q");
  while (true) {
    const Token& name = ts[i];
    if (name.kind != Token::kWord)
      return Fail(ErrorCode::kInvalidArgument, "expected a field name, found '" + name.text + "'",
                  "q");
    auto lower = AsciiLower(name.text);
    if (lower == "or" || lower == "not" || lower == "select" || lower == "order" ||
        lower == "limit")
      return unsupported("'" + name.text + "'");
    auto f = std::find_if(std::begin(kQFields), std::end(kQFields),
                          [&](const QField& qf) { return qf.name == lower; });
    if (f == std::end(kQFields)) return unsupported("the field '" + name.text + "'");
    ++i;
    const Token& op = ts[i];
    auto op_word = AsciiLower(op.text);
    if (op.kind == Token::kOperator) {
      auto cmp = OperatorOf(op.text);
      if (!cmp) return unsupported("the operator '" + op.text + "'");
      if (auto s = AddCondition(*f, name.text, *cmp, ts[i + 1], query); !s) return s;
      i += 2;
    } else if (op.kind == Token::kWord && op_word == "like") {
      if (f->kind != QKind::kText) return unsupported("'like' on '" + name.text + "'");
      if (auto s = AddCondition(*f, name.text, CompareOp::kLike, ts[i + 1], query); !s) return s;
      i += 2;
    } else if (op.kind == Token::kWord && op_word == "is") {
      bool negated = ts[i + 1].kind == Token::kWord && AsciiLower(ts[i + 1].text) == "not";
      const Token& null = ts[i + (negated ? 2 : 1)];
      if (null.kind != Token::kWord || AsciiLower(null.text) != "null")
        return unsupported("'is' without null");
      if (auto s = AddCondition(*f, name.text, negated ? CompareOp::kIsNotNull : CompareOp::kIsNull,
                                null, query);
          !s)
        return s;
      i += negated ? 3 : 2;
    } else if (op.kind == Token::kEnd) {
      return Fail(ErrorCode::kInvalidArgument, "'" + name.text + "' has no operator", "q");
    } else {
      return unsupported("the operator '" + op.text + "'");
    }
    if (ts[i].kind == Token::kEnd) return {};
    if (ts[i].kind == Token::kWord && AsciiLower(ts[i].text) == "and") {
      ++i;
      continue;
    }
    return unsupported("'" + ts[i].text + "' (conditions are joined with 'and' only)");
  }
}

}  // namespace conveyor::oracle

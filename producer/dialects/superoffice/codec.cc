#include "dialects/superoffice/codec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include "conveyor/json_text.h"
#include "conveyor/text.h"

namespace conveyor::superoffice {
namespace {

constexpr std::array<BatchTaskState, 8> kStates = {BatchTaskState::kUnknown,
                                                   BatchTaskState::kNew,
                                                   BatchTaskState::kAquired,
                                                   BatchTaskState::kStarted,
                                                   BatchTaskState::kSucceeded,
                                                   BatchTaskState::kFailed,
                                                   BatchTaskState::kSucceededManualCleanup,
                                                   BatchTaskState::kAll};

std::optional<BatchTaskState> StateFromNumber(long long n) {
  for (auto s : kStates)
    if (static_cast<long long>(s) == n) return s;
  return std::nullopt;
}

Error BadState(const std::string& shown, const std::string& field) {
  std::string names;
  for (auto s : kStates) {
    if (!names.empty()) names += ", ";
    names += StateName(s);
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   shown + " is not a BatchTaskState; use one of " + names +
                       " (Aquired is spelled with one c) or its number (99999 = All)",
                   field);
}

// ParameterObject: the task's Parameters when they are a JSON object (a StartBatchJob's
// ParameterObject comes back as it was sent); otherwise the raw text and its content type.
nlohmann::json ParameterObject(const Task& t) {
  if (t.content_type == "application/json") {
    // Stored before depth was checked everywhere, Parameters may be deeper than the limit:
    // such a text is shown as text.
    auto j = ParseJson(t.parameters, "");
    if (j && j->is_object()) return std::move(*j);
  }
  return {{"Parameters", t.parameters}, {"ContentType", t.content_type}};
}

// The list methods: which schema checks the body and which tasks they return.
struct ListMethod {
  std::string_view name;
  std::string_view schema;
  TaskFilter::Owner owner;
};
constexpr std::array<ListMethod, 9> kListMethods = {{
    {"GetBatchTaskInfosByAssociates", "superoffice.associate-ids.json", TaskFilter::Owner::kAny},
    {"GetBatchTaskInfosByAssociatesAndState", "superoffice.associate-ids-and-state.json",
     TaskFilter::Owner::kAny},
    {"GetBatchTaskInfosByState", "superoffice.state.json", TaskFilter::Owner::kUser},
    {"GetBatchTaskInfosByNameAndState", "superoffice.name-and-state.json",
     TaskFilter::Owner::kUser},
    {"GetBatchTaskInfosByNameAndAssociates", "superoffice.name-and-associate-ids.json",
     TaskFilter::Owner::kAny},
    {"GetAllBatchTaskInfosByName", "superoffice.task-name.json", TaskFilter::Owner::kAny},
    {"GetAllBatchTaskInfosByNameAndState", "superoffice.task-name-and-state.json",
     TaskFilter::Owner::kAny},
    {"GetSystemBatchTaskInfosByName", "superoffice.task-name.json", TaskFilter::Owner::kSystem},
    {"GetSystemBatchTaskInfosByNameAndState", "superoffice.task-name-and-state.json",
     TaskFilter::Owner::kSystem},
}};

const ListMethod* FindListMethod(std::string_view name) {
  for (const auto& m : kListMethods)
    if (m.name == name) return &m;
  return nullptr;
}

constexpr std::array<std::string_view, 8> kOtherSchemas = {"superoffice.id.json",
                                                           "superoffice.start-batch-job.json",
                                                           "superoffice.batch-task-info.json",
                                                           "superoffice.state.json",
                                                           "superoffice.update-batch-task.json",
                                                           "superoffice.batch-task-update.json",
                                                           "superoffice.delete-batch-task.json",
                                                           "superoffice.delete-batch-tasks.json"};

bool IsLive(BatchTaskState s) {
  return s == BatchTaskState::kNew || s == BatchTaskState::kAquired ||
         s == BatchTaskState::kStarted;
}

// A string member that is present and not null.
std::optional<std::string> OptionalText(const nlohmann::json& object, const char* name) {
  if (!object.contains(name) || !object[name].is_string()) return std::nullopt;
  return object[name].get<std::string>();
}

}  // namespace

std::string_view StateName(BatchTaskState state) {
  switch (state) {
    case BatchTaskState::kUnknown:
      return "Unknown";
    case BatchTaskState::kNew:
      return "New";
    case BatchTaskState::kAquired:
      return "Aquired";
    case BatchTaskState::kStarted:
      return "Started";
    case BatchTaskState::kSucceeded:
      return "Succeeded";
    case BatchTaskState::kFailed:
      return "Failed";
    case BatchTaskState::kSucceededManualCleanup:
      return "SucceededManualCleanup";
    case BatchTaskState::kAll:
      return "All";
  }
  return "Unknown";
}

BatchTaskState StateOf(const std::optional<RunView>& run) {
  if (!run) return BatchTaskState::kUnknown;
  switch (run->state) {
    case RunState::kQueued:
    case RunState::kRetryWait:
      return BatchTaskState::kNew;
    case RunState::kAcquired:
      return BatchTaskState::kAquired;
    case RunState::kStarted:
      return BatchTaskState::kStarted;
    case RunState::kSucceeded:
      return BatchTaskState::kSucceeded;
    case RunState::kFailed:
    case RunState::kCancelled:
      return BatchTaskState::kFailed;
    case RunState::kSkipped:  // never a task's latest run (TaskReader)
      break;
  }
  return BatchTaskState::kUnknown;
}

std::string_view StateName(const std::optional<RunView>& run) { return StateName(StateOf(run)); }

Result<BatchTaskState> ParseState(const nlohmann::json& value, const std::string& field) {
  if (value.is_number_integer()) {
    if (auto s = StateFromNumber(value.get<long long>())) return *s;
    return std::unexpected(BadState(value.dump(), field));
  }
  if (!value.is_string()) return std::unexpected(BadState(value.dump(), field));
  auto text = value.get<std::string>();
  for (auto s : kStates)
    if (EqualsIgnoringCase(text, StateName(s))) return s;
  long long n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (!text.empty() && ec == std::errc() && p == text.data() + text.size())
    if (auto s = StateFromNumber(n)) return *s;
  return std::unexpected(BadState("'" + text + "'", field));
}

void RestrictToState(BatchTaskState state, TaskFilter& filter) {
  using enum RunState;
  filter.or_no_run = false;
  switch (state) {
    case BatchTaskState::kAll:
      filter.run_states.reset();
      return;
    case BatchTaskState::kUnknown:
      filter.run_states.emplace();
      filter.or_no_run = true;
      return;
    case BatchTaskState::kNew:
      filter.run_states = std::vector{kQueued, kRetryWait};
      return;
    case BatchTaskState::kAquired:
      filter.run_states = std::vector{kAcquired};
      return;
    case BatchTaskState::kStarted:
      filter.run_states = std::vector{kStarted};
      return;
    case BatchTaskState::kSucceeded:
      filter.run_states = std::vector{kSucceeded};
      return;
    case BatchTaskState::kFailed:
      filter.run_states = std::vector{kFailed, kCancelled};
      return;
    case BatchTaskState::kSucceededManualCleanup:
      filter.run_states.emplace();  // no run is ever in it
      return;
  }
}

nlohmann::json BatchTaskInfo(const TaskView& v, const OutputTimeZone& zone) {
  auto date = [&](const std::optional<Timestamp>& t) -> nlohmann::json {
    if (!t) return nullptr;
    return zone.Format(*t);
  };
  const auto& run = v.last_run;
  return {
      {"Id", v.task.number},
      {"Name", v.type_name},
      {"AssociateId", v.task.associate_id},
      {"DetailsTable", 0},
      {"DetailsRecord", 0},
      {"IsSystemTask", v.task.associate_id == 0},
      {"IsInternalTask", false},
      {"ParameterObject", ParameterObject(v.task)},
      {"LastStarted", run ? date(run->started_at) : nullptr},
      {"Created", date(v.task.created_at)},
      {"StartCount", run ? run->start_count : 0},
      {"DatabaseSerialNumber", ""},
      {"Context", v.task.id.ToString()},
      {"Result", run ? run->result : ""},
      {"State", StateName(run)},
      {"Description", v.task.description},
      {"Response", v.task.response ? *v.task.response
                   : run           ? run->result
                                   : ""},
      {"Request", v.task.request},
      {"ProgressDescription", run ? run->progress_description : ""},
      {"ProgressPercent", run ? run->progress_percent : 0},
      {"FileName", run && run->file_name ? nlohmann::json(*run->file_name) : nullptr},
      {"CancellationBehaviour", v.cancellation},
      {"TableRight", nullptr},
      {"FieldProperties", nlohmann::json::object()},
  };
}

Result<AgentRequests> AgentRequests::Create() {
  AgentRequests r;
  auto add = [&](std::string_view file) -> Status {
    if (r.schemas_.contains(file)) return {};
    auto schema = JsonSchema::Embedded("requests/" + std::string(file));
    if (!schema) return std::unexpected(schema.error());
    r.schemas_.emplace(std::string(file), std::move(*schema));
    return {};
  };
  for (const auto& m : kListMethods)
    if (auto s = add(m.schema); !s) return std::unexpected(s.error());
  for (auto file : kOtherSchemas)
    if (auto s = add(file); !s) return std::unexpected(s.error());
  return r;
}

std::vector<std::string_view> AgentRequests::ListMethods() {
  std::vector<std::string_view> names;
  for (const auto& m : kListMethods) names.push_back(m.name);
  return names;
}

Result<nlohmann::json> AgentRequests::Parse(const std::string& schema,
                                            std::string_view body) const {
  if (body.size() > kMaxBodyBytes)
    return Fail(ErrorCode::kTooLarge, "the request body is over the limit of " +
                                          std::to_string(kMaxBodyBytes) + " bytes");
  auto j = ParseJson(body, "the body");
  if (!j) return j;
  if (!j->is_object()) return Fail(ErrorCode::kInvalidArgument, "the body is not a JSON object");
  auto it = schemas_.find(schema);
  if (it == schemas_.end()) return Fail(ErrorCode::kInternal, "no schema " + schema);
  if (auto valid = it->second.Validate(*j); !valid) return std::unexpected(valid.error());
  return j;
}

Result<std::int64_t> AgentRequests::DecodeId(std::string_view body) const {
  auto j = Parse("superoffice.id.json", body);
  if (!j) return std::unexpected(j.error());
  return (*j)["Id"].get<std::int64_t>();
}

Result<TaskFilter> AgentRequests::DecodeListQuery(std::string_view method,
                                                  std::string_view body) const {
  const auto* m = FindListMethod(method);
  if (!m) return Fail(ErrorCode::kNotFound, "no batch agent method " + std::string(method));
  auto j = Parse(std::string(m->schema), body);
  if (!j) return std::unexpected(j.error());
  TaskFilter filter;
  filter.limit = kMaxListedTasks;
  filter.owner = m->owner;
  if (j->contains("AssociateIds"))
    filter.associate_ids = (*j)["AssociateIds"].get<std::vector<std::int32_t>>();
  if (j->contains("Name")) filter.type_name = (*j)["Name"].get<std::string>();
  if (j->contains("TaskName")) filter.type_name = (*j)["TaskName"].get<std::string>();
  if (j->contains("State")) {
    auto state = ParseState((*j)["State"], "State");
    if (!state) return std::unexpected(state.error());
    RestrictToState(*state, filter);
  }
  return filter;
}

namespace {

// `text` matched literally inside an ILIKE pattern (PostgreSQL's default escape, backslash).
std::string LikeEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A whole number from `min` to `max` in the query parameter `name`.
Result<std::int64_t> WholeParam(const std::string& text, std::string_view name, std::int64_t min,
                                std::int64_t max) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max)
    return Fail(ErrorCode::kInvalidArgument,
                "'" + text + "' is not a whole number from " + std::to_string(min) + " to " +
                    std::to_string(max),
                std::string(name));
  return v;
}

}  // namespace

Result<std::optional<RestPage>> DecodeRestPage(
    const std::function<std::optional<std::string>(std::string_view)>& param) {
  auto top = param("$top");
  if (!top) return std::optional<RestPage>();
  RestPage page;
  auto t = WholeParam(*top, "$top", 0, kMaxPageTasks);
  if (!t) return std::unexpected(t.error());
  page.top = *t;
  if (auto skip = param("$skip")) {
    auto s = WholeParam(*skip, "$skip", 0, std::numeric_limits<std::int32_t>::max());
    if (!s) return std::unexpected(s.error());
    page.skip = *s;
  }
  if (auto order = param("$orderby")) {
    if (EqualsIgnoringCase(*order, "Id desc"))
      page.newest_first = true;
    else if (!EqualsIgnoringCase(*order, "Id") && !EqualsIgnoringCase(*order, "Id asc"))
      return Fail(ErrorCode::kInvalidArgument, "'" + *order + "' is not Id, Id asc or Id desc",
                  "$orderby");
  }
  if (auto state = param("state")) {
    auto parsed = ParseState(*state, "state");
    if (!parsed) return std::unexpected(parsed.error());
    RestrictToState(*parsed, page.filter);
  }
  if (auto name = param("name"); name && !name->empty()) page.filter.type_name = *name;
  if (auto client = param("clientId"); client && !client->empty()) {
    page.client_id = Uuid::Parse(*client);
    if (!page.client_id)
      return Fail(ErrorCode::kInvalidArgument, "'" + *client + "' is not a GUID", "clientId");
  }
  if (auto search = param("search"); search && !search->empty()) page.search = *search;
  return page;
}

TaskQuery RestPageQuery(const RestPage& page, const std::optional<Uuid>& caller_client) {
  auto q = FilterQuery(page.filter, caller_client);
  if (page.client_id) {
    // A client sees only its own tasks: naming another one matches nothing.
    if (caller_client && *caller_client != *page.client_id)
      q.conditions.push_back({TaskField::kNumber, CompareOp::kIn, {}, {}});
    q.client_id = page.client_id;
  }
  if (page.search) {
    bool digits =
        page.search->size() <= 18 && std::all_of(page.search->begin(), page.search->end(),
                                                 [](char c) { return c >= '0' && c <= '9'; });
    if (digits)
      q.conditions.push_back({TaskField::kNumber, CompareOp::kEq, *page.search, {}});
    else
      q.conditions.push_back(
          {TaskField::kDescription, CompareOp::kLike, "%" + LikeEscaped(*page.search) + "%", {}});
  }
  q.order = {{TaskField::kNumber, page.newest_first}};
  q.limit = page.top;
  q.offset = page.skip;
  q.count_total = true;
  return q;
}

Result<StartRequest> AgentRequests::DecodeStart(std::string_view body, bool wrapped) const {
  Result<nlohmann::json> j;
  if (wrapped) {
    j = Parse("superoffice.start-batch-job.json", body);
  } else {
    // The REST body is the BatchTaskInfo: check it as the agent's, naming fields without the
    // wrapper.
    auto info = Parse("superoffice.batch-task-info.json", body);
    if (!info) return std::unexpected(info.error());
    j = nlohmann::json{{"BatchTaskInfo", std::move(*info)}};
  }
  if (!j) return std::unexpected(j.error());
  const auto& info = (*j)["BatchTaskInfo"];
  StartRequest r;
  r.name = info["Name"].get<std::string>();
  if (info.contains("AssociateId") && info["AssociateId"].is_number_integer())
    r.associate_id = info["AssociateId"].get<std::int32_t>();
  if (info.contains("Description") && info["Description"].is_string())
    r.description = info["Description"].get<std::string>();
  if (info.contains("Request") && info["Request"].is_string())
    r.request = info["Request"].get<std::string>();
  nlohmann::json parameters = nlohmann::json::object();
  if (info.contains("ParameterObject") && info["ParameterObject"].is_object())
    parameters = info["ParameterObject"];
  r.parameters = parameters.dump();
  if (r.parameters.size() > kMaxParameterObjectBytes)
    return Fail(ErrorCode::kTooLarge,
                "ParameterObject is " + std::to_string(r.parameters.size()) +
                    " bytes as JSON, over the limit of " + std::to_string(kMaxParameterObjectBytes),
                "BatchTaskInfo/ParameterObject");
  return r;
}

Result<UpdateRequest> AgentRequests::DecodeUpdate(std::string_view body, bool wrapped) const {
  auto j = Parse(
      wrapped ? "superoffice.update-batch-task.json" : "superoffice.batch-task-update.json", body);
  if (!j) return std::unexpected(j.error());
  const auto& info = wrapped ? (*j)["BatchTaskInfo"] : *j;
  std::string prefix = wrapped ? "BatchTaskInfo/" : "";
  UpdateRequest r;
  if (info.contains("Id")) r.id = info["Id"].get<std::int64_t>();
  r.description = OptionalText(info, "Description");
  r.request = OptionalText(info, "Request");
  r.response = OptionalText(info, "Response");
  if (info.contains("State") && !info["State"].is_null()) {
    auto state = ParseState(info["State"], prefix + "State");
    if (!state) return std::unexpected(state.error());
    r.state = *state;
  }
  return r;
}

Result<std::int64_t> AgentRequests::DecodeDeleteOne(std::string_view body) const {
  auto j = Parse("superoffice.delete-batch-task.json", body);
  if (!j) return std::unexpected(j.error());
  return (*j)["BatchTaskId"].get<std::int64_t>();
}

Result<std::vector<std::int64_t>> AgentRequests::DecodeDeleteMany(std::string_view body) const {
  auto j = Parse("superoffice.delete-batch-tasks.json", body);
  if (!j) return std::unexpected(j.error());
  std::vector<std::int64_t> ids;
  for (const auto& id : (*j)["BatchTaskIds"]) {
    auto n = id.get<std::int64_t>();
    if (std::find(ids.begin(), ids.end(), n) == ids.end()) ids.push_back(n);
  }
  // The schema says so too (maxItems); this keeps the limit when the schema is changed.
  if (ids.size() > kMaxDeletedTasks)
    return Fail(ErrorCode::kTooLarge,
                std::to_string(ids.size()) + " ids, over the limit of " +
                    std::to_string(kMaxDeletedTasks) + " per request",
                "BatchTaskIds");
  return ids;
}

Result<BatchTaskUpdate> PlanUpdate(const TaskView& current, const UpdateRequest& request,
                                   const std::string& state_field) {
  BatchTaskUpdate u;
  u.description = request.description;
  u.request = request.request;
  u.response = request.response;
  if (!request.state) return u;
  auto from = StateOf(current.last_run);
  auto to = *request.state;
  if (to == from) return u;
  std::string task =
      "batch task " + std::to_string(current.task.number) + " (" + current.type_name + ")";
  if (to == BatchTaskState::kFailed && IsLive(from)) {
    if (!MayCancel(current))
      return Fail(ErrorCode::kFailedPrecondition,
                  task + " cannot be stopped: its CancellationBehaviour is CannotCancel",
                  state_field);
    u.run_change = BatchTaskUpdate::RunChange::kStop;
    return u;
  }
  if (to == BatchTaskState::kNew &&
      (from == BatchTaskState::kSucceeded || from == BatchTaskState::kFailed)) {
    if (!current.task.enabled)
      return Fail(ErrorCode::kFailedPrecondition,
                  task + " is disabled and cannot be run again; enable it first", state_field);
    u.run_change = BatchTaskUpdate::RunChange::kRunAgain;
    return u;
  }
  return Fail(ErrorCode::kInvalidArgument,
              task + " cannot change from State " + std::string(StateName(from)) + " to " +
                  std::string(StateName(to)) +
                  "; a caller may set Failed on a New, Aquired or Started task (stops its run) "
                  "or New on a Succeeded or Failed task (runs it again)",
              state_field);
}

TaskView Updated(TaskView v, const BatchTaskUpdate& u, const Uuid& run_id) {
  v.task = ApplyBatchUpdate(std::move(v.task), u);
  switch (u.run_change) {
    case BatchTaskUpdate::RunChange::kNone:
      break;
    case BatchTaskUpdate::RunChange::kStop:
      if (v.last_run) {
        v.last_run->cancel_requested = true;
        v.last_run->state = RunState::kCancelled;
      }
      break;
    case BatchTaskUpdate::RunChange::kRunAgain: {
      RunView run;
      run.id = run_id;
      run.state = RunState::kQueued;
      v.last_run = std::move(run);
      break;
    }
  }
  return v;
}

bool DeleteStopsUncancellableRun(const TaskView& view) {
  return !MayCancel(view) && view.last_run && !IsFinal(view.last_run->state);
}

nlohmann::json ErrorBody(const Error& error) {
  // Fields are paths as $select writes them ("BatchTaskInfo/Name"), not JSON pointers.
  std::string field = error.field;
  if (!field.empty() && field.front() == '/') field.erase(0, 1);
  return {{"Error", error.message},
          {"ErrorType", ErrorCodeName(error.code)},
          {"Field", field.empty() ? nlohmann::json() : nlohmann::json(field)}};
}

bool MayCancel(const TaskView& view) { return view.cancellation != "CannotCancel"; }

}  // namespace conveyor::superoffice

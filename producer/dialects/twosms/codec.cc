#include "dialects/twosms/codec.h"

#include <pugixml.hpp>

#include "conveyor/json_text.h"
#include "conveyor/scheduling.h"
#include "conveyor/time_format.h"
#include "dialects/twosms/xml.h"

namespace conveyor::twosms {
namespace {

Result<std::optional<Timestamp>> OptionalDate(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<Timestamp>();
  auto t = ParseDateTime(it->get<std::string>());
  if (!t) return Fail(ErrorCode::kInvalidArgument, t.error().message, name);
  return std::optional<Timestamp>(*t);
}

// An enum given as a number (JSON samples) or a name (XML samples).
template <typename E>
std::optional<E> EnumValue(const nlohmann::json& v, std::optional<E> (*from_number)(long long),
                           std::optional<E> (*from_name)(std::string_view)) {
  if (v.is_number_integer()) return from_number(v.get<long long>());
  if (v.is_string()) return from_name(v.get<std::string>());
  return std::nullopt;
}

Status CheckParameters(const std::string& parameters, const std::string& content_type) {
  if (content_type == "application/json") {
    auto parsed = ParseJson(parameters, "", "Parameters");
    if (!parsed && parsed.error().code == ErrorCode::kInvalidArgument)
      parsed.error().message += ", but ContentType says application/json";
    if (!parsed) return std::unexpected(parsed.error());
    return {};
  }
  pugi::xml_document doc;
  if (auto ok = xml::ParseWithinLimits(parameters, doc, "the document", "Parameters"); !ok) {
    Error e = ok.error();
    if (e.message.starts_with("the document is not well-formed XML"))
      e.message = "is not an XML document, but ContentType says application/xml (" +
                  e.message.substr(e.message.find('(') + 1);
    return std::unexpected(e);
  }
  return {};
}

// The scheduling extension's fields (the schema checked their types and ranges).
Result<TaskSchedule> ScheduleFields(const nlohmann::json& body) {
  TaskSchedule s;
  auto text = [&](const char* name) -> std::optional<std::string> {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return std::nullopt;
    return it->get<std::string>();
  };
  if (auto v = text("Recurrence")) s.recurrence = *v;
  if (auto v = text("TimeZone")) s.time_zone = *v;
  if (auto v = text("CatchUp")) s.catch_up = CatchUpFromName(*v).value_or(s.catch_up);
  if (auto v = text("Overlap")) s.overlap = OverlapFromName(*v).value_or(s.overlap);
  if (auto it = body.find("CatchUpLimit"); it != body.end() && !it->is_null())
    s.catch_up_limit = it->get<int>();
  return s;
}

// Whether the schedule the request describes has a due time (schedule.h names the field
// and the problem).
Status CheckSchedule(const AccountTaskRequest& r, Timestamp now) {
  Task t;
  t.frequency = r.frequency;
  t.start_date = r.start_date;
  t.finish_date = r.finish_date;
  t.schedule = r.schedule;
  if (!RunsOnSchedule(t, now)) return {};  // runs once, at once: nothing to check
  AnchorSchedule(t, now);
  auto schedule = ScheduleOf(t, now);
  if (!schedule) return std::unexpected(schedule.error());
  return {};
}

// The schema's words for a field replaced by the dialect's: what the field must be.
Error ExplainSchemaError(Error e) {
  // "/TaskID" -> "TaskID": the TwoSms dialect names fields plainly.
  if (!e.field.empty() && e.field.front() == '/') e.field.erase(0, 1);
  if (e.message.starts_with("Missing required property"))
    return MakeError(ErrorCode::kInvalidArgument, "is required",
                     e.message.substr(e.message.find('\'') + 1,
                                      e.message.rfind('\'') - e.message.find('\'') - 1));
  static const std::pair<std::string_view, std::string_view> kMeaning[] = {
      {"TaskID", "is not a GUID"},
      {"Frequency",
       "is not a Frequency: NONE (0), HOURLY (1), DAILY (2), WEEKLY (3) or MONTHLY (4)"},
      {"Recurrence", "must be an RFC 5545 recurrence rule of at most 512 characters, or null"},
      {"TimeZone", "must be an IANA time zone name such as Europe/Oslo, or null (UTC)"},
      {"CatchUp", "is not a CatchUp: ONE or ALL"},
      {"CatchUpLimit",
       "must be a whole number from 1 to 100: at most that many missed due times fire"},
      {"Overlap", "is not an Overlap: SKIP or BUFFER_ONE"},
      {"Notification",
       "is not a TaskNotification: NONE (0), SUCCESS (1), FAILURE (2), COMPLETION (3), "
       "PROGRESS (4), a sum of them up to 7, or names joined by commas"},
      {"Enabled", "is not a boolean (true or false)"},
      {"ContentType", "must be application/json or application/xml"},
      {"StartDate", "must be an ISO 8601 date-time of at most 64 characters, or null"},
      {"FinishDate", "must be an ISO 8601 date-time of at most 64 characters, or null"},
      {"Parameters", "must be a string (the parameters document as text)"},
  };
  for (const auto& [field, meaning] : kMeaning)
    if (e.field == field) e.message = meaning;
  return e;
}

Status CheckBodySize(std::string_view text) {
  if (text.size() > kMaxBodyBytes)
    return Fail(ErrorCode::kTooLarge, "the request body is " + std::to_string(text.size()) +
                                          " bytes; the limit is " + std::to_string(kMaxBodyBytes) +
                                          " bytes");
  return {};
}

// A JSON request body: an object, within the depth limit.
Result<nlohmann::json> ParseJsonBody(std::string_view text) {
  auto body = ParseJson(text, "the request body");
  if (!body) return body;
  if (!body->is_object())
    return Fail(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  return body;
}

// An error of the bulk envelope (the Tasks list itself) in the dialect's words.
Error ExplainBulkError(Error e, const nlohmann::json& body) {
  e = ExplainSchemaError(std::move(e));
  if (e.field != "Tasks") return e;
  auto tasks = body.find("Tasks");
  if (tasks == body.end()) return e;  // "is required"
  if (!tasks->is_array())
    e.message = "must be a list of AccountTaskRequest objects";
  else if (tasks->empty())
    e.message = "is empty; a bulk create needs at least one task";
  else if (tasks->size() > kMaxBulkTasks)
    e.message = "holds " + std::to_string(tasks->size()) + " tasks; the limit is " +
                std::to_string(kMaxBulkTasks) + " tasks per request";
  return e;
}

}  // namespace

Error InTask(std::size_t index, Error e) {
  std::string where = "Tasks[" + std::to_string(index) + "]";
  e.field = e.field.empty() ? where : where + "." + e.field;
  return e;
}

Result<RequestDecoder> RequestDecoder::Create() {
  auto create = JsonSchema::Embedded("requests/twosms.account-task-create.json");
  if (!create) return std::unexpected(create.error());
  auto update = JsonSchema::Embedded("requests/twosms.account-task-update.json");
  if (!update) return std::unexpected(update.error());
  // The bulk schema's items refer to the create schema; they are checked with create_schema_
  // one by one, so the envelope is compiled without them.
  constexpr char kBulk[] = "requests/twosms.account-task-bulk.json";
  auto bulk = nlohmann::json::parse(EmbeddedSchema(kBulk), nullptr, false);
  auto items = nlohmann::json::json_pointer("/properties/Tasks/items");
  if (!bulk.is_object() || !bulk.contains(items) ||
      bulk[items] != nlohmann::json{{"$ref", "twosms.account-task-create.json"}})
    return Fail(ErrorCode::kInternal, std::string(kBulk) +
                                          " is missing, or its Tasks items are not "
                                          "{\"$ref\": \"twosms.account-task-create.json\"}");
  bulk["properties"]["Tasks"].erase("items");
  auto envelope = JsonSchema::Compile(bulk.dump());
  if (!envelope)
    return Fail(ErrorCode::kInternal, std::string(kBulk) + ": " + envelope.error().message);
  return RequestDecoder(std::move(*create), std::move(*update), std::move(*envelope));
}

Result<AccountTaskRequest> RequestDecoder::DecodeCreate(std::string_view text, Timestamp now,
                                                        BodyFormat format) const {
  return Decode(text, now, format, create_schema_, "AccountTaskRequest", nullptr);
}

Result<AccountTaskUpdateRequest> RequestDecoder::DecodeUpdate(std::string_view text, Timestamp now,
                                                              BodyFormat format) const {
  nlohmann::json document;
  auto fields = Decode(text, now, format, update_schema_, "AccountTaskUpdateRequest", &document);
  if (!fields) return std::unexpected(fields.error());
  AccountTaskUpdateRequest r;
  r.fields = std::move(*fields);
  if (auto it = document.find("Enabled"); it != document.end() && it->is_boolean())
    r.enabled = it->get<bool>();
  return r;
}

Result<std::vector<AccountTaskRequest>> RequestDecoder::DecodeBulkCreate(std::string_view text,
                                                                         Timestamp now,
                                                                         BodyFormat format) const {
  if (auto ok = CheckBodySize(text); !ok) return std::unexpected(ok.error());
  auto body = format == BodyFormat::kXml ? xml::BulkRequestToJson(text, "AccountTaskBulkRequest",
                                                                  "Tasks", "AccountTaskRequest")
                                         : ParseJsonBody(text);
  if (!body) return std::unexpected(body.error());
  if (auto valid = bulk_schema_.Validate(*body); !valid)
    return std::unexpected(ExplainBulkError(valid.error(), *body));
  const auto& tasks = (*body)["Tasks"];
  std::vector<AccountTaskRequest> out;
  out.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    auto r = tasks[i].is_object()
                 ? FromDocument(tasks[i], now, create_schema_)
                 : Fail(ErrorCode::kInvalidArgument, "must be an AccountTaskRequest object");
    if (!r) return std::unexpected(InTask(i, r.error()));
    out.push_back(std::move(*r));
  }
  return out;
}

Result<AccountTaskRequest> RequestDecoder::Decode(std::string_view text, Timestamp now,
                                                  BodyFormat format, const JsonSchema& schema,
                                                  std::string_view xml_root,
                                                  nlohmann::json* document) const {
  if (auto ok = CheckBodySize(text); !ok) return std::unexpected(ok.error());
  auto body = format == BodyFormat::kXml ? xml::RequestToJson(text, xml_root) : ParseJsonBody(text);
  if (!body) return std::unexpected(body.error());
  auto r = FromDocument(*body, now, schema);
  if (r && document) *document = std::move(*body);
  return r;
}

Result<AccountTaskRequest> RequestDecoder::FromDocument(const nlohmann::json& body, Timestamp now,
                                                        const JsonSchema& schema) const {
  if (auto it = body.find("Parameters");
      it != body.end() && it->is_string() &&
      it->get_ref<const std::string&>().size() > kMaxParametersBytes)
    return Fail(ErrorCode::kTooLarge,
                "is " + std::to_string(it->get_ref<const std::string&>().size()) +
                    " bytes; the limit is " + std::to_string(kMaxParametersBytes) + " bytes",
                "Parameters");
  if (auto valid = schema.Validate(body); !valid)
    return std::unexpected(ExplainSchemaError(valid.error()));

  AccountTaskRequest r;
  auto type = Uuid::Parse(body["TaskID"].get<std::string>());
  if (!type) return Fail(ErrorCode::kInvalidArgument, "is not a GUID", "TaskID");
  r.task_type_id = *type;
  if (auto it = body.find("ClientID"); it != body.end() && !it->is_null()) {
    auto client = Uuid::Parse(it->get<std::string>());
    if (!client) return Fail(ErrorCode::kInvalidArgument, "is not a GUID", "ClientID");
    r.client_id = *client;
  }
  auto frequency = EnumValue<Frequency>(body["Frequency"], FrequencyFromNumber, FrequencyFromName);
  if (!frequency)
    return Fail(ErrorCode::kInvalidArgument,
                "is not a Frequency: NONE (0) is the only one until Conveyor's scheduler exists",
                "Frequency");
  r.frequency = *frequency;
  if (auto it = body.find("Notification"); it != body.end() && !it->is_null()) {
    auto n = EnumValue<TaskNotification>(*it, NotificationFromNumber, NotificationFromName);
    if (!n) return Fail(ErrorCode::kInvalidArgument, "is not a TaskNotification", "Notification");
    r.notification = *n;
  }
  auto start = OptionalDate(body, "StartDate");
  if (!start) return std::unexpected(start.error());
  r.start_date = *start;
  auto finish = OptionalDate(body, "FinishDate");
  if (!finish) return std::unexpected(finish.error());
  r.finish_date = *finish;
  if (r.start_date && r.finish_date && *r.finish_date < *r.start_date)
    return Fail(ErrorCode::kInvalidArgument, "is before StartDate", "FinishDate");
  auto schedule = ScheduleFields(body);
  if (!schedule) return std::unexpected(schedule.error());
  r.schedule = std::move(*schedule);
  if (auto ok = CheckSchedule(r, now); !ok) return std::unexpected(ok.error());
  r.parameters = body["Parameters"].get<std::string>();
  r.content_type = body["ContentType"].get<std::string>();
  if (auto ok = CheckParameters(r.parameters, r.content_type); !ok)
    return std::unexpected(ok.error());
  return r;
}

std::string StatusOf(const std::optional<RunView>& run) {
  if (!run) return "Idle";
  switch (run->state) {
    case RunState::kQueued:
      return "Queued";
    case RunState::kAcquired:
    case RunState::kStarted:
      return "Running";
    case RunState::kRetryWait:
      return "Retrying";
    case RunState::kSucceeded:
      return "Succeeded";
    case RunState::kFailed:
      return "Failed";
    case RunState::kCancelled:
      return "Cancelled";
    case RunState::kSkipped:
      return "Skipped";
  }
  return "Idle";
}

nlohmann::ordered_json RunDetail(const RunView& r) {
  using nlohmann::ordered_json;
  auto date = [](const std::optional<Timestamp>& t) -> ordered_json {
    if (!t) return nullptr;
    return FormatDotNet(*t);
  };
  return ordered_json{{"RunID", r.id.ToString()},
                      {"Status", StatusOf(std::optional<RunView>(r))},
                      {"DueOn", date(r.due_at)},
                      {"QueuedOn", FormatDotNet(r.queued_at)},
                      {"StartedOn", date(r.started_at)},
                      {"FinishedOn", date(r.finished_at)},
                      {"StartCount", r.start_count},
                      {"Attempt", r.attempt},
                      {"RunBy", r.worker.empty() ? ordered_json() : ordered_json(r.worker)},
                      {"Result", r.result}};
}

std::string StatusOf(const TaskView& v) {
  if (!v.last_run && v.next_run_at) return "Scheduled";
  return StatusOf(v.last_run);
}

nlohmann::ordered_json Detail(const TaskView& v, std::string_view status) {
  using nlohmann::ordered_json;
  auto date = [](const std::optional<Timestamp>& t) -> ordered_json {
    if (!t) return nullptr;
    return FormatDotNet(*t);
  };
  const Task& t = v.task;
  ordered_json last_run_on = nullptr, last_run_by = nullptr;
  if (v.last_run && v.last_run->started_at) {
    last_run_on = FormatDotNet(*v.last_run->started_at);
    last_run_by = v.last_run->worker;
  }
  return ordered_json{
      {"ID", t.id.ToString()},
      {"TaskID", t.task_type_id.ToString()},
      {"Name", v.type_name},
      {"Enabled", t.enabled},
      {"Frequency", FrequencyName(t.frequency)},
      {"StartDate", date(t.start_date)},
      {"FinishDate", date(t.finish_date)},
      {"Parameters", t.parameters},
      {"ContentType", t.content_type},
      {"Notification", NotificationName(t.notification)},
      {"DateCreated", FormatDotNet(t.created_at)},
      {"DateModified", FormatDotNet(v.modified_at)},
      {"LastRunOn", last_run_on},
      {"LastRunBy", last_run_by},
      {"LastModifiedBy", v.modified_by.empty() ? ordered_json() : ordered_json(v.modified_by)},
      {"Status", status},
      {"ClientID", t.client_id ? ordered_json(t.client_id->ToString()) : ordered_json()},
      // Conveyor's scheduling extension (docs/scheduling.md).
      {"NextRunOn", date(v.next_run_at)},
      {"Recurrence",
       t.schedule.recurrence.empty() ? ordered_json() : ordered_json(t.schedule.recurrence)},
      {"TimeZone", t.schedule.time_zone},
      {"CatchUp", CatchUpName(t.schedule.catch_up)},
      {"CatchUpLimit", t.schedule.catch_up_limit},
      {"Overlap", OverlapName(t.schedule.overlap)},
  };
}

nlohmann::ordered_json SuccessEnvelope(nlohmann::ordered_json detail,
                                       const std::optional<std::string>& user_id) {
  using nlohmann::ordered_json;
  return ordered_json{
      {"Error", nullptr},
      {"ResponseData",
       {
           {"Identification", {{"UserId", user_id ? ordered_json(*user_id) : ordered_json()}}},
           {"Result", "Success"},
           {"Detail", std::move(detail)},
       }},
  };
}

nlohmann::ordered_json ListEnvelope(nlohmann::ordered_json details, const Paging& paging,
                                    const std::optional<std::string>& user_id) {
  auto envelope = SuccessEnvelope(std::move(details), user_id);
  std::int64_t pages = (paging.total_count + paging.page_size - 1) / paging.page_size;
  envelope["ResponseData"]["Paging"] = {{"Page", paging.page},
                                        {"PageSize", paging.page_size},
                                        {"TotalCount", paging.total_count},
                                        {"TotalPages", pages}};
  return envelope;
}

namespace {
std::string_view TwoSmsErrorCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidRequest";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kFailedPrecondition:
      return "InvalidState";
    case ErrorCode::kTooLarge:
      return "RequestTooLarge";
    case ErrorCode::kUnavailable:
      return "ServiceUnavailable";
    case ErrorCode::kInternal:
      return "InternalError";
    case ErrorCode::kUnauthenticated:
      return "Unauthorized";
    case ErrorCode::kPermissionDenied:
      return "Forbidden";
    case ErrorCode::kRateLimited:
      return "TooManyRequests";
  }
  return "InternalError";
}
}  // namespace

nlohmann::ordered_json ErrorEnvelope(const Error& error, std::string_view code) {
  return nlohmann::ordered_json{
      {"Error",
       {{"ErrorCode", code.empty() ? TwoSmsErrorCode(error.code) : code},
        {"ErrorReason", error.Describe()}}},
      {"ResponseData", nullptr},
  };
}

Task DraftOf(const AccountTaskRequest& request) {
  Task draft;
  draft.task_type_id = request.task_type_id;
  draft.client_id = request.client_id;
  draft.enabled = true;
  draft.frequency = request.frequency;
  draft.start_date = request.start_date;
  draft.finish_date = request.finish_date;
  draft.parameters = request.parameters;
  draft.content_type = request.content_type;
  draft.notification = request.notification;
  draft.schedule = request.schedule;
  return draft;
}

TaskUpdate UpdateOf(const AccountTaskUpdateRequest& request) {
  const auto& f = request.fields;
  TaskUpdate u;
  u.task_type_id = f.task_type_id;
  u.enabled = request.enabled;
  u.frequency = f.frequency;
  u.start_date = f.start_date;
  u.finish_date = f.finish_date;
  u.parameters = f.parameters;
  u.content_type = f.content_type;
  u.notification = f.notification;
  u.schedule = f.schedule;
  return u;
}

}  // namespace conveyor::twosms

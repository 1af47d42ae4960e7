#include "twosms.h"

#include <pugixml.hpp>

#include "conveyor/time_format.h"

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
    auto parsed = nlohmann::json::parse(parameters, nullptr, false);
    if (parsed.is_discarded())
      return Fail(ErrorCode::kInvalidArgument,
                  "is not a JSON document, but ContentType says application/json", "Parameters");
    return {};
  }
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(parameters.data(), parameters.size(), pugi::parse_default);
  if (!parsed)
    return Fail(ErrorCode::kInvalidArgument,
                std::string("is not an XML document, but ContentType says application/xml (") +
                    parsed.description() + " at offset " + std::to_string(parsed.offset) + ")",
                "Parameters");
  return {};
}

}  // namespace

Result<RequestDecoder> RequestDecoder::Create() {
  auto schema = JsonSchema::Embedded("requests/twosms.account-task-create.json");
  if (!schema) return std::unexpected(schema.error());
  return RequestDecoder(std::move(*schema));
}

Result<AccountTaskRequest> RequestDecoder::DecodeCreate(std::string_view text,
                                                        Timestamp now) const {
  if (text.size() > kMaxBodyBytes)
    return Fail(ErrorCode::kTooLarge, "the request body is " + std::to_string(text.size()) +
                                          " bytes; the limit is " + std::to_string(kMaxBodyBytes) +
                                          " bytes");
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded())
    return Fail(ErrorCode::kInvalidArgument, "the request body is not a JSON document");
  if (!body.is_object())
    return Fail(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  if (auto it = body.find("Parameters");
      it != body.end() && it->is_string() &&
      it->get_ref<const std::string&>().size() > kMaxParametersBytes)
    return Fail(ErrorCode::kTooLarge,
                "is " + std::to_string(it->get_ref<const std::string&>().size()) +
                    " bytes; the limit is " + std::to_string(kMaxParametersBytes) + " bytes",
                "Parameters");
  if (auto valid = schema_.Validate(body); !valid) {
    Error e = valid.error();
    // "/TaskID" -> "TaskID": the TwoSms dialect names fields plainly.
    if (!e.field.empty() && e.field.front() == '/') e.field.erase(0, 1);
    if (e.message.starts_with("Missing required property"))
      e = MakeError(ErrorCode::kInvalidArgument, "is required",
                    e.message.substr(e.message.find('\'') + 1,
                                     e.message.rfind('\'') - e.message.find('\'') - 1));
    return std::unexpected(e);
  }

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
  if (!frequency) return Fail(ErrorCode::kInvalidArgument, "is not a Frequency", "Frequency");
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
  if (r.start_date && *r.start_date > now + std::chrono::minutes(1))
    return Fail(ErrorCode::kInvalidArgument,
                "is in the future; Conveyor runs a Frequency NONE task as soon as it is "
                "accepted and does not schedule later starts yet",
                "StartDate");
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
  }
  return "Idle";
}

nlohmann::json Detail(const TaskView& v, std::string_view status) {
  auto date = [](const std::optional<Timestamp>& t) -> nlohmann::json {
    if (!t) return nullptr;
    return FormatDotNet(*t);
  };
  const Task& t = v.task;
  nlohmann::json last_run_on = nullptr, last_run_by = nullptr;
  if (v.last_run && v.last_run->started_at) {
    last_run_on = FormatDotNet(*v.last_run->started_at);
    last_run_by = v.last_run->worker;
  }
  return {
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
      {"LastModifiedBy", v.modified_by.empty() ? nlohmann::json() : nlohmann::json(v.modified_by)},
      {"Status", status},
      {"ClientID", t.client_id ? nlohmann::json(t.client_id->ToString()) : nlohmann::json()},
  };
}

nlohmann::json SuccessEnvelope(nlohmann::json detail, const std::optional<std::string>& user_id) {
  return {
      {"Error", nullptr},
      {"ResponseData",
       {
           {"Identification", {{"UserId", user_id ? nlohmann::json(*user_id) : nlohmann::json()}}},
           {"Result", "Success"},
           {"Detail", std::move(detail)},
       }},
  };
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
  }
  return "InternalError";
}
}  // namespace

nlohmann::json ErrorEnvelope(const Error& error) {
  return {
      {"Error", {{"ErrorCode", TwoSmsErrorCode(error.code)}, {"ErrorReason", error.Describe()}}},
      {"ResponseData", nullptr},
  };
}

int HttpStatus(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
  }
  return 500;
}

}  // namespace conveyor::twosms

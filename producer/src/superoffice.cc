#include "superoffice.h"

#include "conveyor/time_format.h"

namespace conveyor::superoffice {

std::string_view StateName(const std::optional<RunView>& run) {
  if (!run) return "Unknown";
  switch (run->state) {
    case RunState::kQueued:
    case RunState::kRetryWait:
      return "New";
    case RunState::kAcquired:
      return "Aquired";
    case RunState::kStarted:
      return "Started";
    case RunState::kSucceeded:
      return "Succeeded";
    case RunState::kFailed:
    case RunState::kCancelled:
      return "Failed";
  }
  return "Unknown";
}

nlohmann::json BatchTaskInfo(const TaskView& v) {
  auto date = [](const std::optional<Timestamp>& t) -> nlohmann::json {
    if (!t) return nullptr;
    return FormatRfc3339(*t);
  };
  const auto& run = v.last_run;
  nlohmann::json parameters = nlohmann::json::object();
  parameters["Parameters"] = v.task.parameters;
  parameters["ContentType"] = v.task.content_type;
  bool system = !v.task.client_id.has_value();
  return {
      {"Id", v.task.number},
      {"Name", v.type_name},
      {"AssociateId", 0},  // Conveyor has no associates: every task is a system task
      {"DetailsTable", 0},
      {"DetailsRecord", 0},
      {"IsSystemTask", system},
      {"IsInternalTask", false},
      {"ParameterObject", parameters},
      {"LastStarted", run ? date(run->started_at) : nullptr},
      {"Created", FormatRfc3339(v.task.created_at)},
      {"StartCount", run ? run->start_count : 0},
      {"DatabaseSerialNumber", ""},
      {"Context", v.task.id.ToString()},
      {"Result", run ? run->result : ""},
      {"State", StateName(run)},
      {"Description", ""},
      {"Response", run ? run->result : ""},
      {"Request", v.task.parameters},
      {"ProgressDescription", run ? run->progress_description : ""},
      {"ProgressPercent", run ? run->progress_percent : 0},
      {"FileName", run && run->file_name ? nlohmann::json(*run->file_name) : nullptr},
      {"CancellationBehaviour", v.cancellation},
  };
}

Result<std::int64_t> DecodeId(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Fail(ErrorCode::kInvalidArgument, "the body is not a JSON object");
  if (!j.contains("Id")) return Fail(ErrorCode::kInvalidArgument, "Id is required", "Id");
  if (!j["Id"].is_number_integer())
    return Fail(ErrorCode::kInvalidArgument, "Id must be an integer", "Id");
  return j["Id"].get<std::int64_t>();
}

nlohmann::json ErrorBody(const Error& error) {
  return {{"Error", error.message},
          {"ErrorType", ErrorCodeName(error.code)},
          {"Field", error.field.empty() ? nlohmann::json() : nlohmann::json(error.field)}};
}

bool MayCancel(const TaskView& view) { return view.cancellation != "CannotCancel"; }

}  // namespace conveyor::superoffice

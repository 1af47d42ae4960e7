// The TwoSms dialect: AccountTaskRequest in, the Error/ResponseData envelope out.
//
// DecodeAccountTaskRequest checks a JSON body against schemas/requests/
// twosms.account-task-create.json, then what a schema cannot say: TaskID is a GUID, dates
// parse, FinishDate is not before StartDate, Parameters parse as ContentType. Every failure
// names the field. The encoders write the shapes of the seed samples field for field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "conveyor/clock.h"
#include "conveyor/json_schema.h"
#include "conveyor/result.h"
#include "conveyor/task.h"
#include "conveyor/task_view.h"

namespace conveyor::twosms {

// Bodies larger than this are refused before parsing (413, naming the limit).
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;
// Parameters longer than this are refused (the schema says the same).
inline constexpr std::size_t kMaxParametersBytes = 65536;

struct AccountTaskRequest {
  Uuid task_type_id;  // TaskID
  Frequency frequency = Frequency::kNone;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> finish_date;
  std::string parameters;
  std::string content_type;
  TaskNotification notification = TaskNotification::kNone;
  // ClientID, a Conveyor extension: the client an admin key creates the task for. A client
  // caller leaves it out (its tasks are its own).
  std::optional<Uuid> client_id;
};

class RequestDecoder {
 public:
  // Compiles the embedded schema; kInternal if it is broken (a build defect).
  static Result<RequestDecoder> Create();

  // `now` bounds StartDate: a future StartDate needs the scheduler, which is not built yet.
  Result<AccountTaskRequest> DecodeCreate(std::string_view body, Timestamp now) const;

 private:
  explicit RequestDecoder(JsonSchema schema) : schema_(std::move(schema)) {}
  JsonSchema schema_;
};

// What Status says of a task: Accepted (event published, not yet applied), Queued, Running,
// Succeeded, Failed, Cancelled, Retrying, or Idle (no run).
std::string StatusOf(const std::optional<RunView>& run);

// The Detail object of ResponseOfAccountTaskResponse.
nlohmann::json Detail(const TaskView& view, std::string_view status);

// {"Error": null, "ResponseData": {"Identification": {"UserId": ...}, "Result": "Success",
//  "Detail": ...}}
nlohmann::json SuccessEnvelope(nlohmann::json detail, const std::optional<std::string>& user_id);

// {"Error": {"ErrorCode": ..., "ErrorReason": ...}, "ResponseData": null}
nlohmann::json ErrorEnvelope(const Error& error);
// The HTTP status that goes with an error.
int HttpStatus(const Error& error);

}  // namespace conveyor::twosms

// The TwoSms dialect: AccountTaskRequest / AccountTaskUpdateRequest in, the Error/ResponseData
// envelope out.
//
// RequestDecoder turns a body (JSON, or XML mapped onto the same JSON document by xml.h) into
// a request: it checks the document against schemas/requests/
// twosms.account-task-create.json (or -update.json), then what a schema cannot say: TaskID is a
// GUID, dates parse, FinishDate is not before StartDate, Parameters parse as ContentType. Every
// failure names the field; every limit crossed is named. The encoders write the shapes of the
// seed samples field for field, keys in the seed's order (ordered_json), for JSON and XML.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
// A bulk create holds at most this many tasks (schemas/requests/twosms.account-task-bulk.json
// says the same: maxItems).
inline constexpr std::size_t kMaxBulkTasks = 1000;

// The form of a request or response body (chosen by Content-Type and Accept).
enum class BodyFormat { kJson, kXml };

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
  // Conveyor's scheduling extension (docs/scheduling.md): Recurrence, TimeZone, CatchUp,
  // CatchUpLimit and Overlap; absent fields take their defaults.
  TaskSchedule schedule;
};

// PUT api/v1/admin/tasks/account/{id}: the create fields plus Enabled (absent: unchanged).
struct AccountTaskUpdateRequest {
  AccountTaskRequest fields;
  std::optional<bool> enabled;
};

// The task a create request describes, as TaskCommandService::Create takes it (enabled).
Task DraftOf(const AccountTaskRequest& request);
// The change a PUT describes, as TaskCommandService::UpdateTask takes it: every field
// replaced, Enabled only when given.
TaskUpdate UpdateOf(const AccountTaskUpdateRequest& request);

class RequestDecoder {
 public:
  // Compiles the embedded schemas; kInternal if one is broken (a build defect).
  static Result<RequestDecoder> Create();

  // The schedule the fields describe is checked as of `now` (schedule.h: time zone,
  // recurrence rule, a due time before FinishDate).
  Result<AccountTaskRequest> DecodeCreate(std::string_view body, Timestamp now,
                                          BodyFormat format = BodyFormat::kJson) const;
  Result<AccountTaskUpdateRequest> DecodeUpdate(std::string_view body, Timestamp now,
                                                BodyFormat format = BodyFormat::kJson) const;
  // The bulk create (POST api/v2/admin/tasks/account/bulk): {"Tasks": [AccountTaskRequest,
  // ...]}, or in XML <AccountTaskBulkRequest><Tasks><AccountTaskRequest>... (xml.h).
  // Checked against schemas/requests/twosms.account-task-bulk.json: 1 to kMaxBulkTasks tasks
  // (an empty list or one over the limit is kInvalidArgument naming Tasks and the limit), each
  // decoded and checked as DecodeCreate does, in order; the first bad one fails the whole
  // request with its field named by its index ("Tasks[3].Frequency").
  Result<std::vector<AccountTaskRequest>> DecodeBulkCreate(
      std::string_view body, Timestamp now, BodyFormat format = BodyFormat::kJson) const;

 private:
  RequestDecoder(JsonSchema create, JsonSchema update, JsonSchema bulk)
      : create_schema_(std::move(create)),
        update_schema_(std::move(update)),
        bulk_schema_(std::move(bulk)) {}
  Result<AccountTaskRequest> Decode(std::string_view text, Timestamp now, BodyFormat format,
                                    const JsonSchema& schema, std::string_view xml_root,
                                    nlohmann::json* document) const;
  // A request already parsed into its JSON document (XML mapped), checked against `schema`.
  Result<AccountTaskRequest> FromDocument(const nlohmann::json& body, Timestamp now,
                                          const JsonSchema& schema) const;
  JsonSchema create_schema_;
  JsonSchema update_schema_;
  // The bulk schema's envelope (Tasks: an array of 1 to kMaxBulkTasks); its items, which
  // refer to the create schema, are checked one by one with create_schema_ so that the first
  // bad one is named.
  JsonSchema bulk_schema_;
};

// `error` as the error of the task at `index` (0-based) of a bulk create: its field becomes
// "Tasks[index].<field>" ("Tasks[index]" when it named none).
Error InTask(std::size_t index, Error error);

// What Status says of a task: Accepted (event published, not yet applied), Queued, Running,
// Succeeded, Failed, Cancelled, Retrying, or Idle (no run).
std::string StatusOf(const std::optional<RunView>& run);
// One run as the runs list (GET .../{id}/runs) shows it: RunID, Status (StatusOf), DueOn,
// QueuedOn, StartedOn, FinishedOn, StartCount, Attempt, RunBy, Result.
nlohmann::ordered_json RunDetail(const RunView& run);

// The task's Status: its latest run's, or "Scheduled" for a task waiting for its first due
// time.
std::string StatusOf(const TaskView& view);

// The Detail object of ResponseOfAccountTaskResponse, keys in the seed's order.
nlohmann::ordered_json Detail(const TaskView& view, std::string_view status);

// {"Error": null, "ResponseData": {"Identification": {"UserId": ...}, "Result": "Success",
//  "Detail": ...}}
nlohmann::ordered_json SuccessEnvelope(nlohmann::ordered_json detail,
                                       const std::optional<std::string>& user_id);

// Where a list answer stands: page numbers count from 1.
struct Paging {
  std::int64_t page = 1;
  int page_size = 50;
  std::int64_t total_count = 0;
};

// The list answer (GET api/v2/admin/tasks/account): SuccessEnvelope with Detail an array of
// Detail objects, then "Paging": {"Page", "PageSize", "TotalCount", "TotalPages"}.
nlohmann::ordered_json ListEnvelope(nlohmann::ordered_json details, const Paging& paging,
                                    const std::optional<std::string>& user_id);

// {"Error": {"ErrorCode": ..., "ErrorReason": ...}, "ResponseData": null}. `code` overrides
// the ErrorCode derived from error.code (e.g. "UnsupportedMediaType"). It goes with the
// status http::StatusOf(error.code).
nlohmann::ordered_json ErrorEnvelope(const Error& error, std::string_view code = {});

}  // namespace conveyor::twosms

// The SuperOffice batch-task dialect (seed-apis.md §2, docs/superoffice.md): BatchTaskInfo,
// BatchTaskState and its mapping onto run states, the agent request bodies and the agent's
// error shape. A BatchTaskInfo is a Conveyor task with its latest run; its Id is the task's
// integer number and its Name the task type's catalogue name.
//
// Everything here is a pure function or an immutable value (AgentRequests after Create) and
// is safe to use from any thread. The HTTP routes are in superoffice_routes.h.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "conveyor/json_schema.h"
#include "conveyor/result.h"
#include "conveyor/task_view.h"
#include "superoffice_format.h"

namespace conveyor::superoffice {

// A request body larger than this is refused (400, naming the limit).
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;
// A list answer holds at most this many BatchTaskInfos; a query that matches more is refused
// (400, naming the limit) rather than answered with a silently shortened list.
inline constexpr std::size_t kMaxListedTasks = 1000;
// StartBatchJob: the ParameterObject, written as JSON, may be at most this long.
inline constexpr std::size_t kMaxParameterObjectBytes = 65536;

// BatchTaskState, numbered and spelled as the API has it ("Aquired", sic).
enum class BatchTaskState : int {
  kUnknown = 0,
  kNew = 1,
  kAquired = 2,
  kStarted = 3,
  kSucceeded = 4,
  kFailed = 5,
  kSucceededManualCleanup = 6,
  kAll = 99999,  // a query wildcard, never a task's state
};

std::string_view StateName(BatchTaskState state);

// The state of a task with this latest run: no run = Unknown; queued or waiting for a retry =
// New; acquired = Aquired; started = Started; succeeded = Succeeded; failed or cancelled =
// Failed (the Result says it was cancelled). SucceededManualCleanup never occurs.
BatchTaskState StateOf(const std::optional<RunView>& run);
std::string_view StateName(const std::optional<RunView>& run);

// A BatchTaskState by name (any case) or number (99999, "4"). kInvalidArgument naming `field`
// and listing the valid names otherwise.
Result<BatchTaskState> ParseState(const nlohmann::json& value, const std::string& field);

// Narrows `filter` to the tasks whose latest run maps to `state` (All: no narrowing).
void RestrictToState(BatchTaskState state, TaskFilter& filter);

// The BatchTaskInfo of a task, its dates written in `zone`.
nlohmann::json BatchTaskInfo(const TaskView& view, const OutputTimeZone& zone);
inline nlohmann::json BatchTaskInfo(const TaskView& view) { return BatchTaskInfo(view, {}); }

// What StartBatchJob's BatchTaskInfo asks for. Only these fields are read; the others (Id,
// State, dates, progress, ...) are the server's to set and are ignored.
struct StartRequest {
  std::string name;  // the task type's catalogue name
  std::int32_t associate_id = 0;
  std::string description;
  std::string request;
  std::string parameters;  // ParameterObject as a JSON object text ("{}" when absent)
};

// The agent request bodies, each checked against its schema in schemas/requests/
// (superoffice.*.json) and then for what a schema cannot say. Every error names the field.
class AgentRequests {
 public:
  // Compiles the embedded schemas; kInternal if one is broken (a build defect).
  static Result<AgentRequests> Create();

  // {"Id": n}: GetBatchTaskInfo and StopBatchJob.
  Result<std::int64_t> DecodeId(std::string_view body) const;
  // The body of one of the Get…BatchTaskInfos… methods as a filter (the limit is
  // kMaxListedTasks). kNotFound when `method` is not one of them.
  Result<TaskFilter> DecodeListQuery(std::string_view method, std::string_view body) const;
  // {"BatchTaskInfo": {...}}: StartBatchJob; with `wrapped` false the body is the
  // BatchTaskInfo itself (REST POST /api/v1/BatchTask).
  Result<StartRequest> DecodeStart(std::string_view body, bool wrapped = true) const;

  // The names of the list methods DecodeListQuery knows.
  static std::vector<std::string_view> ListMethods();

 private:
  Result<nlohmann::json> Parse(const std::string& schema, std::string_view body) const;
  std::map<std::string, JsonSchema, std::less<>> schemas_;  // by file name
};

// The body of an agent error: {"Error": message, "ErrorType": code name, "Field": field}.
nlohmann::json ErrorBody(const Error& error);

// Whether StopBatchJob may stop a task of this type (CannotCancel may not).
bool MayCancel(const TaskView& view);

}  // namespace conveyor::superoffice

// The SuperOffice batch-task dialect (seed-apis.md §2, docs/superoffice.md): BatchTaskInfo,
// BatchTaskState and its mapping onto run states, the agent request bodies and the agent's
// error shape. A BatchTaskInfo is a Conveyor task with its latest run; its Id is the task's
// integer number and its Name the task type's catalogue name.
//
// Everything here is a pure function or an immutable value (AgentRequests after Create) and
// is safe to use from any thread. The routes are in routes.h (SuperOfficeDialect).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/json_schema.h"
#include "conveyor/result.h"
#include "conveyor/task_view.h"
#include "dialects/superoffice/format.h"

namespace conveyor::superoffice {

// A request body larger than this is refused (400, naming the limit).
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;
// A list answer holds at most this many BatchTaskInfos; a query that matches more is refused
// (400, naming the limit) rather than answered with a silently shortened list.
inline constexpr std::size_t kMaxListedTasks = 1000;
// StartBatchJob: the ParameterObject, written as JSON, may be at most this long.
inline constexpr std::size_t kMaxParameterObjectBytes = 65536;
// DeleteBatchTasks: at most this many BatchTaskIds in one request (400 naming the field).
inline constexpr std::size_t kMaxDeletedTasks = 1000;

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

// A page of GET /api/v1/BatchTask (Conveyor's additions, docs/superoffice.md, "Paging the
// REST list"): `$top` tasks after `$skip`, by Id (`$orderby=Id desc`: newest first), of those
// in `state` (any owner), of the type `name`, of the client `clientId` and whose Id is
// `search` (digits) or whose Description contains it.
struct RestPage {
  std::int64_t top = 0;
  std::int64_t skip = 0;
  bool newest_first = false;
  TaskFilter filter;              // state and name
  std::optional<Uuid> client_id;  // clientId
  std::optional<std::string> search;
};
inline constexpr std::int64_t kMaxPageTasks = 1000;

// The page the request's query asks for: std::nullopt without `$top` (the whole list, as
// SuperOffice answers it). kInvalidArgument naming the parameter that is not as above.
Result<std::optional<RestPage>> DecodeRestPage(
    const std::function<std::optional<std::string>(std::string_view)>& param);

// The query of `page` for a caller who sees `caller_client`'s tasks (std::nullopt: an admin
// key, every task), counting the total. A client that names another client gets nothing.
TaskQuery RestPageQuery(const RestPage& page, const std::optional<Uuid>& caller_client);

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

// What UpdateBatchTask's BatchTaskInfo (or the REST PUT body) asks for. Only State,
// Description, Response and Request can be changed; the other fields may be sent (a
// BatchTaskInfo read earlier) and are ignored, as SuperOffice ignores them. A field absent or
// null is unchanged.
struct UpdateRequest {
  std::optional<std::int64_t> id;  // BatchTaskInfo/Id (the agent requires it; REST: the path)
  std::optional<std::string> description;
  std::optional<std::string> request;
  std::optional<std::string> response;
  std::optional<BatchTaskState> state;
};

// The batch-update command that `request` makes of the task `current` (without task_id and
// requested_by). A State equal to the task's is no change; Failed on a New, Aquired or
// Started task stops its run (refused, kFailedPrecondition, when its CancellationBehaviour is
// CannotCancel); New on a Succeeded or Failed task runs it again (refused for a disabled
// task). Every other State is refused (kInvalidArgument). Errors name `state_field`.
Result<BatchTaskUpdate> PlanUpdate(const TaskView& current, const UpdateRequest& request,
                                   const std::string& state_field);

// `current` as `update` leaves it once a worker applied it: the fields set, a stop's run
// cancelled, a run-again's new run (id `run_id`) queued. UpdateBatchTask answers this.
TaskView Updated(TaskView current, const BatchTaskUpdate& update, const Uuid& run_id);

// Whether deleting the task would stop a run that cannot be stopped (CannotCancel).
bool DeleteStopsUncancellableRun(const TaskView& view);

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
  // {"BatchTaskInfo": {...}}: UpdateBatchTask (Id required); with `wrapped` false the body is
  // the BatchTaskInfo itself (REST PUT /api/v1/BatchTask/{id}, Id not required).
  Result<UpdateRequest> DecodeUpdate(std::string_view body, bool wrapped = true) const;
  // {"BatchTaskId": n}: DeleteBatchTask.
  Result<std::int64_t> DecodeDeleteOne(std::string_view body) const;
  // {"BatchTaskIds": [n, ...]}: DeleteBatchTasks; at most kMaxDeletedTasks, duplicates
  // dropped, in the order sent.
  Result<std::vector<std::int64_t>> DecodeDeleteMany(std::string_view body) const;

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

// The Oracle B2C Service (RightNow) Connect REST v1.4 `tasks` dialect (seed-apis.md §3,
// docs/oracle.md): the task resource as JSON, Conveyor's fixed namedID lists, the status
// derived from the run states, the request decoders, the collection query parameters
// (limit, offset, totalResults, orderBy, fields and a subset of ROQL in q), and the problem
// JSON that every error is answered with.
//
// Everything here is a pure function of its arguments (no I/O); routes.cc (OracleDialect)
// wires it to the routes, the catalogue, the command service and the reader.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/result.h"
#include "conveyor/task.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"

namespace conveyor::oracle {

inline constexpr char kApiPath[] = "/services/rest/connect/v1.4";

// Limits (docs/oracle.md): each rejection names its limit.
inline constexpr std::size_t kMaxNameLength = 240;     // characters
inline constexpr std::size_t kMaxNoteLength = 349525;  // characters, as Oracle's tasks-notes
inline constexpr std::size_t kMaxBodyBytes = 3 << 20;  // a note at its limit fits
inline constexpr std::size_t kMaxParametersBytes = 65536;
inline constexpr std::size_t kMaxQueryLength = 4000;  // the q parameter, in bytes
inline constexpr std::int64_t kDefaultLimit = 1000;
inline constexpr std::int64_t kMaxLimit = 20000;

// OSC-CREST error codes Conveyor answers with (seed-apis.md §3.5).
inline constexpr char kUnsupportedMethod[] = "OSC-CREST-00002";
inline constexpr char kUnsupportedVersion[] = "OSC-CREST-00003";
inline constexpr char kWriteFailed[] = "OSC-CREST-00006";
inline constexpr char kInvalidQueryParameter[] = "OSC-CREST-00007";
inline constexpr char kInternalError[] = "OSC-CREST-00008";
inline constexpr char kDeleteProblem[] = "OSC-CREST-00009";
inline constexpr char kNoPostData[] = "OSC-CREST-00010";
inline constexpr char kBadJson[] = "OSC-CREST-00011";
inline constexpr char kUnknownResource[] = "OSC-CREST-00013";
inline constexpr char kNotAuthorized[] = "OSC-CREST-00014";

// An error as Oracle shapes it: {"type", "title", "status", "detail", "instance",
// "o:errorCode"}.
struct Problem {
  int status = 400;
  std::string code = kWriteFailed;
  std::string detail;
};

// `base_url` is "http://host:port" (links and the type URI are absolute); `instance` is the
// request URI.
nlohmann::json ProblemBody(const Problem& p, std::string_view base_url, std::string_view instance);

// A Conveyor error in a write: field errors are 400 OSC-CREST-00006 with the field named in
// the detail; not found 404 00013; no or bad credentials 401 00014, a client on an admin-only
// path 403 00014; Kafka or PostgreSQL away 503 00008; a bug 500 00008.
Problem WriteProblem(const Error& e);

// --- namedIDs ---------------------------------------------------------------------------

struct NamedId {
  std::int64_t id = 0;
  std::string lookup_name;
};

// Conveyor's fixed lists (docs/oracle.md).
const std::vector<NamedId>& Priorities();   // 1 Low, 2 Normal, 3 High, 4 Critical
const std::vector<NamedId>& Statuses();     // statusWithType.status
const std::vector<NamedId>& StatusTypes();  // statusWithType.statusType
std::vector<NamedId> TaskTypeIds(const std::vector<TaskType>& catalogue);

// Resolves {"id": n} or {"lookupName": "x"} against `choices`. A lookupName matches exactly,
// else case-insensitively; several case-insensitive matches are ambiguous. kInvalidArgument
// naming `field` when the value is not such an object, carries both or neither, or names no
// choice (or several).
Result<NamedId> ResolveNamedId(const nlohmann::json& value, const std::vector<NamedId>& choices,
                               const std::string& field);

// --- status derivation --------------------------------------------------------------------

struct StatusWithType {
  NamedId status;
  NamedId type;
};

inline constexpr std::int64_t kStatusNotStarted = 16;
inline constexpr std::int64_t kStatusInProgress = 17;
inline constexpr std::int64_t kStatusWaiting = 18;
inline constexpr std::int64_t kStatusCompleted = 19;
inline constexpr std::int64_t kStatusDeferred = 20;
inline constexpr std::int64_t kStatusFailed = 21;
inline constexpr std::int64_t kStatusTypeNotComplete = 14;
inline constexpr std::int64_t kStatusTypeComplete = 15;

// No run, queued or acquired: Not Started; started: In Progress; retry_wait: Waiting;
// succeeded: Completed; cancelled: Deferred; failed: Failed.
StatusWithType DeriveStatus(const std::optional<RunView>& run);
// The run states (std::nullopt: no run) that DeriveStatus maps to status `status_id`.
std::vector<std::optional<RunState>> RunStatesOfStatus(std::int64_t status_id);

// --- the resource ---------------------------------------------------------------------------

// "2016-03-17T14:00:56.000Z".
std::string FormatTime(Timestamp t);

// The task as GET tasks/{id} shows it, every attribute of the seed's response present.
nlohmann::json TaskJson(const TaskView& view, std::string_view base_url);
nlohmann::json NoteJson(const TaskNote& note, std::int64_t task_number, std::string_view base_url);
// {"rel": "self" | "canonical", "href": ...} and {"rel": "describedby", ...}.
nlohmann::json ResourceLinks(std::string_view href, std::string_view described_by);

// The create body (schemas/requests/oracle.task-create.json, checked by the caller) as a task
// draft for TaskCommandService::CreateTask. `types` is the catalogue (taskType); without a
// taskType the task is of the built-in noop type. kInvalidArgument naming the field.
Result<Task> DecodeCreate(const nlohmann::json& body, const std::vector<TaskType>& types);

// What a PATCH body changes (schemas/requests/oracle.task-patch.json); each field is set
// only when the body has it.
struct TaskPatch {
  std::optional<std::string> name;
  std::optional<std::optional<int>> priority;  // inner std::nullopt: clear it
  std::optional<Uuid> task_type_id;
  std::optional<std::optional<Timestamp>> due_time;
  std::optional<std::optional<Timestamp>> planned_completion_time;
  std::optional<std::string> parameters;
  std::optional<std::int64_t> status;  // statusWithType.status asked for
  // Whether anything but the status changes (a conveyor.task.update is needed).
  bool ChangesFields() const;
};

// kInvalidArgument naming the field, as DecodeCreate; `name` may be absent, references
// (contact, ...) cannot be changed.
Result<TaskPatch> DecodePatch(const nlohmann::json& body, const std::vector<TaskType>& types);

// The conveyor.task.update that applies `patch` to `current`: every field the patch does not
// set (and every TwoSms field) keeps its current value.
TaskUpdate UpdateOf(const Task& current, const TaskPatch& patch);

// A status change asked for by PATCH. The status it has already: nothing to do. Deferred
// (20) on a task that is Not Started, In Progress or Waiting, whose type may be cancelled:
// *cancel = true. Anything else is kInvalidArgument naming statusWithType.status.
Status CheckStatusChange(const TaskView& view, std::int64_t status, bool* cancel);

// Whether DELETE may delete the task: not while the run of a CannotCancel type is live
// (409 OSC-CREST-00009, as TwoSms DELETE refuses it), since deleting cancels the run.
std::optional<Problem> DeleteProblem(const TaskView& view);

// The text of a note body {"text": ...}; kInvalidArgument / kTooLarge naming the field.
Result<std::string> DecodeNote(const nlohmann::json& body);

// --- collection query parameters ----------------------------------------------------------

// `fields`: the comma-separated attributes to keep, dotted paths allowed on single objects
// only. kInvalidArgument naming the unknown attribute.
Result<std::vector<std::string>> ParseFields(std::string_view fields, const nlohmann::json& sample,
                                             bool collection);
// Keeps only `fields` of `full` (and its links).
nlohmann::json Project(const nlohmann::json& full, const std::vector<std::string>& fields);

// `orderBy`: "field[:asc|:desc], ..." over id, name, lookupName, createdTime, updatedTime,
// dueTime, plannedCompletionTime, priority, taskType.
Result<std::vector<TaskOrder>> ParseOrderBy(std::string_view order_by);

// `q`: the supported subset of a ROQL where clause (docs/oracle.md), as conditions of
// `query`. kInvalidArgument naming what is not supported.
Status ParseQ(std::string_view q, TaskQuery* query);

}  // namespace conveyor::oracle

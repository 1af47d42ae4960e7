// The TwoSms account-task endpoints as functions of a plain http::Request (http/message.h),
// apart from any HTTP library, so that each is a small function a unit test can call:
//
//   POST   api/v2/admin/tasks/account        Create  (conveyor.task.create)
//   POST   api/v2/admin/tasks/account/bulk   BulkCreate (up to 1,000 conveyor.task.create)
//   PUT    api/v1/admin/tasks/account/{id}   Update  (conveyor.task.update)
//   GET    api/v2/admin/tasks/account/{id}   Get     (the PostgreSQL projection)
//   GET    api/v2/admin/tasks/account        List    (?page=1&pageSize=50, pageSize ≤ 200)
//   DELETE api/v2/admin/tasks/account/{id}   Delete  (conveyor.task.delete)
//
// (TwoSmsDialect::Routes, dialect.cc, serves each under both the api/v1 and the api/v2
// prefix.) Writes answer only after Kafka acknowledged the command; their Detail shows the
// task as the command leaves it, with Status "Accepted" (or "Deleted"); reads show what the
// workers have applied.
//
// Formats: the request body is JSON (application/json, text/json, or no Content-Type) or XML
// (application/xml, text/xml); anything else is 415. The answer is in the first format the
// Accept header allows, in its order of preference; a missing Accept, or a wildcard, means the
// request's format (JSON for requests without a body); an Accept that allows neither is 406.
// Errors use the envelope in the chosen format (JSON when none can be chosen).
//
// Thread-safe: the handlers share nothing but the ports, which are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "auth/caller.h"
#include "commands/command_queue.h"
#include "commands/task_commands.h"
#include "conveyor/clock.h"
#include "conveyor/json_schema.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "dialects/twosms/clients.h"
#include "dialects/twosms/codec.h"
#include "http/dialect.h"
#include "http/message.h"

namespace conveyor::twosms {

// The answer's format and the media type to label it with (application/json, text/json,
// application/xml or text/xml, as the client asked).
struct ResponseMedia {
  BodyFormat format = BodyFormat::kJson;
  std::string media_type = "application/json";
};

// The format of a request body by its Content-Type (parameters such as charset ignored);
// std::nullopt for a media type the dialect does not take.
std::optional<BodyFormat> RequestFormat(std::string_view content_type);

// The answer's format by the Accept header (q-values honoured; q=0 excludes); `fallback` for a
// missing header or a wildcard; std::nullopt when Accept allows none of the four.
std::optional<ResponseMedia> NegotiateResponse(std::string_view accept, BodyFormat fallback);

// A query parameter by name, regardless of case (as ASP.NET binds them); std::nullopt when absent.
std::optional<std::string> QueryValue(const http::Request& req, std::string_view name);
// A positive integer query parameter no larger than `max`, or `fallback` when absent;
// kInvalidArgument naming the parameter (and `limit_name` over the limit) otherwise.
Result<std::int64_t> PositiveParameter(const http::Request& req, std::string_view name,
                                       std::int64_t fallback, std::int64_t max,
                                       std::string_view limit_name);

// A JSON answer with the envelope, for the routes that speak JSON only (the task-type
// catalogue, the queue); JsonError puts `e` in the error envelope with its status.
http::Answer JsonEnvelope(int status, const nlohmann::ordered_json& envelope);
http::Answer JsonError(const Error& e);

inline constexpr int kDefaultPageSize = 50;
inline constexpr std::size_t kMaxListedRuns = 200;
// GET {id}/runs/{runId}/log answers at most this many characters: the end of the log.
inline constexpr std::size_t kRunLogTailChars = 16 * 1024;
inline constexpr int kMaxPageSize = 200;

class TaskRoutes {
 public:
  TaskRoutes(const RequestDecoder& decoder, TaskCommandService& commands, TaskReader& reader,
             const Clock& clock)
      : decoder_(decoder), commands_(commands), reader_(reader), clock_(clock) {}

  // The writes (Create, BulkCreate, Update, Delete, RunNow) answer once Kafka acknowledged (or
  // refused) their commands; no thread waits meanwhile.
  void Create(std::shared_ptr<const http::Request> request, http::Reply reply);
  // {"Tasks": [...]} (RequestDecoder::DecodeBulkCreate): every task is decoded and checked
  // before any is published; the first bad one is a 400 naming it (Tasks[3].Frequency) and
  // nothing is published. Then all are published together; the answer comes once Kafka
  // acknowledged or refused each: 200 with Detail a list, in request order, of
  // {ID, TaskID, Status "Accepted", Error null}; when some were not acknowledged, 503 whose
  // Error says how many were accepted and that the others were not created, and whose Detail
  // lists each task as accepted or {ID null, TaskID, Status "NotCreated", Error}, so that the
  // caller retries only those.
  void BulkCreate(std::shared_ptr<const http::Request> request, http::Reply reply);
  void Update(std::shared_ptr<const http::Request> request, http::Reply reply);
  http::Answer Get(const http::Request& request);
  http::Answer List(const http::Request& request);
  void Delete(std::shared_ptr<const http::Request> request, http::Reply reply);
  // Conveyor's extensions (docs/scheduling.md): POST {id}/run starts one run at once, outside
  // the task's schedule (200, Detail the task, RunID the new run's id); GET {id}/runs lists
  // the task's runs, skipped due times included, newest first (at most kMaxListedRuns).
  void RunNow(std::shared_ptr<const http::Request> request, http::Reply reply);
  http::Answer ListRuns(const http::Request& request);
  // GET {id}/runs/{runId}/log: the end of the run's log (kRunLogTailChars) and its length.
  http::Answer RunLog(const http::Request& request);

 private:
  // The task named by request.id; on failure `answer` holds the error to send.
  std::optional<TaskView> FindTask(const http::Request& request, const ResponseMedia& media,
                                   http::Answer* answer);
  // The answers to Create and BulkCreate, once TaskCommandService has answered.
  static http::Answer CreatedAnswer(const ResponseMedia& media, const Result<CreatedTask>& created);
  static http::Answer BulkAnswer(const ResponseMedia& media,
                                 const std::vector<AccountTaskRequest>& requests,
                                 const TaskCommandService::CreateAllResult& created);

  const RequestDecoder& decoder_;
  TaskCommandService& commands_;
  TaskReader& reader_;
  const Clock& clock_;
};

// The clients resource, admin keys only (the route guard checks that), in the same formats:
//   POST api/v1/admin/clients        Create (ClientRequest; the Secret is shown once)
//   GET  api/v1/admin/clients        List   (Conveyor's addition)
//   GET  api/v1/admin/clients/{id}   Get    (Conveyor's addition)
//   PUT  api/v1/admin/clients/{id}   Update (ClientUpdateRequest: Name, Secret, Enabled)
//   DELETE api/v1/admin/clients/{id} Delete (for good; its tokens are revoked, its tasks stay)
// Clients are written straight to PostgreSQL (docs/adr/0005); every producer hears a change
// at once (auth/credential_listener.h). Thread-safe.
class ClientRoutes {
 public:
  ClientRoutes(const ClientRequestDecoder& decoder, CredentialStore& store)
      : decoder_(decoder), store_(store) {}

  http::Answer Create(const http::Request& request);
  http::Answer List(const http::Request& request);
  http::Answer Get(const http::Request& request);
  http::Answer Update(const http::Request& request);
  http::Answer Delete(const http::Request& request);

 private:
  // The client the request's path names; or nothing, with `refused` the answer that says why
  // (not a GUID, no such client, or the store did not answer).
  std::optional<ClientRecord> Find(const http::Request& request, const ResponseMedia& media,
                                   http::Answer* refused);

  const ClientRequestDecoder& decoder_;
  CredentialStore& store_;
};

// The task-type catalogue (Conveyor's; TwoSms's envelope), docs/task-types.md:
//   POST api/v1/admin/tasktypes      Register (admin keys only; Clients: the clients granted it)
//   GET  api/v1/admin/tasktypes      List     (any caller: clients need the ids as TaskID; a
//                                              client sees the types granted to it)
// Registration writes straight to PostgreSQL (docs/adr/0004). Thread-safe.
class TaskTypeRoutes {
 public:
  TaskTypeRoutes(JsonSchema schema, TaskTypeCatalog& catalog, ClientDirectory& clients)
      : schema_(std::move(schema)), catalog_(catalog), clients_(clients) {}

  http::Answer Register(const http::Request& request);
  http::Answer List(const http::Request& request);

 private:
  JsonSchema schema_;
  TaskTypeCatalog& catalog_;
  ClientDirectory& clients_;
};

// The commands' way through Kafka, for operators (admin keys only; JSON; docs/operations.md):
//   GET  api/v1/admin/queue                                  State: the workers' group's lag on
//                                                            each commands partition, the
//                                                            dead-letter topic's depth
//   GET  api/v1/admin/deadletters                            DeadLetters (?page&pageSize,
//                                                            newest first in each partition)
//   POST api/v1/admin/deadletters/{partition}/{offset}/replay  Replay: the message back to the
//                                                            topic it came from
// Thread-safe when the CommandQueue is.
class QueueRoutes {
 public:
  explicit QueueRoutes(CommandQueue& queue) : queue_(queue) {}

  http::Answer State(const http::Request& request);
  http::Answer DeadLetters(const http::Request& request);
  http::Answer Replay(const http::Request& request);

 private:
  CommandQueue& queue_;
};

}  // namespace conveyor::twosms

#include "dialects/twosms/routes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "auth/credentials.h"
#include "commands/visible_task.h"
#include "conveyor/json_text.h"
#include "conveyor/logging.h"
#include "conveyor/text.h"
#include "dialects/twosms/xml.h"

namespace conveyor::twosms {
namespace {

constexpr std::string_view kRoot = "ResponseOfAccountTaskResponse";
constexpr std::string_view kListRoot = "ResponseOfListOfAccountTaskResponse";
constexpr std::string_view kClientRoot = "ResponseOfClientResponse";
constexpr std::string_view kClientListRoot = "ResponseOfListOfClientResponse";
constexpr std::string_view kBulkRoot = "ResponseOfListOfAccountTaskBulkItem";
constexpr std::string_view kRunsRoot = "ResponseOfListOfRunResponse";
constexpr std::string_view kRunLogRoot = "ResponseOfRunLogResponse";
constexpr std::string_view kBulkItem = "AccountTaskBulkItem";

http::Answer Send(const ResponseMedia& media, int status, const nlohmann::ordered_json& envelope,
                  std::string_view xml_root = kRoot,
                  std::string_view xml_item = "AccountTaskResponse") {
  http::Answer a;
  a.status = status;
  a.content_type = media.media_type + "; charset=utf-8";
  // What a request echoes (a path, a parameter) may not be UTF-8: U+FFFD stands in.
  a.body = media.format == BodyFormat::kXml
               ? xml::EnvelopeToXml(envelope, xml_root, xml_item)
               : envelope.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return a;
}

http::Answer SendError(const ResponseMedia& media, const Error& error, int status = 0,
                       std::string_view code = {}) {
  return Send(media, status ? status : http::StatusOf(error.code), ErrorEnvelope(error, code));
}

// Picks the formats of a request and of its answer; on failure `answer` is the 415 or 406.
struct Formats {
  BodyFormat request = BodyFormat::kJson;
  ResponseMedia response;
};

// The {id} of a route with one: the last group of its pattern.
std::string IdOf(const http::Request& req) {
  return req.path_params.empty() ? std::string() : req.path_params.back();
}

std::optional<Formats> Negotiate(const http::Request& req, bool has_body, http::Answer* answer) {
  Formats f;
  if (has_body) {
    auto format = RequestFormat(req.Header("Content-Type"));
    if (!format) {
      auto media =
          NegotiateResponse(req.Header("Accept"), BodyFormat::kJson).value_or(ResponseMedia{});
      *answer = SendError(
          media,
          MakeError(ErrorCode::kInvalidArgument,
                    "Content-Type " + req.Header("Content-Type") +
                        " is not supported; send application/json, text/json, application/xml "
                        "or text/xml"),
          415, "UnsupportedMediaType");
      return std::nullopt;
    }
    f.request = *format;
  }
  auto media = NegotiateResponse(req.Header("Accept"), f.request);
  if (!media) {
    *answer = SendError(ResponseMedia{},
                        MakeError(ErrorCode::kInvalidArgument,
                                  "Accept " + req.Header("Accept") +
                                      " allows no format this API writes: application/json, "
                                      "text/json, application/xml or text/xml"),
                        406, "NotAcceptable");
    return std::nullopt;
  }
  f.response = *media;
  return f;
}

// A write that stops the task's live run is refused when its type cannot be cancelled.
bool StopsARunThatCannotBeCancelled(const TaskView& v) {
  return v.cancellation == "CannotCancel" && v.last_run && !IsFinal(v.last_run->state);
}

}  // namespace

std::optional<std::string> QueryValue(const http::Request& req, std::string_view name) {
  // ASP.NET binds query parameters regardless of case.
  for (const auto& [key, value] : req.params)
    if (EqualsIgnoringCase(key, name)) return value;
  return std::nullopt;
}

Result<std::int64_t> PositiveParameter(const http::Request& req, std::string_view name,
                                       std::int64_t fallback, std::int64_t max,
                                       std::string_view limit_name) {
  auto text = QueryValue(req, name);
  if (!text) return fallback;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size() || v < 1)
    return Fail(ErrorCode::kInvalidArgument, "'" + *text + "' is not a whole number of 1 or more",
                std::string(name));
  if (v > max)
    return Fail(ErrorCode::kInvalidArgument,
                "is " + *text + "; " + std::string(limit_name) + " is " + std::to_string(max),
                std::string(name));
  return v;
}

std::optional<BodyFormat> RequestFormat(std::string_view content_type) {
  auto media = http::MediaType(content_type);
  if (media.empty() || media == "application/json" || media == "text/json")
    return BodyFormat::kJson;
  if (media == "application/xml" || media == "text/xml") return BodyFormat::kXml;
  return std::nullopt;
}

std::optional<ResponseMedia> NegotiateResponse(std::string_view accept, BodyFormat fallback) {
  auto as = [](BodyFormat f, std::string_view family) {
    std::string sub = f == BodyFormat::kXml ? "xml" : "json";
    return ResponseMedia{f, std::string(family) + "/" + sub};
  };
  if (TrimSpaces(accept).empty()) return as(fallback, "application");
  for (const auto& media : http::AcceptedMediaTypes(accept)) {
    if (media == "application/json" || media == "text/json")
      return ResponseMedia{BodyFormat::kJson, media};
    if (media == "application/xml" || media == "text/xml")
      return ResponseMedia{BodyFormat::kXml, media};
    if (media == "*/*" || media == "application/*") return as(fallback, "application");
    if (media == "text/*") return as(fallback, "text");
  }
  return std::nullopt;
}

std::optional<TaskView> TaskRoutes::FindTask(const http::Request& req, const ResponseMedia& media,
                                             http::Answer* answer) {
  auto id = Uuid::Parse(IdOf(req));
  if (!id) {
    *answer = SendError(
        media, MakeError(ErrorCode::kInvalidArgument, "'" + IdOf(req) + "' is not a GUID", "id"));
    return std::nullopt;
  }
  auto view = VisibleTask(reader_, *id, req.caller);
  if (!view) {
    *answer = SendError(media, view.error());
    return std::nullopt;
  }
  return std::move(*view);
}

void TaskRoutes::Create(std::shared_ptr<const http::Request> request, http::Reply reply) {
  const auto& req = *request;
  http::Answer answer;
  auto formats = Negotiate(req, true, &answer);
  if (!formats) return reply(std::move(answer));
  // The time the request is read at: its first attempt's, under an Idempotency-Key.
  auto now = req.idempotency ? req.idempotency->first_at : clock_.Now();
  auto decoded = decoder_.DecodeCreate(req.body, now, formats->request);
  if (!decoded) {
    logging::Get("ingest")->info("create refused: {}", decoded.error().Describe());
    return reply(SendError(formats->response, decoded.error()));
  }
  commands_.CreateThen(DraftOf(*decoded), req.caller, TaskCommandService::ClientRule::kRequired,
                       "TaskID", req.idempotency,
                       [media = formats->response, reply](Result<CreatedTask> created) {
                         reply(CreatedAnswer(media, created));
                       });
}

http::Answer TaskRoutes::CreatedAnswer(const ResponseMedia& media,
                                       const Result<CreatedTask>& created) {
  if (!created) {
    if (created.error().retryable())
      logging::Get("ingest")->warn("create not accepted: {}", created.error().Describe());
    return SendError(media, created.error());
  }
  TaskView view;
  view.task = created->task;
  view.type_name = created->type.name;
  view.modified_at = created->task.created_at;
  view.modified_by = created->task.created_by;
  return Send(media, 200, SuccessEnvelope(Detail(view, "Accepted"), std::nullopt));
}

void TaskRoutes::BulkCreate(std::shared_ptr<const http::Request> request, http::Reply reply) {
  const auto& req = *request;
  http::Answer answer;
  auto formats = Negotiate(req, true, &answer);
  if (!formats) return reply(std::move(answer));
  auto now = req.idempotency ? req.idempotency->first_at : clock_.Now();
  auto requests = decoder_.DecodeBulkCreate(req.body, now, formats->request);
  if (!requests) {
    logging::Get("ingest")->info("bulk create refused: {}", requests.error().Describe());
    return reply(SendError(formats->response, requests.error()));
  }
  std::vector<Task> drafts;
  drafts.reserve(requests->size());
  for (const auto& r : *requests) drafts.push_back(DraftOf(r));
  auto decoded = std::make_shared<std::vector<AccountTaskRequest>>(std::move(*requests));
  commands_.CreateAllThen(
      drafts, req.caller, TaskCommandService::ClientRule::kRequired, "TaskID", req.idempotency,
      [media = formats->response, decoded, reply](TaskCommandService::CreateAllResult created) {
        reply(BulkAnswer(media, *decoded, created));
      });
}

http::Answer TaskRoutes::BulkAnswer(const ResponseMedia& media,
                                    const std::vector<AccountTaskRequest>& requests,
                                    const TaskCommandService::CreateAllResult& created) {
  auto log = logging::Get("ingest");
  if (!created) {
    auto error = InTask(created.error().index, created.error().error);
    if (error.retryable())
      log->warn("bulk create not accepted: {}", error.Describe());
    else
      log->info("bulk create refused: {}", error.Describe());
    return SendError(media, error);
  }
  using nlohmann::ordered_json;
  auto items = ordered_json::array();
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < created->size(); ++i) {
    const auto& c = (*created)[i];
    if (c) ++accepted;
    items.push_back(ordered_json{
        {"ID", c ? ordered_json(c->task.id.ToString()) : ordered_json()},
        {"TaskID", requests[i].task_type_id.ToString()},
        {"Status", c ? "Accepted" : "NotCreated"},
        {"Error", c ? ordered_json() : ErrorEnvelope(c.error())["Error"]},
    });
  }
  if (accepted == created->size())
    return Send(media, 200, SuccessEnvelope(std::move(items), std::nullopt), kBulkRoot, kBulkItem);
  auto failed = created->size() - accepted;
  log->warn("bulk create: {} of {} tasks accepted, {} not acknowledged by Kafka", accepted,
            created->size(), failed);
  auto envelope = ErrorEnvelope(MakeError(
      ErrorCode::kUnavailable,
      std::to_string(accepted) + " of " + std::to_string(created->size()) +
          " tasks were accepted; the other " + std::to_string(failed) +
          " were not created (Kafka did not acknowledge them): retry those whose Status is "
          "NotCreated"));
  envelope["ResponseData"] = SuccessEnvelope(std::move(items), std::nullopt)["ResponseData"];
  envelope["ResponseData"]["Result"] = "PartialFailure";
  return Send(media, 503, envelope, kBulkRoot, kBulkItem);
}

void TaskRoutes::Update(std::shared_ptr<const http::Request> request, http::Reply reply) {
  const auto& req = *request;
  http::Answer answer;
  auto formats = Negotiate(req, true, &answer);
  if (!formats) return reply(std::move(answer));
  const auto& media = formats->response;
  auto decoded = decoder_.DecodeUpdate(req.body, clock_.Now(), formats->request);
  if (!decoded) {
    logging::Get("ingest")->info("update refused: {}", decoded.error().Describe());
    return reply(SendError(media, decoded.error()));
  }
  auto view = FindTask(req, media, &answer);
  if (!view) return reply(std::move(answer));
  if (decoded->enabled == false && StopsARunThatCannotBeCancelled(*view))
    return reply(SendError(
        media, MakeError(ErrorCode::kFailedPrecondition,
                         "cannot be false while the task's run is " + StatusOf(view->last_run) +
                             ": its type " + view->type_name + " is CannotCancel",
                         "Enabled")));
  auto done = [this, media, view = *view, by = req.caller.Identity(),
               reply](Result<UpdatedTask> updated) mutable {
    if (!updated) {
      if (updated.error().retryable())
        logging::Get("ingest")->warn("update not accepted: {}", updated.error().Describe());
      return reply(SendError(media, updated.error()));
    }
    view.task = updated->task;
    view.type_name = updated->type.name;
    view.cancellation = updated->type.cancellation;
    view.modified_at = clock_.Now();
    view.modified_by = by;
    reply(Send(media, 200, SuccessEnvelope(Detail(view, "Accepted"), std::nullopt)));
  };
  commands_.UpdateTaskThen(view->task, UpdateOf(*decoded), req.caller, "TaskID", std::move(done));
}

http::Answer TaskRoutes::Get(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  auto view = FindTask(req, formats->response, &answer);
  if (!view) return answer;
  return Send(formats->response, 200,
              SuccessEnvelope(Detail(*view, StatusOf(*view)), std::nullopt));
}

http::Answer TaskRoutes::List(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  const auto& media = formats->response;
  // A page far beyond any count would overflow the offset; no list is that long.
  auto page = PositiveParameter(req, "page", 1, 1'000'000'000, "the largest page");
  if (!page) return SendError(media, page.error());
  auto size = PositiveParameter(req, "pageSize", kDefaultPageSize, kMaxPageSize, "the limit");
  if (!size) return SendError(media, size.error());
  auto tasks =
      reader_.ListTasks(req.caller.client_id(), (*page - 1) * *size, static_cast<int>(*size));
  if (!tasks) return SendError(media, tasks.error());
  auto details = nlohmann::ordered_json::array();
  for (const auto& v : tasks->tasks) details.push_back(Detail(v, StatusOf(v)));
  Paging paging{*page, static_cast<int>(*size), tasks->total};
  return Send(media, 200, ListEnvelope(std::move(details), paging, std::nullopt), kListRoot);
}

void TaskRoutes::Delete(std::shared_ptr<const http::Request> request, http::Reply reply) {
  const auto& req = *request;
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return reply(std::move(answer));
  const auto& media = formats->response;
  auto view = FindTask(req, media, &answer);
  if (!view) return reply(std::move(answer));
  if (StopsARunThatCannotBeCancelled(*view))
    return reply(SendError(
        media, MakeError(ErrorCode::kFailedPrecondition,
                         "task " + view->task.id.ToString() +
                             " cannot be deleted while its run is " + StatusOf(view->last_run) +
                             ": its type " + view->type_name + " is CannotCancel",
                         "id")));
  auto task = view->task;
  commands_.DeleteThen(
      {std::move(task)}, req.caller, [media, view = std::move(*view), reply](Status s) {
        if (!s) {
          if (s.error().retryable())
            logging::Get("ingest")->warn("delete not accepted: {}", s.error().Describe());
          return reply(SendError(media, s.error()));
        }
        reply(Send(media, 200, SuccessEnvelope(Detail(view, "Deleted"), std::nullopt)));
      });
}

void TaskRoutes::RunNow(std::shared_ptr<const http::Request> request, http::Reply reply) {
  const auto& req = *request;
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return reply(std::move(answer));
  const auto& media = formats->response;
  auto view = FindTask(req, media, &answer);
  if (!view) return reply(std::move(answer));
  auto task = view->task;
  commands_.RunNowThen(task, req.caller, [media, view = std::move(*view), reply](Result<Uuid> run) {
    if (!run) return reply(SendError(media, run.error()));
    auto detail = Detail(view, StatusOf(view));
    detail["RunID"] = run->ToString();
    reply(Send(media, 200, SuccessEnvelope(std::move(detail), std::nullopt)));
  });
}

http::Answer TaskRoutes::ListRuns(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  const auto& media = formats->response;
  auto view = FindTask(req, media, &answer);
  if (!view) return answer;
  auto runs = reader_.ListRuns(view->task.id, kMaxListedRuns);
  if (!runs) return SendError(media, runs.error());
  auto list = nlohmann::ordered_json::array();
  for (const auto& r : *runs) list.push_back(RunDetail(r));
  return Send(media, 200, SuccessEnvelope(std::move(list), std::nullopt), kRunsRoot, "RunResponse");
}

http::Answer TaskRoutes::RunLog(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  const auto& media = formats->response;
  auto run_id = Uuid::Parse(req.path_params.back());
  if (!run_id)
    return SendError(media, MakeError(ErrorCode::kInvalidArgument,
                                      "'" + req.path_params.back() + "' is not a GUID", "runId"));
  http::Request of_task = req;  // {version}/{id} without {runId}, as FindTask reads them
  of_task.path_params.pop_back();
  auto view = FindTask(of_task, media, &answer);
  if (!view) return answer;
  auto log = reader_.FindRunLog(view->task.id, *run_id, kRunLogTailChars);
  if (!log) return SendError(media, log.error());
  if (!*log)
    return SendError(
        media, MakeError(ErrorCode::kNotFound,
                         "task " + view->task.id.ToString() + " has no run " + run_id->ToString(),
                         "runId"));
  nlohmann::ordered_json detail = {
      {"RunID", run_id->ToString()}, {"Bytes", (*log)->bytes}, {"Tail", (*log)->tail}};
  return Send(media, 200, SuccessEnvelope(std::move(detail), std::nullopt), kRunLogRoot,
              "RunLogResponse");
}

http::Answer ClientRoutes::Create(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, true, &answer);
  if (!formats) return answer;
  const auto& media = formats->response;
  auto request = decoder_.Decode(req.body, formats->request);
  if (!request) return SendError(media, request.error());
  ClientRecord client;
  client.id = Uuid::Random();
  client.name = request->name;
  client.user_id = request->user_id;
  client.created_by = req.caller.Identity();
  auto stored = store_.CreateClient(client, auth::HashSecret(request->secret));
  if (!stored) return SendError(media, stored.error());
  logging::Get("auth")->info("client {} '{}' created by {}", stored->id.ToString(), stored->name,
                             req.caller.Identity());
  return Send(media, 200, SuccessEnvelope(ClientDetail(*stored, request->secret), std::nullopt),
              kClientRoot);
}

http::Answer ClientRoutes::List(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  auto clients = store_.ListClients();
  if (!clients) return SendError(formats->response, clients.error());
  auto details = nlohmann::ordered_json::array();
  for (const auto& c : *clients) details.push_back(ClientDetail(c, std::nullopt));
  return Send(formats->response, 200, SuccessEnvelope(std::move(details), std::nullopt),
              kClientListRoot, "ClientResponse");
}

namespace {

// The client id of the request's path, or the answer refusing it.
std::optional<Uuid> ClientIdOf(const http::Request& req, const ResponseMedia& media,
                               http::Answer* refused) {
  auto id = Uuid::Parse(IdOf(req));
  if (!id)
    *refused = SendError(
        media, MakeError(ErrorCode::kInvalidArgument, "'" + IdOf(req) + "' is not a GUID", "id"));
  return id;
}

Error NoClient(const Uuid& id) {
  return MakeError(ErrorCode::kNotFound, "no client " + id.ToString());
}

}  // namespace

std::optional<ClientRecord> ClientRoutes::Find(const http::Request& req, const ResponseMedia& media,
                                               http::Answer* refused) {
  auto id = ClientIdOf(req, media, refused);
  if (!id) return std::nullopt;
  auto client = store_.FindClient(*id);
  if (!client || !*client) {
    *refused = SendError(media, client ? NoClient(*id) : client.error());
    return std::nullopt;
  }
  return **client;
}

http::Answer ClientRoutes::Get(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  auto client = Find(req, formats->response, &answer);
  if (!client) return answer;
  return Send(formats->response, 200,
              SuccessEnvelope(ClientDetail(*client, std::nullopt), std::nullopt), kClientRoot);
}

http::Answer ClientRoutes::Update(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, true, &answer);
  if (!formats) return answer;
  const auto& media = formats->response;
  auto id = ClientIdOf(req, media, &answer);
  if (!id) return answer;
  auto update = decoder_.DecodeUpdate(req.body, formats->request);
  if (!update) return SendError(media, update.error());
  CredentialStore::ClientChange change{update->name, std::nullopt, update->enabled};
  if (update->secret) change.secret_hash = auth::HashSecret(*update->secret);
  auto stored = store_.UpdateClient(*id, change);
  if (!stored) return SendError(media, stored.error());
  if (!*stored) return SendError(media, NoClient(*id));
  logging::Get("auth")->info("client {} changed by {}:{}{}{}", id->ToString(),
                             req.caller.Identity(), update->name ? " name" : "",
                             update->secret ? " secret (its tokens revoked)" : "",
                             update->enabled ? (*update->enabled ? " enabled" : " disabled") : "");
  return Send(media, 200, SuccessEnvelope(ClientDetail(**stored, update->secret), std::nullopt),
              kClientRoot);
}

http::Answer ClientRoutes::Delete(const http::Request& req) {
  http::Answer answer;
  auto formats = Negotiate(req, false, &answer);
  if (!formats) return answer;
  const auto& media = formats->response;
  auto client = Find(req, media, &answer);
  if (!client) return answer;
  if (auto s = store_.DeleteClient(client->id); !s) return SendError(media, s.error());
  logging::Get("auth")->info("client {} '{}' deleted by {}", client->id.ToString(), client->name,
                             req.caller.Identity());
  return Send(media, 200, SuccessEnvelope(ClientDetail(*client, std::nullopt), std::nullopt),
              kClientRoot);
}

namespace {

// A type as `caller` sees it: the clients it is granted to only for an admin key (a client
// learns no other client's id).
nlohmann::json TaskTypeDetail(const TaskType& t, const Caller& caller) {
  nlohmann::json d = {
      {"ID", t.id.ToString()},
      {"Name", t.name},
      {"Handler", t.handler},
      {"TimeoutSeconds", t.timeout_seconds ? nlohmann::json(*t.timeout_seconds) : nullptr},
      {"MaxAttempts", t.max_attempts},
      {"RetryBackoffMs", t.retry_backoff_ms},
      {"CancellationBehaviour", t.cancellation},
      {"BuiltIn", t.builtin}};
  if (!caller.is_admin()) return d;
  auto clients = nlohmann::json::array();
  for (const auto& c : t.clients) clients.push_back(c.ToString());
  d["Clients"] = t.clients.empty() ? nlohmann::json(nullptr) : clients;
  return d;
}

// The clients the request grants the type, each checked to exist; or why not.
Result<std::vector<Uuid>> GrantedClients(const nlohmann::json& j, ClientDirectory& directory) {
  std::vector<Uuid> clients;
  if (!j.contains("Clients") || j["Clients"].is_null()) return clients;
  for (std::size_t i = 0; i < j["Clients"].size(); ++i) {
    std::string field = "Clients/" + std::to_string(i);
    auto id = Uuid::Parse(j["Clients"][i].get<std::string>());
    if (!id) return Fail(ErrorCode::kInvalidArgument, "is not a GUID", field);
    auto found = directory.FindClient(*id);
    if (!found) return std::unexpected(found.error());
    if (!*found) return Fail(ErrorCode::kInvalidArgument, "no client " + id->ToString(), field);
    if (std::find(clients.begin(), clients.end(), *id) == clients.end()) clients.push_back(*id);
  }
  return clients;
}

}  // namespace

http::Answer JsonEnvelope(int status, const nlohmann::ordered_json& envelope) {
  return {status, "application/json; charset=utf-8", http::JsonText(envelope), {}};
}

http::Answer JsonError(const Error& e) {
  return JsonEnvelope(http::StatusOf(e.code), ErrorEnvelope(e));
}

http::Answer TaskTypeRoutes::Register(const http::Request& req) {
  auto parsed = ParseJson(req.body, "the request body");
  if (!parsed) return JsonError(parsed.error());
  auto& j = *parsed;
  if (auto valid = schema_.Validate(j); !valid) return JsonError(valid.error());
  TaskType t;
  t.name = j["Name"];
  t.handler = j["Handler"];
  if (j.contains("TimeoutSeconds") && j["TimeoutSeconds"].is_number())
    t.timeout_seconds = j["TimeoutSeconds"].get<int>();
  t.max_attempts = j.value("MaxAttempts", 1);
  t.retry_backoff_ms = j.value("RetryBackoffMs", 1000);
  t.cancellation = j.value("CancellationBehaviour", std::string("CanCancel"));
  auto clients = GrantedClients(j, clients_);
  if (!clients) return JsonError(clients.error());
  t.clients = std::move(*clients);
  auto registered = catalog_.Register(std::move(t));
  if (!registered) return JsonError(registered.error());
  logging::Get("ingest")->info("task type {} '{}' registered (handler {})",
                               registered->id.ToString(), registered->name, registered->handler);
  return JsonEnvelope(200, SuccessEnvelope(TaskTypeDetail(*registered, req.caller), std::nullopt));
}

http::Answer TaskTypeRoutes::List(const http::Request& req) {
  auto types = catalog_.List();
  if (!types) return JsonError(types.error());
  auto list = nlohmann::json::array();
  for (const auto& t : *types)
    if (req.caller.MayUse(t)) list.push_back(TaskTypeDetail(t, req.caller));
  return JsonEnvelope(200, SuccessEnvelope(list, std::nullopt));
}

}  // namespace conveyor::twosms

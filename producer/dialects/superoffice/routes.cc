#include "dialects/superoffice/routes.h"

#include <algorithm>
#include <cctype>

#include "commands/visible_task.h"
#include "conveyor/logging.h"
#include "conveyor/text.h"
#include "dialects/superoffice/codec.h"
#include "dialects/superoffice/xml.h"

namespace conveyor::superoffice {
namespace {

constexpr char kAgentPrefix[] = "/api/v1/Agents/Batch/";

// How the caller wants the answer: JSON or XML (Accept), which fields ($select), which zone
// (SO-TimeZone).
struct AnswerFormat {
  std::string xml_type;  // empty: JSON; else "application/xml" or "text/xml"
  FieldSelection select;
  OutputTimeZone zone;
};

// The media type the caller prefers among the ones SuperOffice offers: the highest q wins,
// the first listed on a tie; JSON when there is no Accept or nothing in it is offered.
std::string XmlTypeFromAccept(const std::string& accept) {
  for (const auto& type : http::AcceptedMediaTypes(accept)) {
    if (type == "application/xml" || type == "text/xml") return type;
    if (type == "application/json" || type == "text/json" || type == "*/*" ||
        type == "application/*" || type == "text/*")
      return "";
  }
  return "";
}

bool IsJsonBody(const http::Request& req) {
  auto type = req.Header("Content-Type");
  auto media = http::MediaType(type);
  return media.empty() || media == "application/json" || media == "text/json";
}

// SuperOffice answers 400 for every refusal of a request's content (its ErrorType names
// which); the rest as every dialect does.
int HttpStatus(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kTooLarge:
      return 400;
    default:
      return http::StatusOf(error.code);
  }
}

}  // namespace

struct SuperOfficeDialect::Impl {
  TaskTypeCatalog& catalog;
  TaskCommandService& commands;
  TaskReader& reader;
  AgentRequests requests;
  std::shared_ptr<spdlog::logger> log = logging::Get("ingest");

  // --- writing answers ----------------------------------------------------------------------

  void Send(http::Answer& res, const AnswerFormat& f, int status, const std::string& xml,
            const nlohmann::json& json) {
    res.status = status;
    if (f.xml_type.empty()) {
      // An error may echo what the req.caller sent ($select, SO-TimeZone): bytes that are not
      // UTF-8 are written as U+FFFD rather than failing the answer.
      res.body = http::JsonText(json);
      res.content_type = "application/json; charset=utf-8";
    } else {
      res.body = xml;
      res.content_type = f.xml_type + "; charset=utf-8";
    }
  }

  void SendError(http::Answer& res, const AnswerFormat& f, const Error& error, int status = 0) {
    auto body = ErrorBody(error);
    Send(res, f, status ? status : HttpStatus(error), ErrorXml(body), body);
  }

  void SendInfo(http::Answer& res, const AnswerFormat& f, const std::optional<TaskView>& v) {
    nlohmann::json info = v ? BatchTaskInfo(*v, f.zone) : nlohmann::json();
    f.select.Apply(info);
    Send(res, f, 200, BatchTaskInfoXml(info), info);
  }

  void SendScalar(http::Answer& res, const AnswerFormat& f, const nlohmann::json& value) {
    Send(res, f, 200, ScalarXml(value), value);
  }

  // Parses Accept, $select and SO-TimeZone; answers the request itself (in the format asked
  // for, or JSON) and returns std::nullopt when one of them is bad.
  std::optional<AnswerFormat> Format(const http::Request& req, http::Answer& res) {
    AnswerFormat f;
    f.xml_type = XmlTypeFromAccept(req.Header("Accept"));
    auto select = FieldSelection::Parse(req.Param("$select"));
    if (!select) {
      SendError(res, f, select.error());
      return std::nullopt;
    }
    f.select = std::move(*select);
    auto zone = OutputTimeZone::Parse(req.Header("SO-TimeZone"));
    if (!zone) {
      SendError(res, f, zone.error());
      return std::nullopt;
    }
    f.zone = *zone;
    if (!req.body.empty() && !IsJsonBody(req)) {
      SendError(res, f,
                MakeError(ErrorCode::kInvalidArgument,
                          "Content-Type " + req.Header("Content-Type") +
                              " is not supported; send application/json or text/json",
                          "Content-Type"),
                415);
      return std::nullopt;
    }
    return f;
  }

  // --- the methods --------------------------------------------------------------------------

  // The task with this Id if the caller may see it (commands/visible_task.h); none (the
  // agents answer null, REST 404) when missing or another client's.
  Result<std::optional<TaskView>> Lookup(std::int64_t id, const Caller& caller) {
    auto view = VisibleTask(reader, id, caller);
    if (view) return std::optional<TaskView>(std::move(*view));
    if (view.error().code == ErrorCode::kNotFound) return std::optional<TaskView>();
    return std::unexpected(view.error());
  }

  // The task named by the path (`id`, REST) or by the agent body {"Id": n}; answers the
  // request itself and returns std::nullopt when it is bad or there is no such task.
  std::optional<TaskView> FindBatchTask(const http::Request& req, http::Answer& res,
                                        const Caller& caller, const AnswerFormat& f,
                                        std::optional<std::int64_t> id,
                                        const std::string& xml_not_found,
                                        const nlohmann::json& json_not_found) {
    bool rest = id.has_value();
    if (!id) {
      auto decoded = requests.DecodeId(req.body);
      if (!decoded) {
        SendError(res, f, decoded.error());
        return std::nullopt;
      }
      id = *decoded;
    }
    auto view = Lookup(*id, caller);
    if (!view) {
      SendError(res, f, view.error());
      return std::nullopt;
    }
    if (!*view) {
      if (rest)
        SendError(res, f,
                  MakeError(ErrorCode::kNotFound, "no batch task " + std::to_string(*id), "id"));
      else
        Send(res, f, 200, xml_not_found, json_not_found);
    }
    return std::move(*view);
  }

  void GetBatchTaskInfo(const http::Request& req, http::Answer& res,
                        std::optional<std::int64_t> id) {
    auto f = Format(req, res);
    if (!f) return;
    if (auto view = FindBatchTask(req, res, req.caller, *f, id, BatchTaskInfoXml(nullptr), nullptr))
      SendInfo(res, *f, view);
  }

  // StopBatchJob (agent, `id` none: the body's Id) and POST api/v1/BatchTask/{id}/Stop: true
  // once Kafka acknowledged the cancel; false when there is nothing to stop.
  void StopBatchJob(std::shared_ptr<const http::Request> request, http::Reply reply,
                    std::optional<std::int64_t> id) {
    const auto& req = *request;
    http::Answer res;
    auto f = Format(req, res);
    if (!f) return reply(std::move(res));
    auto task = TaskToStop(req, res, *f, id);
    if (!task) return reply(std::move(res));
    commands.CancelThen(*task, req.caller, [this, f = *f, reply](Status s) {
      http::Answer res;
      if (!s)
        SendError(res, f, s.error());
      else
        SendScalar(res, f, true);
      reply(std::move(res));
    });
  }

  // The task StopBatchJob cancels; std::nullopt when `res` holds the answer (an error, or
  // false: nothing to stop).
  std::optional<Task> TaskToStop(const http::Request& req, http::Answer& res, const AnswerFormat& f,
                                 std::optional<std::int64_t> id) {
    auto view = FindBatchTask(req, res, req.caller, f, id, ScalarXml(false), false);
    if (!view) return std::nullopt;
    const auto& v = *view;
    if (!MayCancel(v)) {
      SendError(res, f,
                MakeError(ErrorCode::kFailedPrecondition,
                          "batch task " + std::to_string(v.task.number) + " (" + v.type_name +
                              ") cannot be stopped: its CancellationBehaviour is CannotCancel",
                          "Id"));
      return std::nullopt;
    }
    // Nothing to stop: it has no run, or its run is over.
    if (!v.last_run || IsFinal(v.last_run->state)) {
      SendScalar(res, f, false);
      return std::nullopt;
    }
    return std::move(view->task);
  }

  // UpdateBatchTask (agent, `rest_id` none) and PUT /api/v1/BatchTask/{id} (REST): changes
  // State, Description, Response and Request (PlanUpdate) and answers the BatchTaskInfo as the
  // update leaves it, once Kafka acknowledged the command. Not found: 200 null (agent), 404
  // (REST).
  void UpdateBatchTask(std::shared_ptr<const http::Request> request, http::Reply reply,
                       std::optional<std::int64_t> rest_id) {
    const auto& req = *request;
    http::Answer res;
    auto f = Format(req, res);
    if (!f) return reply(std::move(res));
    auto planned = PlanBatchUpdate(req, res, *f, rest_id);
    if (!planned) return reply(std::move(res));
    auto& [view, update] = *planned;
    auto task = view.task;
    commands.BatchUpdateThen(
        task, update, req.caller,
        [this, f = *f, view = std::move(view), update = update, reply](Result<Uuid> event_id) {
          http::Answer res;
          if (!event_id) {
            if (event_id.error().retryable())
              log->warn("UpdateBatchTask not accepted: {}", event_id.error().Describe());
            SendError(res, f, event_id.error());
          } else {
            SendInfo(res, f, Updated(view, update, *event_id));
          }
          reply(std::move(res));
        });
  }

  // The task UpdateBatchTask changes, and how; std::nullopt when `res` holds the answer (an
  // error, the task not found, or the task as it is when the update changes nothing).
  std::optional<std::pair<TaskView, BatchTaskUpdate>> PlanBatchUpdate(
      const http::Request& req, http::Answer& res, const AnswerFormat& f,
      std::optional<std::int64_t> rest_id) {
    bool rest = rest_id.has_value();
    auto request = requests.DecodeUpdate(req.body, !rest);
    if (!request) {
      log->info("UpdateBatchTask refused: {}", request.error().Describe());
      SendError(res, f, request.error());
      return std::nullopt;
    }
    std::int64_t id = rest ? *rest_id : *request->id;
    auto view = Lookup(id, req.caller);
    if (!view || !*view) {
      if (!view)
        SendError(res, f, view.error());
      else if (rest)
        SendError(res, f,
                  MakeError(ErrorCode::kNotFound, "no batch task " + std::to_string(id), "id"));
      else
        SendInfo(res, f, std::nullopt);
      return std::nullopt;
    }
    auto update = PlanUpdate(**view, *request, rest ? "State" : "BatchTaskInfo/State");
    if (!update) {
      log->info("UpdateBatchTask of {} refused: {}", id, update.error().Describe());
      SendError(res, f, update.error());
      return std::nullopt;
    }
    bool changes = update->description || update->request || update->response ||
                   update->run_change != BatchTaskUpdate::RunChange::kNone;
    if (!changes) {
      SendInfo(res, f, std::move(*view));
      return std::nullopt;
    }
    return std::pair{std::move(**view), std::move(*update)};
  }

  // Which Delete route: DeleteBatchTask, DeleteBatchTasks (agent) or DELETE (REST).
  enum class DeleteForm { kAgentOne, kAgentMany, kRest };

  // Deletes the tasks (TaskCommandService::Delete: a live run is cancelled, the task hidden)
  // and answers 204 No Content. The agent does not report an Id that names no task (or
  // another client's): it is skipped; REST answers 404. Nothing is deleted when one of the
  // tasks has a live run that cannot be stopped (400 naming it). The deletes are published
  // together; when Kafka does not acknowledge one, the others may be deleted (503; deleting
  // again is harmless).
  void Delete(std::shared_ptr<const http::Request> request, http::Reply reply, DeleteForm form,
              std::optional<std::int64_t> rest_id) {
    const auto& req = *request;
    http::Answer res;
    auto f = Format(req, res);
    if (!f) return reply(std::move(res));
    auto doomed = TasksToDelete(req, res, *f, form, rest_id);
    if (!doomed) return reply(std::move(res));
    commands.DeleteThen(std::move(*doomed), req.caller, [this, f = *f, reply](Status s) {
      http::Answer res;
      if (!s) {
        if (s.error().retryable())
          log->warn("DeleteBatchTask not accepted: {}", s.error().Describe());
        SendError(res, f, s.error());
      } else {
        res.status = 204;
      }
      reply(std::move(res));
    });
  }

  // The request's ids, in the body (agent) or the path (REST).
  Result<std::vector<std::int64_t>> IdsToDelete(const http::Request& req, DeleteForm form,
                                                std::optional<std::int64_t> rest_id) {
    if (form == DeleteForm::kRest) return std::vector<std::int64_t>{*rest_id};
    if (form == DeleteForm::kAgentMany) return requests.DecodeDeleteMany(req.body);
    auto id = requests.DecodeDeleteOne(req.body);
    if (!id) return std::unexpected(id.error());
    return std::vector<std::int64_t>{*id};
  }

  // The tasks Delete deletes; std::nullopt when `res` holds the refusal.
  std::optional<std::vector<Task>> TasksToDelete(const http::Request& req, http::Answer& res,
                                                 const AnswerFormat& f, DeleteForm form,
                                                 std::optional<std::int64_t> rest_id) {
    auto ids = IdsToDelete(req, form, rest_id);
    if (!ids) {
      SendError(res, f, ids.error());
      return std::nullopt;
    }
    std::vector<Task> doomed;
    for (std::size_t i = 0; i < ids->size(); ++i) {
      std::string field = form == DeleteForm::kRest       ? "id"
                          : form == DeleteForm::kAgentOne ? "BatchTaskId"
                                                          : "BatchTaskIds/" + std::to_string(i);
      auto view = Lookup((*ids)[i], req.caller);
      auto refusal = view ? DeleteRefusal(*view, (*ids)[i], form, field) : view.error();
      if (refusal) {
        SendError(res, f, *refusal);
        return std::nullopt;
      }
      if (*view) doomed.push_back(std::move((*view)->task));
    }
    return doomed;
  }

  // Why the task `id` (its view, if found) cannot be deleted: not found (REST only; the agent
  // skips it), or a live run that cannot be stopped.
  static std::optional<Error> DeleteRefusal(const std::optional<TaskView>& view, std::int64_t id,
                                            DeleteForm form, const std::string& field) {
    if (!view) {
      if (form != DeleteForm::kRest) return std::nullopt;
      return MakeError(ErrorCode::kNotFound, "no batch task " + std::to_string(id), field);
    }
    if (!DeleteStopsUncancellableRun(*view)) return std::nullopt;
    return MakeError(ErrorCode::kFailedPrecondition,
                     "batch task " + std::to_string(id) + " (" + view->type_name +
                         ") cannot be deleted while it is " +
                         std::string(StateName(view->last_run)) +
                         ": its CancellationBehaviour is CannotCancel",
                     field);
  }

  void List(http::Answer& res, const Caller& caller, const AnswerFormat& f,
            const TaskFilter& filter) {
    auto list = reader.FilterTasks(filter, caller.client_id());
    if (!list) return SendError(res, f, list.error());
    if (list->has_more)
      return SendError(
          res, f,
          MakeError(ErrorCode::kTooLarge, "more than " + std::to_string(filter.limit) +
                                              " batch tasks match, over the limit of " +
                                              std::to_string(filter.limit) +
                                              " per answer; narrow the query by name, state or "
                                              "associates"));
    auto infos = nlohmann::json::array();
    for (const auto& v : list->tasks) infos.push_back(BatchTaskInfo(v, f.zone));
    f.select.Apply(infos);
    Send(res, f, 200, BatchTaskInfoArrayXml(infos), infos);
  }

  void ListByAgent(const http::Request& req, http::Answer& res, std::string_view method) {
    auto f = Format(req, res);
    if (!f) return;
    auto filter = requests.DecodeListQuery(method, req.body);
    if (!filter) return SendError(res, *f, filter.error());
    List(res, req.caller, *f, *filter);
  }

  // REST: GET /api/v1/BatchTask (every task) and GET /api/v1/BatchTask/{state}, which
  // answers as the agent's GetBatchTaskInfosByState (user tasks in that state).
  void ListByRest(const http::Request& req, http::Answer& res, std::optional<std::string> state) {
    auto f = Format(req, res);
    if (!f) return;
    if (!state) {
      auto page = DecodeRestPage([&](std::string_view name) -> std::optional<std::string> {
        if (!req.HasParam(name)) return std::nullopt;
        return req.Param(name);
      });
      if (!page) return SendError(res, *f, page.error());
      if (*page) return ListPage(res, req.caller, *f, **page);
    }
    TaskFilter filter;
    filter.limit = kMaxListedTasks;
    if (state) {
      auto parsed = ParseState(*state, "state");
      if (!parsed) return SendError(res, *f, parsed.error());
      filter.owner = TaskFilter::Owner::kUser;
      RestrictToState(*parsed, filter);
    }
    List(res, req.caller, *f, filter);
  }

  // A page of the REST list ($top; Conveyor's addition): the BatchTaskInfos, and how many
  // match in all in X-Total-Count.
  void ListPage(http::Answer& res, const Caller& caller, const AnswerFormat& f,
                const RestPage& page) {
    auto tasks = reader.QueryTasks(RestPageQuery(page, caller.client_id()));
    if (!tasks) return SendError(res, f, tasks.error());
    auto infos = nlohmann::json::array();
    for (const auto& v : tasks->tasks) infos.push_back(BatchTaskInfo(v, f.zone));
    f.select.Apply(infos);
    Send(res, f, 200, BatchTaskInfoArrayXml(infos), infos);
    res.SetHeader("X-Total-Count", std::to_string(tasks->total));
  }

  // StartBatchJob (agent, `wrapped`) and POST /api/v1/BatchTask (REST): answers the new Id.
  // The task belongs to the calling client; an admin key's task belongs to no client.
  // It answers once Kafka acknowledged (or refused) the task; no thread waits meanwhile.
  void Start(std::shared_ptr<const http::Request> request, http::Reply reply, bool wrapped) {
    const auto& req = *request;
    http::Answer res;
    auto f = Format(req, res);
    if (!f) return reply(std::move(res));
    auto start = requests.DecodeStart(req.body, wrapped);
    if (!start) {
      log->info("StartBatchJob refused: {}", start.error().Describe());
      SendError(res, *f, start.error());
      return reply(std::move(res));
    }
    const char* type_field = wrapped ? "BatchTaskInfo/Name" : "Name";
    auto type = FindType(start->name, type_field, req.caller);
    if (!type) {
      SendError(res, *f, type.error());
      return reply(std::move(res));
    }
    Task draft;
    draft.task_type_id = type->id;
    draft.client_id = req.caller.client_id();
    draft.parameters = start->parameters;
    draft.content_type = "application/json";
    draft.associate_id = start->associate_id;
    draft.description = start->description;
    draft.request = start->request;
    // An admin key's task is a system task (no client): the body has no way to name one.
    commands.CreateThen(
        std::move(draft), req.caller, TaskCommandService::ClientRule::kSystemTaskAllowed,
        type_field, req.idempotency, [this, f = *f, reply](Result<CreatedTask> created) {
          http::Answer res;
          if (!created) {
            if (created.error().retryable())
              log->warn("StartBatchJob not accepted: {}", created.error().Describe());
            SendError(res, f, created.error());
          } else {
            SendScalar(res, f, created->task.number);
          }
          reply(std::move(res));
        });
  }

  // The catalogue type a BatchTaskInfo.Name names, of those `caller` may use: an exact match,
  // else the one type whose name matches without regard to case.
  Result<TaskType> FindType(const std::string& name, const std::string& field,
                            const Caller& caller) {
    auto types = catalog.List();
    if (!types) return std::unexpected(types.error());
    std::erase_if(*types, [&](const TaskType& t) { return !caller.MayUse(t); });
    const TaskType* folded = nullptr;
    int folded_matches = 0;
    std::string known;
    for (const auto& t : *types) {
      if (t.name == name) return t;
      if (EqualsIgnoringCase(t.name, name)) {
        folded = &t;
        ++folded_matches;
      }
      known += (known.empty() ? "" : ", ") + t.name;
    }
    if (folded_matches == 1) return *folded;
    return Fail(ErrorCode::kInvalidArgument,
                "'" + name + "' is not a registered task type; registered: " + known, field);
  }
};

SuperOfficeDialect::SuperOfficeDialect(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SuperOfficeDialect::~SuperOfficeDialect() = default;

Result<std::unique_ptr<SuperOfficeDialect>> SuperOfficeDialect::Create(TaskTypeCatalog& catalog,
                                                                       TaskCommandService& commands,
                                                                       TaskReader& reader) {
  auto requests = AgentRequests::Create();
  if (!requests) return std::unexpected(requests.error());
  return std::unique_ptr<SuperOfficeDialect>(new SuperOfficeDialect(
      std::make_unique<Impl>(catalog, commands, reader, std::move(*requests))));
}

std::vector<http::Route> SuperOfficeDialect::Routes() {
  auto* impl = impl_.get();
  using Req = const http::Request&;
  using Res = http::Answer&;
  auto route = [](std::string method, std::string pattern, http::Handler handler) {
    return http::Route{std::move(method), std::move(pattern), http::Access::kAnyCaller,
                       std::move(handler)};
  };
  // A route that answers later (http::DeferredHandler): a write, which waits for Kafka.
  auto deferred = [](std::string method, std::string pattern, http::DeferredHandler handler) {
    http::Route r{std::move(method), std::move(pattern), http::Access::kAnyCaller, nullptr};
    r.deferred = std::move(handler);
    return r;
  };
  using Shared = std::shared_ptr<const http::Request>;
  // StartBatchJob (`wrapped`) or POST api/v1/BatchTask.
  auto start = [impl, deferred](std::string pattern, bool wrapped) {
    return http::Creates(
        deferred("POST", std::move(pattern), [impl, wrapped](Shared req, http::Reply reply) {
          impl->Start(std::move(req), std::move(reply), wrapped);
        }));
  };
  auto remove = [impl, deferred](std::string method, std::string pattern, Impl::DeleteForm form) {
    return deferred(
        std::move(method), std::move(pattern), [impl, form](Shared req, http::Reply reply) {
          auto id = form == Impl::DeleteForm::kRest ? std::optional(std::stoll(req->path_params[0]))
                                                    : std::nullopt;
          impl->Delete(std::move(req), std::move(reply), form, id);
        });
  };
  // The {id} of a REST path.
  auto id = [](Req req) { return std::stoll(req.path_params[0]); };
  const std::string agent = kAgentPrefix, rest = "/api/v1/BatchTask", one = rest + R"(/(\d{1,18}))";
  std::vector<http::Route> routes = {
      route("POST", agent + "GetBatchTaskInfo",
            [impl](Req req, Res res) { impl->GetBatchTaskInfo(req, res, {}); }),
      deferred("POST", agent + "StopBatchJob",
               [impl](Shared req, http::Reply reply) {
                 impl->StopBatchJob(std::move(req), std::move(reply), {});
               }),
      start(agent + "StartBatchJob", true),
      deferred("POST", agent + "UpdateBatchTask",
               [impl](Shared req, http::Reply reply) {
                 impl->UpdateBatchTask(std::move(req), std::move(reply), {});
               }),
      remove("POST", agent + "DeleteBatchTask", Impl::DeleteForm::kAgentOne),
      remove("POST", agent + "DeleteBatchTasks", Impl::DeleteForm::kAgentMany)};
  for (auto method : AgentRequests::ListMethods())
    routes.push_back(route("POST", agent + std::string(method), [impl, method](Req req, Res res) {
      impl->ListByAgent(req, res, method);
    }));
  routes.push_back(
      route("GET", rest, [impl](Req req, Res res) { impl->ListByRest(req, res, {}); }));
  routes.push_back(start(rest, false));
  routes.push_back(route(
      "GET", one, [impl, id](Req req, Res res) { impl->GetBatchTaskInfo(req, res, id(req)); }));
  routes.push_back(route("GET", rest + R"(/([A-Za-z]+))", [impl](Req req, Res res) {
    impl->ListByRest(req, res, req.path_params[0]);
  }));
  routes.push_back(deferred("PUT", one, [impl, id](Shared req, http::Reply reply) {
    auto rest_id = id(*req);
    impl->UpdateBatchTask(std::move(req), std::move(reply), rest_id);
  }));
  routes.push_back(remove("DELETE", one, Impl::DeleteForm::kRest));
  routes.push_back(deferred("POST", one + "/Stop", [impl, id](Shared req, http::Reply reply) {
    auto rest_id = id(*req);
    impl->StopBatchJob(std::move(req), std::move(reply), rest_id);
  }));
  return routes;
}

http::Answer SuperOfficeDialect::ErrorAnswer(const http::Request&, const Error& error) const {
  // Before the request's format is known (an authentication failure): JSON.
  http::Answer answer;
  impl_->SendError(answer, AnswerFormat{}, error);
  return answer;
}

}  // namespace conveyor::superoffice

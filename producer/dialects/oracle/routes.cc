#include "dialects/oracle/routes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <regex>

#include "commands/visible_task.h"
#include "conveyor/json_schema.h"
#include "conveyor/json_text.h"
#include "conveyor/logging.h"
#include "conveyor/trace_context.h"
#include "dialects/oracle/codec.h"

namespace conveyor {

using nlohmann::json;
using oracle::Problem;

// The routes' state and handlers (OracleDialect binds them as its routes).
class OracleDialect::Impl {
 public:
  Impl(TaskTypeCatalog& catalog, TaskCommandService& commands, TaskReader& reader,
       std::string base_url, JsonSchema create_schema, JsonSchema note_schema,
       JsonSchema patch_schema)
      : catalog_(catalog),
        commands_(commands),
        reader_(reader),
        base_url_(std::move(base_url)),
        create_schema_(std::move(create_schema)),
        note_schema_(std::move(note_schema)),
        patch_schema_(std::move(patch_schema)) {}

  // The catalogue's types that `caller` may use (a client: those granted to it).
  Result<std::vector<TaskType>> TypesFor(const Caller& caller) {
    auto types = catalog_.List();
    if (types) std::erase_if(*types, [&](const TaskType& t) { return !caller.MayUse(t); });
    return types;
  }

  // The task belongs to the calling client; an admin key's task belongs to no client (a system
  // task, as an admin's StartBatchJob): Oracle's body has no way to name a client.
  // It answers once Kafka acknowledged (or refused) the task; no thread waits meanwhile.
  void CreateTask(std::shared_ptr<const http::Request> request, http::Reply reply) {
    const auto& req = *request;
    http::Answer res;
    auto draft = DecodeCreateTask(req, res);
    if (!draft) return reply(std::move(res));
    draft->client_id = req.caller.client_id();
    commands_.CreateThen(std::move(*draft), req.caller,
                         TaskCommandService::ClientRule::kSystemTaskAllowed, "taskType",
                         req.idempotency, [this, request, reply](Result<CreatedTask> created) {
                           reply(CreatedAnswer(*request, created));
                         });
  }

  // The task a create's body describes; std::nullopt when `res` holds the refusal.
  std::optional<Task> DecodeCreateTask(const http::Request& req, http::Answer& res) {
    auto body = ParseBody(req, res);
    if (!body) return std::nullopt;
    auto types = TypesFor(req.caller);
    if (!types) {
      SendError(req, res, types.error());
      return std::nullopt;
    }
    auto draft = oracle::DecodeCreate(*body, *types);
    if (!draft) {
      SendError(req, res, draft.error());
      return std::nullopt;
    }
    if (!CheckSchema(req, res, create_schema_, *body)) return std::nullopt;
    return std::move(*draft);
  }

  http::Answer CreatedAnswer(const http::Request& req, const Result<CreatedTask>& created) const {
    http::Answer res;
    if (!created) {
      if (created.error().retryable())
        log_->warn("create not accepted: {}", created.error().Describe());
      SendError(req, res, created.error());
      return res;
    }
    TaskView view;
    view.task = created->task;
    view.type_name = created->type.name;
    view.type_number = created->type.number;
    view.cancellation = created->type.cancellation;
    view.modified_at = created->task.created_at;
    auto location = base_url_ + oracle::kApiPath + "/tasks/" + std::to_string(view.task.number);
    res.SetHeader("Location", location);
    SendJson(res, 201, oracle::TaskJson(view, base_url_));
    return res;
  }

  void GetTask(const http::Request& req, http::Answer& res) {
    if (!CheckParams(req, res, {"fields"})) return;
    auto view = FindTask(req, res);
    if (!view) return;
    auto full = oracle::TaskJson(*view, base_url_);
    if (!req.HasParam("fields")) return SendJson(res, 200, full);
    auto fields = oracle::ParseFields(req.Param("fields"), full, false);
    if (!fields) return SendQueryProblem(req, res, fields.error());
    SendJson(res, 200, oracle::Project(full, *fields));
  }

  void ListTasks(const http::Request& req, http::Answer& res) {
    if (!CheckParams(req, res, {"limit", "offset", "totalResults", "orderBy", "q", "fields"}))
      return;
    TaskQuery query;
    query.client_id = req.caller.client_id();  // a client's own tasks; an admin key sees all
    if (!Paging(req, res, &query.limit, &query.offset)) return;
    if (req.HasParam("totalResults")) {
      auto v = req.Param("totalResults");
      if (v != "true" && v != "false")
        return SendQueryProblem(
            req, res, MakeError(ErrorCode::kInvalidArgument, "is true or false", "totalResults"));
      query.count_total = v == "true";
    }
    if (req.HasParam("orderBy")) {
      auto order = oracle::ParseOrderBy(req.Param("orderBy"));
      if (!order) return SendQueryProblem(req, res, order.error());
      query.order = std::move(*order);
    }
    if (req.HasParam("q")) {
      if (auto s = oracle::ParseQ(req.Param("q"), &query); !s)
        return SendQueryProblem(req, res, s.error());
    }
    std::optional<std::vector<std::string>> fields;
    if (req.HasParam("fields")) {
      auto parsed =
          oracle::ParseFields(req.Param("fields"), oracle::TaskJson(TaskView{}, base_url_), true);
      if (!parsed) return SendQueryProblem(req, res, parsed.error());
      fields = std::move(*parsed);
    }
    auto page = reader_.QueryTasks(query);
    if (!page) {
      if (page.error().code == ErrorCode::kInvalidArgument)
        return SendQueryProblem(req, res, page.error());
      return SendError(req, res, page.error());
    }
    auto items = json::array();
    for (const auto& view : page->tasks) {
      auto full = oracle::TaskJson(view, base_url_);
      items.push_back(fields ? oracle::Project(full, *fields)
                             : oracle::Project(full, {"id", "lookupName"}));
    }
    std::optional<std::int64_t> total;
    if (query.count_total) total = page->total;
    SendCollection(req, res, std::move(items), page->has_more, total, query.limit, query.offset,
                   "/tasks");
  }

  void ListNotes(const http::Request& req, http::Answer& res) {
    if (!CheckParams(req, res, {"limit", "offset", "totalResults", "fields"})) return;
    std::int64_t limit = 0, offset = 0;
    if (!Paging(req, res, &limit, &offset)) return;
    auto view = FindTask(req, res);
    if (!view) return;
    auto page = reader_.ListNotes(view->task.id, offset, limit);
    if (!page) return SendError(req, res, page.error());
    std::optional<std::vector<std::string>> fields;
    if (req.HasParam("fields")) {
      auto parsed = oracle::ParseFields(req.Param("fields"),
                                        oracle::NoteJson(TaskNote{}, 0, base_url_), true);
      if (!parsed) return SendQueryProblem(req, res, parsed.error());
      fields = std::move(*parsed);
    }
    auto items = json::array();
    auto total = page->total;
    for (const auto& note : page->notes) {
      auto full = oracle::NoteJson(note, view->task.number, base_url_);
      items.push_back(fields ? oracle::Project(full, *fields) : oracle::Project(full, {"id"}));
    }
    std::optional<std::int64_t> count;
    if (req.Param("totalResults") == "true") count = total;
    SendCollection(req, res, std::move(items), offset + limit < total, count, limit, offset,
                   "/tasks/" + std::to_string(view->task.number) + "/notes");
  }

  void GetNote(const http::Request& req, http::Answer& res) {
    if (!CheckParams(req, res, {"fields"})) return;
    auto view = FindTask(req, res);
    if (!view) return;
    auto id = std::stoll(req.path_params[1]);
    auto note = reader_.FindNote(view->task.id, id);
    if (!note) return SendError(req, res, note.error());
    if (!*note)
      return SendProblem(req, res,
                         {404, oracle::kUnknownResource,
                          "task " + std::to_string(view->task.number) + " has no note with id " +
                              std::to_string(id)});
    auto full = oracle::NoteJson(**note, view->task.number, base_url_);
    if (!req.HasParam("fields")) return SendJson(res, 200, full);
    auto fields = oracle::ParseFields(req.Param("fields"), full, false);
    if (!fields) return SendQueryProblem(req, res, fields.error());
    SendJson(res, 200, oracle::Project(full, *fields));
  }

  void AddNote(std::shared_ptr<const http::Request> request, http::Reply reply) {
    const auto& req = *request;
    http::Answer res;
    auto body = ParseBody(req, res);
    if (!body) return reply(std::move(res));
    auto text = oracle::DecodeNote(*body);
    if (!text) return reply(ErrorAnswer(req, text.error()));
    if (!CheckSchema(req, res, note_schema_, *body)) return reply(std::move(res));
    auto view = FindTask(req, res);
    if (!view) return reply(std::move(res));
    commands_.AddNoteThen(
        view->task, std::move(*text), req.caller,
        [this, request, number = view->task.number, reply](Result<TaskNote> note) {
          if (!note) return reply(ErrorAnswer(*request, note.error()));
          http::Answer res;
          auto full = oracle::NoteJson(*note, number, base_url_);
          res.SetHeader("Location", full["links"][0]["href"].get<std::string>());
          SendJson(res, 201, full);
          reply(std::move(res));
        });
  }

  // What a PATCH asks for: the task, its fields' update (if any), and whether its run is
  // cancelled (a change to Deferred).
  struct Patch {
    Task task;
    std::optional<TaskUpdate> update;
    bool cancel = false;
  };

  // PATCH tasks/{id}, or POST with X-HTTP-Method-Override: PATCH. Answers 200 with an empty
  // body once Kafka acknowledged the update (and the cancel, for a change to Deferred).
  void PatchTask(std::shared_ptr<const http::Request> request, http::Reply reply) {
    http::Answer res;
    auto patch = PlanPatch(*request, res);
    if (!patch) return reply(std::move(res));
    // The cancel, once the update (if any) was acknowledged, under the request's trace (it
    // may run on another thread); then the answer.
    std::optional<TraceContext> trace;
    if (const auto* t = CurrentTrace()) trace = *t;
    auto cancel = [this, request, reply, task = patch->task, cancel = patch->cancel, trace] {
      if (!cancel) return reply(http::Answer{});
      std::optional<ScopedTrace> scope;
      if (trace) scope.emplace(*trace);
      commands_.CancelThen(task, request->caller, [this, request, reply](Status s) {
        reply(s ? http::Answer{} : ErrorAnswer(*request, s.error()));
      });
    };
    if (!patch->update) return cancel();
    commands_.UpdateTaskThen(patch->task, std::move(*patch->update), request->caller, "taskType",
                             [this, request, reply, cancel](Result<UpdatedTask> updated) {
                               if (!updated) return reply(ErrorAnswer(*request, updated.error()));
                               cancel();
                             });
  }

  // What a PATCH request asks for; std::nullopt when `res` holds the refusal.
  std::optional<Patch> PlanPatch(const http::Request& req, http::Answer& res) {
    auto body = ParseBody(req, res);
    if (!body) return std::nullopt;
    auto types = TypesFor(req.caller);
    auto patch = types ? oracle::DecodePatch(*body, *types) : std::unexpected(types.error());
    if (!patch) {
      SendError(req, res, patch.error());
      return std::nullopt;
    }
    if (!CheckSchema(req, res, patch_schema_, *body)) return std::nullopt;
    auto view = FindTask(req, res);
    if (!view) return std::nullopt;
    Patch out{view->task, std::nullopt, false};
    if (patch->status) {
      if (auto s = oracle::CheckStatusChange(*view, *patch->status, &out.cancel); !s) {
        SendError(req, res, s.error());
        return std::nullopt;
      }
    }
    if (patch->ChangesFields()) out.update = oracle::UpdateOf(view->task, *patch);
    return out;
  }

  void DeleteTask(std::shared_ptr<const http::Request> request, http::Reply reply) {
    const auto& req = *request;
    http::Answer res;
    auto view = FindTask(req, res);
    if (!view) return reply(std::move(res));
    if (auto problem = oracle::DeleteProblem(*view)) {
      SendProblem(req, res, *problem);
      return reply(std::move(res));
    }
    commands_.DeleteThen({view->task}, req.caller, [this, request, reply](Status s) {
      reply(s ? http::Answer{} : ErrorAnswer(*request, s.error()));
    });
  }

  // POST tasks/{id}: only as a PATCH for clients without the verb.
  void PostToTask(std::shared_ptr<const http::Request> request, http::Reply reply) {
    auto method = request->Header("X-HTTP-Method-Override");
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (method == "PATCH") return PatchTask(std::move(request), std::move(reply));
    http::Answer res;
    res.SetHeader("Allow", "GET, PATCH, DELETE");
    SendProblem(*request, res,
                {405, oracle::kUnsupportedMethod,
                 "POST is not supported on a task; send PATCH (or POST with "
                 "X-HTTP-Method-Override: PATCH)"});
    reply(std::move(res));
  }

  void ListAttachments(const http::Request& req, http::Answer& res) {
    auto view = FindTask(req, res);
    if (!view) return;
    SendCollection(req, res, json::array(), false, std::nullopt, oracle::kDefaultLimit, 0,
                   "/tasks/" + std::to_string(view->task.number) + "/fileAttachments");
  }

  void NamedIds(const http::Request& req, http::Answer& res) {
    auto which = req.path_params[0];
    std::vector<oracle::NamedId> values;
    if (which == "priority") {
      values = oracle::Priorities();
    } else if (which == "statusWithType.status") {
      values = oracle::Statuses();
    } else if (which == "statusWithType.statusType") {
      values = oracle::StatusTypes();
    } else if (which == "taskType") {
      auto types = TypesFor(req.caller);
      if (!types) return SendError(req, res, types.error());
      values = oracle::TaskTypeIds(*types);
    } else {
      return SendProblem(req, res,
                         {404, oracle::kUnknownResource,
                          "tasks has no namedID attribute '" + which +
                              "'; there are priority, taskType, statusWithType.status and "
                              "statusWithType.statusType"});
    }
    auto items = json::array();
    for (const auto& v : values) items.push_back({{"id", v.id}, {"lookupName", v.lookup_name}});
    auto self = base_url_ + oracle::kApiPath + "/namedIDs/tasks/" + which;
    SendJson(res, 200,
             {{"items", items},
              {"links", json::array({{{"rel", "self"}, {"href", self}},
                                     {{"rel", "canonical"}, {"href", self}}})}});
  }

  void MetadataCatalog(const http::Request& req, http::Answer& res) {
    auto which = req.path_params[0];
    auto path = which == "/notes"   ? "requests/oracle.task-note.json"
                : which == "/patch" ? "requests/oracle.task-patch.json"
                                    : "requests/oracle.task-create.json";
    res.status = 200;
    res.body = std::string(EmbeddedSchema(path));
    res.content_type = "application/schema+json";
  }

  // Paths under /services/rest/connect that no route above serves.
  void NoRoute(const http::Request& req, http::Answer& res) {
    static const std::string kPrefix = "/services/rest/connect/";
    auto rest = req.path.substr(kPrefix.size());
    auto version = rest.substr(0, rest.find('/'));
    if (version != "v1.4")
      return SendProblem(req, res,
                         {404, oracle::kUnsupportedVersion,
                          "API version '" + version + "' is not supported; Conveyor serves v1.4"});
    static const std::regex kTask(R"(/services/rest/connect/v1\.4/tasks/\d{1,18}(/.*)?)");
    static const std::regex kCollection(R"(/services/rest/connect/v1\.4/tasks/?)");
    bool task = std::regex_match(req.path, kTask),
         collection = std::regex_match(req.path, kCollection);
    if ((task || collection) && req.method != "GET") {
      res.SetHeader("Allow", collection ? "GET, POST" : "GET");
      return SendProblem(req, res,
                         {405, oracle::kUnsupportedMethod,
                          req.method + " is not supported on " + req.path + " by this version"});
    }
    SendProblem(req, res, {404, oracle::kUnknownResource, "no resource at " + req.path});
  }

  // --- helpers ----------------------------------------------------------------------------
  // Percent-encodes all but RFC 3986's unreserved characters.
  static std::string Encode(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }

  // The request URI (path and query, the query re-encoded), as the problem's `instance` and
  // the collection's self link.
  static std::string Instance(const http::Request& req) {
    std::string out = req.path;
    char sep = '?';
    for (const auto& [key, value] : req.params) {
      out += sep + Encode(key) + "=" + Encode(value);
      sep = '&';
    }
    return out;
  }

  static void SendJson(http::Answer& res, int status, const json& body) {
    res.status = status;
    // What a request echoes (a path, a parameter) may not be UTF-8: U+FFFD stands in.
    res.body = http::JsonText(body);
    res.content_type = "application/json; charset=utf-8";
  }

  void SendProblem(const http::Request& req, http::Answer& res, const Problem& p) const {
    SendJson(res, p.status, oracle::ProblemBody(p, base_url_, Instance(req)));
  }

  http::Answer ErrorAnswer(const http::Request& req, const Error& e) const {
    http::Answer res;
    SendError(req, res, e);
    return res;
  }
  void SendError(const http::Request& req, http::Answer& res, const Error& e) const {
    SendProblem(req, res, oracle::WriteProblem(e));
  }

  // A bad query parameter: 400 OSC-CREST-00007 naming the parameter.
  void SendQueryProblem(const http::Request& req, http::Answer& res, const Error& e) {
    SendProblem(
        req, res,
        {400, oracle::kInvalidQueryParameter,
         "query parameter " + (e.field.empty() ? std::string() : e.field + ": ") + e.message});
  }

  bool CheckParams(const http::Request& req, http::Answer& res,
                   std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : req.params)
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        SendQueryProblem(req, res,
                         MakeError(ErrorCode::kInvalidArgument,
                                   "is not supported here; supported: " + list, key));
        return false;
      }
    return true;
  }

  bool Paging(const http::Request& req, http::Answer& res, std::int64_t* limit,
              std::int64_t* offset) {
    auto number = [&](const char* name, std::int64_t fallback, std::int64_t min,
                      std::int64_t max) -> std::optional<std::int64_t> {
      if (!req.HasParam(name)) return fallback;
      auto text = req.Param(name);
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
        SendQueryProblem(req, res,
                         MakeError(ErrorCode::kInvalidArgument,
                                   "'" + text + "' is not an integer from " + std::to_string(min) +
                                       " to " + std::to_string(max) +
                                       (max == oracle::kMaxLimit ? " (the maximum page size)" : ""),
                                   name));
        return std::nullopt;
      }
      return v;
    };
    auto l = number("limit", oracle::kDefaultLimit, 1, oracle::kMaxLimit);
    if (!l) return false;
    auto o = number("offset", 0, 0, std::numeric_limits<std::int32_t>::max());
    if (!o) return false;
    *limit = *l;
    *offset = *o;
    return true;
  }

  // The body of a write as a JSON value; answers the request itself (and returns
  // std::nullopt) when there is none, it is too large, or it is not JSON.
  std::optional<json> ParseBody(const http::Request& req, http::Answer& res) {
    if (req.body.empty()) {
      SendProblem(req, res,
                  {400, oracle::kNoPostData, "the request has no body; send the object as JSON"});
      return std::nullopt;
    }
    if (req.body.size() > oracle::kMaxBodyBytes) {
      SendProblem(req, res,
                  {413, oracle::kWriteFailed,
                   "the request body is over the limit of " +
                       std::to_string(oracle::kMaxBodyBytes) + " bytes"});
      return std::nullopt;
    }
    auto j = ParseJson(req.body, "the body");
    if (!j && j.error().code == ErrorCode::kInvalidArgument) {
      SendProblem(req, res, {400, oracle::kBadJson, j.error().message});
      return std::nullopt;
    }
    if (!j) {
      SendError(req, res, j.error());
      return std::nullopt;
    }
    if (!j->is_object()) {
      SendProblem(req, res, {400, oracle::kBadJson, "the body must be a JSON object"});
      return std::nullopt;
    }
    return std::move(*j);
  }

  bool CheckSchema(const http::Request& req, http::Answer& res, const JsonSchema& schema,
                   const json& body) {
    auto valid = schema.Validate(body);
    if (valid) return true;
    auto field = valid.error().field;
    std::replace(field.begin(), field.end(), '/', '.');
    if (!field.empty() && field.front() == '.') field.erase(0, 1);
    SendError(req, res, MakeError(ErrorCode::kInvalidArgument, valid.error().message, field));
    return false;
  }

  // The task named by the path's first number, if the caller may see it; answers 404 (or the
  // error) itself. Another client's task answers exactly as a missing one.
  std::optional<TaskView> FindTask(const http::Request& req, http::Answer& res) {
    auto view = VisibleTask(reader_, std::stoll(req.path_params[0]), req.caller);
    if (!view) {
      SendError(req, res, view.error());
      return std::nullopt;
    }
    return std::move(*view);
  }

  void SendCollection(const http::Request& req, http::Answer& res, json items, bool has_more,
                      std::optional<std::int64_t> total, std::int64_t limit, std::int64_t offset,
                      const std::string& path) {
    auto api = base_url_ + oracle::kApiPath;
    json body = {{"items", std::move(items)}, {"hasMore", has_more}};
    if (total) body["totalResults"] = *total;
    auto links = json::array({{{"rel", "self"}, {"href", base_url_ + Instance(req)}},
                              {{"rel", "canonical"}, {"href", api + path}},
                              {{"rel", "describedby"},
                               {"href", api + "/metadata-catalog" + path},
                               {"mediaType", "application/schema+json"}}});
    if (has_more)
      links.push_back({{"rel", "next"},
                       {"href", api + path + "?limit=" + std::to_string(limit) +
                                    "&offset=" + std::to_string(offset + limit)}});
    body["links"] = std::move(links);
    SendJson(res, 200, body);
  }

  TaskTypeCatalog& catalog_;
  TaskCommandService& commands_;
  TaskReader& reader_;
  // Where links and Location point: the configured public base URL, never the request's Host
  // header (which a client chooses, so a reflected Host would let it plant links).
  std::string base_url_;
  JsonSchema create_schema_;
  JsonSchema note_schema_;
  JsonSchema patch_schema_;
  std::shared_ptr<spdlog::logger> log_ = logging::Get("ingest");
};

OracleDialect::OracleDialect(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OracleDialect::~OracleDialect() = default;

Result<std::unique_ptr<OracleDialect>> OracleDialect::Create(TaskTypeCatalog& catalog,
                                                             TaskCommandService& commands,
                                                             TaskReader& reader,
                                                             std::string public_base_url) {
  auto create = JsonSchema::Embedded("requests/oracle.task-create.json");
  if (!create) return std::unexpected(create.error());
  auto note = JsonSchema::Embedded("requests/oracle.task-note.json");
  if (!note) return std::unexpected(note.error());
  auto patch = JsonSchema::Embedded("requests/oracle.task-patch.json");
  if (!patch) return std::unexpected(patch.error());
  return std::unique_ptr<OracleDialect>(new OracleDialect(
      std::make_unique<Impl>(catalog, commands, reader, std::move(public_base_url),
                             std::move(*create), std::move(*note), std::move(*patch))));
}

std::vector<http::Route> OracleDialect::Routes() {
  using Method = void (Impl::*)(const http::Request&, http::Answer&);
  auto* impl = impl_.get();
  auto route = [impl](std::string method, std::string pattern, Method m) {
    return http::Route{
        std::move(method), std::move(pattern), http::Access::kAnyCaller,
        [impl, m](const http::Request& req, http::Answer& res) { (impl->*m)(req, res); }};
  };
  const std::string api = oracle::kApiPath;
  const std::string task = api + R"(/tasks/(\d{1,18}))";
  // A write, which answers once Kafka acknowledged it (http::DeferredHandler).
  using Deferred = void (Impl::*)(std::shared_ptr<const http::Request>, http::Reply);
  auto deferred = [impl](std::string method, std::string pattern, Deferred m) {
    http::Route r{std::move(method), std::move(pattern), http::Access::kAnyCaller, nullptr};
    r.deferred = [impl, m](std::shared_ptr<const http::Request> req, http::Reply reply) {
      (impl->*m)(std::move(req), std::move(reply));
    };
    return r;
  };
  std::vector<http::Route> routes = {
      http::Creates(deferred("POST", api + "/tasks", &Impl::CreateTask)),
      route("GET", api + "/tasks", &Impl::ListTasks),
      route("GET", task, &Impl::GetTask),
      deferred("PATCH", task, &Impl::PatchTask),
      deferred("POST", task, &Impl::PostToTask),
      deferred("DELETE", task, &Impl::DeleteTask),
      route("GET", task + "/notes", &Impl::ListNotes),
      deferred("POST", task + "/notes", &Impl::AddNote),
      route("GET", task + R"(/notes/(\d{1,18}))", &Impl::GetNote),
      route("GET", task + "/fileAttachments", &Impl::ListAttachments),
      route("GET", api + R"(/namedIDs/tasks/([A-Za-z.]+))", &Impl::NamedIds),
      route("GET", api + R"(/metadata-catalog/tasks(/notes|/patch)?)", &Impl::MetadataCatalog)};
  // Paths under /services/rest/connect that no route above serves: Oracle's 404 or 405.
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"})
    routes.push_back(route(method, R"(/services/rest/connect/.*)", &Impl::NoRoute));
  return routes;
}

http::Answer OracleDialect::ErrorAnswer(const http::Request& request, const Error& error) const {
  return impl_->ErrorAnswer(request, error);
}

}  // namespace conveyor

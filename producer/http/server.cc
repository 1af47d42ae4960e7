#include "http/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <thread>

#include "conveyor/json_text.h"
#include "conveyor/logging.h"
#include "dialects/oracle/routes.h"
#include "dialects/superoffice/routes.h"
#include "dialects/twosms/routes.h"
#include "http/guard.h"
#include "http/openapi.h"
#include "http/recording_server.h"

namespace conveyor {
namespace {

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // What a request echoes (a path, a parameter) may not be UTF-8: U+FFFD stands in.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void SendError(httplib::Response& res, const Error& error) {
  SendJson(res, twosms::HttpStatus(error), twosms::ErrorEnvelope(error));
}

nlohmann::json TaskTypeDetail(const TaskType& t) {
  return {{"ID", t.id.ToString()},
          {"Name", t.name},
          {"Handler", t.handler},
          {"TimeoutSeconds", t.timeout_seconds ? nlohmann::json(*t.timeout_seconds) : nullptr},
          {"MaxAttempts", t.max_attempts},
          {"RetryBackoffMs", t.retry_backoff_ms},
          {"CancellationBehaviour", t.cancellation},
          {"BuiltIn", t.builtin}};
}

// A TwoSms route (twosms_routes.h) on cpp-httplib: authenticated with `access`, the request
// handed over with its caller, the {id} path segment taken from match group `id_group` (0:
// the route has none).
template <typename Routes>
httplib::Server::Handler TwoSmsRoute(
    Authenticator& auth, Access access, Routes& routes,
    twosms::HttpAnswer (Routes::*handler)(const twosms::HttpRequest&), std::size_t id_group = 0) {
  return Guarded(
      auth, access,
      [&routes, handler, id_group](const httplib::Request& req, httplib::Response& res,
                                   const Caller& caller) {
        twosms::HttpRequest r{
            req.get_header_value("Content-Type"),
            req.get_header_value("Accept"),
            req.body,
            id_group && req.matches.size() > id_group ? req.matches[id_group].str() : "",
            std::multimap<std::string, std::string>(req.params.begin(), req.params.end()),
            caller};
        auto answer = (routes.*handler)(r);
        res.status = answer.status;
        res.set_content(answer.body, answer.content_type);
      });
}

}  // namespace

struct HttpApi::Impl {
  HttpSettings settings;
  twosms::RequestDecoder decoder;
  JsonSchema task_type_schema;
  TaskTypeCatalog& catalog;
  TaskCommandService& commands;
  TaskReader& reader;
  const Clock& clock;
  twosms::ClientRequestDecoder client_decoder;
  twosms::TaskRoutes twosms_tasks{decoder, commands, reader, clock};
  twosms::ClientRoutes twosms_clients;
  RecordingServer server;  // remembers its routes (routes())
  std::thread thread;
  int bound_port = 0;
  socket_t listen_socket = -1;  // set while binding
  std::shared_ptr<spdlog::logger> log = logging::Get("ingest");
  std::unique_ptr<superoffice::Routes> superoffice;  // its routes (superoffice_routes.h)
  Status setup;                                      // what went wrong building the routes

  Impl(HttpSettings s, twosms::RequestDecoder d, JsonSchema type_schema, TaskTypeCatalog& cat,
       TaskCommandService& c, TaskReader& r, const Clock& k, twosms::ClientRequestDecoder client_d,
       CredentialStore& credentials)
      : settings(std::move(s)),
        decoder(std::move(d)),
        task_type_schema(std::move(type_schema)),
        catalog(cat),
        commands(c),
        reader(r),
        clock(k),
        client_decoder(std::move(client_d)),
        twosms_clients(client_decoder, credentials) {}

  void RegisterTaskType(const httplib::Request& req, httplib::Response& res) {
    auto parsed = ParseJson(req.body, "the request body");
    if (!parsed) return SendError(res, parsed.error());
    auto& j = *parsed;
    if (auto valid = task_type_schema.Validate(j); !valid) return SendError(res, valid.error());
    TaskType t;
    t.name = j["Name"];
    t.handler = j["Handler"];
    if (j.contains("TimeoutSeconds") && j["TimeoutSeconds"].is_number())
      t.timeout_seconds = j["TimeoutSeconds"].get<int>();
    t.max_attempts = j.value("MaxAttempts", 1);
    t.retry_backoff_ms = j.value("RetryBackoffMs", 1000);
    t.cancellation = j.value("CancellationBehaviour", std::string("CanCancel"));
    auto registered = catalog.Register(std::move(t));
    if (!registered) return SendError(res, registered.error());
    log->info("task type {} '{}' registered (handler {})", registered->id.ToString(),
              registered->name, registered->handler);
    SendJson(res, 200, twosms::SuccessEnvelope(TaskTypeDetail(*registered), std::nullopt));
  }

  void ListTaskTypes(httplib::Response& res) {
    auto types = catalog.List();
    if (!types) return SendError(res, types.error());
    auto list = nlohmann::json::array();
    for (const auto& t : *types) list.push_back(TaskTypeDetail(t));
    SendJson(res, 200, twosms::SuccessEnvelope(list, std::nullopt));
  }
};

HttpApi::HttpApi(HttpSettings settings, twosms::RequestDecoder decoder, JsonSchema task_type_schema,
                 TaskTypeCatalog& catalog, TaskCommandService& commands, TaskReader& reader,
                 const Clock& clock, Authenticator& auth, CredentialStore& credentials,
                 twosms::ClientRequestDecoder client_decoder)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(decoder),
                                   std::move(task_type_schema), catalog, commands, reader, clock,
                                   std::move(client_decoder), credentials)) {
  auto& s = impl_->server;
  auto* impl = impl_.get();
  // No anonymous access but to the public routes; the routes below get the Caller (Guarded).
  s.set_pre_routing_handler(RefuseAnonymous(auth));
  RegisterTokenRoute(s, auth);
  using enum Access;
  s.new_task_queue = [threads = impl_->settings.threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  // httplib closes a keep-alive connection after 5 requests unless told otherwise; clients
  // that send many requests would reconnect all the time.
  s.set_keep_alive_max_count(1000);
  // httplib listens with a backlog of 5: a burst of connections overflows it and some clients
  // wait for a SYN retransmission or get no answer. Start() listens again with a larger one.
  s.set_socket_options([impl](socket_t sock) {
    httplib::default_socket_options(sock);
    impl->listen_socket = sock;
  });
  // Answers go out as header and body writes: without TCP_NODELAY, Nagle holds the body back
  // until the client's delayed ACK (40 ms) on a kept-alive connection.
  s.set_tcp_nodelay(true);
  // Over this httplib answers 413 itself; below it, the decoder names the dialect's limit.
  s.set_payload_max_length(twosms::kMaxBodyBytes * 4);
  // TwoSms account tasks, under api/v1 and api/v2 alike, and clients (twosms_routes.h).
  const std::string tasks = R"(/api/(v1|v2)/admin/tasks/account)";
  auto& t = impl_->twosms_tasks;
  s.Post(tasks, TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::Create));
  s.Post(tasks + "/bulk", TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::BulkCreate));
  s.Get(tasks, TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::List));
  s.Get(tasks + "/([^/]+)", TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::Get, 2));
  s.Put(tasks + "/([^/]+)", TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::Update, 2));
  s.Delete(tasks + "/([^/]+)", TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::Delete, 2));
  // Conveyor's scheduling extensions (docs/scheduling.md).
  s.Post(tasks + "/([^/]+)/run", TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::RunNow, 2));
  s.Get(tasks + "/([^/]+)/runs",
        TwoSmsRoute(auth, kAnyCaller, t, &twosms::TaskRoutes::ListRuns, 2));
  const std::string clients = "/api/v1/admin/clients";
  auto& c = impl_->twosms_clients;
  s.Post(clients, TwoSmsRoute(auth, kAdminOnly, c, &twosms::ClientRoutes::Create));
  s.Get(clients, TwoSmsRoute(auth, kAdminOnly, c, &twosms::ClientRoutes::List));
  s.Get(clients + "/([^/]+)", TwoSmsRoute(auth, kAdminOnly, c, &twosms::ClientRoutes::Get, 1));
  s.Post("/api/v1/admin/tasktypes",
         Guarded(auth, kAdminOnly,
                 [impl](const httplib::Request& req, httplib::Response& res, const Caller&) {
                   impl->RegisterTaskType(req, res);
                 }));
  // Clients may read the catalogue: they need its ids (TaskID) to create tasks.
  s.Get("/api/v1/admin/tasktypes", Guarded(auth, kAnyCaller,
                                           [impl](const httplib::Request&, httplib::Response& res,
                                                  const Caller&) { impl->ListTaskTypes(res); }));
  // SuperOffice batch agent and REST routes (superoffice_routes.h), each authenticated.
  if (auto so = superoffice::Routes::Create(catalog, commands, reader); so) {
    impl_->superoffice = std::move(*so);
    impl_->superoffice->Register(s, [&auth](superoffice::Routes::Handler handler) {
      return Guarded(auth, kAnyCaller, std::move(handler));
    });
  } else {
    impl_->setup = std::unexpected(so.error());
  }
  // Oracle B2C Service tasks (oracle_routes.h), each authenticated.
  RegisterOracleRoutes(s, catalog, commands, reader, [&auth](OracleHandler handler) {
    return Guarded(auth, kAnyCaller, std::move(handler));
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"status", "ok"}});
  });
  // The OpenAPI document of these routes (openapi.h), public like /healthz (IsPublicRoute).
  if (auto doc = openapi::ServedDocument(); doc)
    s.Get("/openapi.json", [text = doc->dump()](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_content(text, "application/json; charset=utf-8");
    });
  else
    impl_->setup = std::unexpected(doc.error());
  s.set_exception_handler(
      [impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        impl->log->error("{} {} failed: {}", req.method, req.path, what);
        SendError(res, MakeError(ErrorCode::kInternal, "internal error; see the producer's log"));
      });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404)
      SendJson(res, 404, twosms::ErrorEnvelope(MakeError(ErrorCode::kNotFound, "no such route")));
    else if (res.status == 413)
      SendJson(res, 413,
               twosms::ErrorEnvelope(MakeError(
                   ErrorCode::kTooLarge, "the request body is over the limit of " +
                                             std::to_string(twosms::kMaxBodyBytes) + " bytes")));
  });
}

HttpApi::~HttpApi() { Stop(); }

Status HttpApi::Start() {
  if (!impl_->setup) return impl_->setup;
  auto& s = impl_->server;
  if (impl_->settings.port == 0) {
    impl_->bound_port = s.bind_to_any_port(impl_->settings.host);
    if (impl_->bound_port < 0)
      return Fail(ErrorCode::kUnavailable, "cannot bind to " + impl_->settings.host);
  } else {
    if (!s.bind_to_port(impl_->settings.host, impl_->settings.port))
      return Fail(ErrorCode::kUnavailable, "cannot bind to " + impl_->settings.host + ":" +
                                               std::to_string(impl_->settings.port));
    impl_->bound_port = impl_->settings.port;
  }
  // On Linux, listen() on a listening socket sets its backlog anew.
  if (impl_->listen_socket >= 0 && ::listen(impl_->listen_socket, SOMAXCONN) != 0)
    impl_->log->warn("could not raise the listen backlog; bursts of connections may wait");
  // bind_to_port already listens: connections queue until the thread accepts them.
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  impl_->log->info("listening on http://{}:{}", impl_->settings.host, impl_->bound_port);
  return {};
}

void HttpApi::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

int HttpApi::port() const { return impl_->bound_port; }

std::vector<RegisteredRoute> HttpApi::routes() const { return impl_->server.routes(); }

}  // namespace conveyor

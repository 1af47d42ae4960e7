#include "http/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <optional>
#include <thread>

#include "conveyor/logging.h"
#include "http/console.h"
#include "http/openapi.h"
#include "http/router.h"
#include "http/token_route.h"

namespace conveyor::http {
namespace {

// An HTTPS server when the settings name a certificate and key, else a plain one.
std::unique_ptr<httplib::Server> MakeServer(const ServerSettings& settings) {
  if (!settings.tls()) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(settings.tls_cert.c_str(), settings.tls_key.c_str());
}

Request RequestOf(const httplib::Request& req) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  r.params.insert(req.params.begin(), req.params.end());
  r.headers.assign(req.headers.begin(), req.headers.end());
  r.body = req.body;
  r.remote_address = req.remote_addr;
  return r;
}

void Write(const Answer& answer, httplib::Response& res) {
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers) res.set_header(name, value);
  if (!answer.body.empty() || !answer.content_type.empty())
    res.set_content(answer.body, answer.content_type);
}

Answer AnswerOf(const StatusAnswer& a) { return {a.status, a.content_type, a.body, {}}; }

}  // namespace

std::vector<Route> ServerRoutes(Authenticator& auth, ApiDocuments documents,
                                const StatusEndpoints& status) {
  std::vector<Route> routes = {
      {"GET", "/healthz", Access::kPublic,
       [](const Request&, Answer& res) { res = AnswerOf(HealthAnswer()); }},
      {"GET", "/readyz", Access::kPublic,
       [readiness = status.readiness](const Request&, Answer& res) {
         res = AnswerOf(ReadyAnswer(readiness));
       }},
      {"GET", "/metrics", Access::kPublic,
       [metrics = status.metrics](const Request&, Answer& res) {
         res = AnswerOf(MetricsAnswer(metrics));
       }},
      {"GET", "/openapi.json", Access::kPublic,
       [openapi = std::move(documents.openapi)](const Request&, Answer& res) {
         res = {200, "application/json; charset=utf-8", openapi, {}};
       }},
      {"GET", "/asyncapi.json", Access::kPublic,
       [asyncapi = std::move(documents.asyncapi)](const Request&, Answer& res) {
         res = {200, "application/json; charset=utf-8", asyncapi, {}};
       }},
      TokenRoute(auth),
      RevokeRoute(auth)};
  for (auto& route : ConsoleRoutes()) routes.push_back(std::move(route));
  return routes;
}

struct HttpServer::Impl {
  ServerSettings settings;
  std::vector<Dialect*> dialects;
  Dialect& fallback;
  Authenticator& auth;
  StatusEndpoints status;
  RequestMetrics* metrics;
  IdempotencyStore* idempotency;
  std::optional<Router> router;  // built by Start, with the OpenAPI document
  std::unique_ptr<httplib::Server> owned = MakeServer(settings);
  httplib::Server& server = *owned;
  std::thread thread;
  int bound_port = 0;
  socket_t listen_socket = -1;  // set while binding
  std::shared_ptr<spdlog::logger> log = logging::Get("ingest");

  Impl(ServerSettings s, std::vector<Dialect*> d, Dialect& f, Authenticator& a, StatusEndpoints e,
       RequestMetrics* m, IdempotencyStore* i)
      : settings(std::move(s)),
        dialects(std::move(d)),
        fallback(f),
        auth(a),
        status(std::move(e)),
        metrics(m),
        idempotency(i) {}
  void Configure();
  Status Bind();
  Answer Refuse(const httplib::Request& req, const Error& error) const {
    return router->Refuse(RequestOf(req), error);
  }
};

void HttpServer::Impl::Configure() {
  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    Write(router->Handle(RequestOf(req)), res);
  };
  // Every path of every method goes to the router (a GET route also answers HEAD). Not ".*":
  // ECMAScript's '.' stops at a line break, and a decoded path may hold one ("%0D").
  const std::string any = "[\\s\\S]*";
  server.Get(any, serve).Post(any, serve).Put(any, serve).Patch(any, serve);
  server.Delete(any, serve).Options(any, serve);
  server.new_task_queue = [threads = settings.threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  // httplib closes a keep-alive connection after 5 requests unless told otherwise; clients
  // that send many requests would reconnect all the time.
  server.set_keep_alive_max_count(1000);
  // Not httplib's default SO_REUSEPORT: a second producer on the same port must fail to
  // start, not take half of the first one's connections.
  // httplib listens with a backlog of 5: a burst of connections overflows it and some clients
  // wait for a SYN retransmission or get no answer. Bind() listens again with a larger one.
  server.set_socket_options([this](socket_t sock) {
    ExclusiveListenOptions(sock);
    listen_socket = sock;
  });
  // Answers go out as header and body writes: without TCP_NODELAY, Nagle holds the body back
  // until the client's delayed ACK (40 ms) on a kept-alive connection.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(settings.max_body_bytes);
  server.set_exception_handler([this](const httplib::Request& req, httplib::Response& res,
                                      std::exception_ptr) {
    log->error("{} {} failed outside its route", req.method, req.path);
    Write(Refuse(req, MakeError(ErrorCode::kInternal, "internal error; see the producer's log")),
          res);
  });
  // What httplib refuses itself (a body over the limit; a method it has no handler for).
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413)
      Write(Refuse(req, MakeError(ErrorCode::kTooLarge,
                                  "the request body is over the limit of " +
                                      std::to_string(settings.max_body_bytes) + " bytes")),
            res);
    else if (res.status == 404)
      Write(Refuse(req, MakeError(ErrorCode::kNotFound, "no such route")), res);
  });
}

Status HttpServer::Impl::Bind() {
  if (settings.port == 0) {
    bound_port = server.bind_to_any_port(settings.host);
    if (bound_port < 0) return Fail(ErrorCode::kUnavailable, "cannot bind to " + settings.host);
  } else {
    if (!server.bind_to_port(settings.host, settings.port))
      return Fail(ErrorCode::kUnavailable,
                  "cannot bind to " + settings.host + ":" + std::to_string(settings.port));
    bound_port = settings.port;
  }
  // On Linux, listen() on a listening socket sets its backlog anew.
  if (listen_socket >= 0 && ::listen(listen_socket, SOMAXCONN) != 0)
    log->warn("could not raise the listen backlog; bursts of connections may wait");
  return {};
}

HttpServer::HttpServer(ServerSettings settings, std::vector<Dialect*> dialects, Dialect& fallback,
                       Authenticator& auth, StatusEndpoints status, RequestMetrics* metrics,
                       IdempotencyStore* idempotency)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(dialects), fallback, auth,
                                   std::move(status), metrics, idempotency)) {
  impl_->Configure();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  auto openapi = openapi::ServedDocument();
  if (!openapi) return std::unexpected(openapi.error());
  auto asyncapi = openapi::AsyncApiDocument();
  if (!asyncapi) return std::unexpected(asyncapi.error());
  impl_->router.emplace(
      impl_->auth, impl_->dialects, impl_->fallback,
      ServerRoutes(impl_->auth, {openapi->dump(), asyncapi->dump()}, impl_->status), impl_->metrics,
      impl_->idempotency);
  if (!impl_->server.is_valid())
    return Fail(ErrorCode::kInvalidArgument,
                "cannot serve HTTPS with --tls-cert " + impl_->settings.tls_cert +
                    " and --tls-key " + impl_->settings.tls_key +
                    ": a file is missing or unreadable, is not PEM, or the key does not match the "
                    "certificate");
  if (auto bound = impl_->Bind(); !bound) return bound;
  // bind_to_port already listens: connections queue until the thread accepts them.
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  impl_->log->info("listening on {}://{}:{}", impl_->settings.tls() ? "https" : "http",
                   impl_->settings.host, impl_->bound_port);
  return {};
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

int HttpServer::port() const { return impl_->bound_port; }

}  // namespace conveyor::http

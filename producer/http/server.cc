#include "http/server.h"

#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <optional>
#include <thread>

#include "conveyor/logging.h"
#include "http/connections.h"
#include "http/console.h"
#include "http/openapi.h"
#include "http/router.h"
#include "http/token_route.h"

namespace conveyor::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Answer AnswerOf(const StatusAnswer& a) { return {a.status, a.content_type, a.body, {}}; }

// A TLS 1.2+ server context with the certificate chain and key of `settings`.
Result<std::unique_ptr<asio::ssl::context>> TlsContext(const ServerSettings& settings) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  try {
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    context->use_certificate_chain_file(settings.tls_cert);
    context->use_private_key_file(settings.tls_key, asio::ssl::context::pem);
    if (SSL_CTX_check_private_key(context->native_handle()) != 1)
      throw std::runtime_error("the key does not match the certificate");
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot serve HTTPS with --tls-cert " + settings.tls_cert + " and --tls-key " +
                    settings.tls_key + " (" + e.what() +
                    "): a file is missing or unreadable, is not PEM, or the key does not match "
                    "the certificate");
  }
  return context;
}

// Each connection holds a descriptor: raises the soft limit on open files towards the hard
// one when max_connections would not fit under it.
void RaiseOpenFileLimit(std::size_t connections, spdlog::logger& log) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = connections + 256;  // and the broker's, PostgreSQL's, the logs'
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < wanted)
    log.warn(
        "open files are limited to {} (ulimit -n); fewer than the {} connections allowed "
        "fit: new ones wait while the process is at the limit",
        limit.rlim_cur, connections);
}

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
  std::shared_ptr<spdlog::logger> log = logging::Get("ingest");
  // Built by Start; declared before the I/O context, whose queued work (the connections)
  // refers to them and is destroyed with it.
  std::optional<Router> router;
  std::unique_ptr<asio::ssl::context> tls;
  std::optional<asio::thread_pool> handlers;
  std::optional<Connections> connections;
  asio::io_context io;
  // Until Stop has joined the handlers: a route's answer is posted to the I/O threads when it
  // ends, and no pending operation of its connection keeps them running meanwhile.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // The acceptor's own strand: with several I/O threads, Stop's close and the accept loop
  // never run at once.
  asio::strand<asio::io_context::executor_type> accepting = asio::make_strand(io);
  tcp::acceptor acceptor{accepting};
  asio::steady_timer accept_retry{accepting};
  std::vector<std::thread> threads;
  int bound_port = 0;

  Impl(ServerSettings s, std::vector<Dialect*> d, Dialect& f, Authenticator& a, StatusEndpoints e,
       RequestMetrics* m, IdempotencyStore* i)
      : settings(std::move(s)),
        dialects(std::move(d)),
        fallback(f),
        auth(a),
        status(std::move(e)),
        metrics(m),
        idempotency(i),
        io(settings.io_threads) {}
  Status Bind();
  void Accept();
  void Run();
};

// One I/O thread. What throws in a handler (a bug) is logged and that handler dropped; the
// thread goes on serving the other connections.
void HttpServer::Impl::Run() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log->error("an HTTP connection failed: {}", e.what());
    }
  }
}

Status HttpServer::Impl::Bind() {
  const std::string where = settings.host + ":" + std::to_string(settings.port);
  boost::system::error_code ec;
  auto found =
      tcp::resolver(io).resolve(settings.host, std::to_string(settings.port),
                                tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || found.empty())
    return Fail(ErrorCode::kUnavailable, "cannot bind to " + where + ": " + ec.message());
  auto endpoint = found.begin()->endpoint();
  // SO_REUSEADDR, never SO_REUSEPORT: a second producer on the same port must fail to start,
  // not take half of the first one's connections.
  if (!acceptor.open(endpoint.protocol(), ec))
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "cannot bind to " + where + ": " + ec.message());
  bound_port = acceptor.local_endpoint().port();
  return {};
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(
      asio::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;  // stopping
        if (!ec) {
          connections->Serve(std::move(socket));
          return Accept();
        }
        // Out of descriptors (or memory): new connections wait in the backlog for a moment
        // instead of the loop spinning on the error.
        log->warn("cannot accept a connection: {}; trying again in 100 ms", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](boost::system::error_code e) {
          if (!e) Accept();
        });
      });
}

HttpServer::HttpServer(ServerSettings settings, std::vector<Dialect*> dialects, Dialect& fallback,
                       Authenticator& auth, StatusEndpoints status, RequestMetrics* metrics,
                       IdempotencyStore* idempotency)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(dialects), fallback, auth,
                                   std::move(status), metrics, idempotency)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  auto& i = *impl_;
  auto openapi = openapi::ServedDocument();
  if (!openapi) return std::unexpected(openapi.error());
  auto asyncapi = openapi::AsyncApiDocument();
  if (!asyncapi) return std::unexpected(asyncapi.error());
  i.handlers.emplace(static_cast<std::size_t>(i.settings.threads));
  i.router.emplace(
      i.auth, i.dialects, i.fallback,
      ServerRoutes(i.auth, {openapi->dump(), asyncapi->dump()}, i.status), i.metrics, i.idempotency,
      [&pool = *i.handlers](std::function<void()> resume) { asio::post(pool, std::move(resume)); });
  if (i.settings.tls()) {
    auto tls = TlsContext(i.settings);
    if (!tls) return std::unexpected(tls.error());
    i.tls = std::move(*tls);
  }
  if (auto bound = i.Bind(); !bound) return bound;
  RaiseOpenFileLimit(2 * i.settings.max_connections, *i.log);  // over the limit: refused
  i.connections.emplace(i.settings, *i.router, *i.handlers, i.tls.get(), i.metrics);
  i.work.emplace(i.io.get_executor());
  i.Accept();
  for (int t = 0; t < i.settings.io_threads; ++t) i.threads.emplace_back([&i] { i.Run(); });
  i.log->info("listening on {}://{}:{}", i.settings.tls() ? "https" : "http", i.settings.host,
              i.bound_port);
  return {};
}

void HttpServer::Stop() {
  if (!impl_ || impl_->threads.empty()) return;
  auto& i = *impl_;
  asio::post(i.accepting, [&i] {
    boost::system::error_code ignored;
    i.acceptor.close(ignored);
    i.accept_retry.cancel();
  });
  i.connections->Drain();
  if (!i.connections->WaitClosed(std::chrono::steady_clock::now() + i.settings.drain_timeout))
    i.log->warn("{} connections still open after {} ms; closing them", i.connections->open(),
                i.settings.drain_timeout.count());
  i.router->Close();   // an answer Kafka gives later is dropped
  i.handlers->join();  // a request still in a route finishes
  i.work.reset();
  i.io.stop();
  for (auto& t : i.threads) t.join();
  i.threads.clear();
}

int HttpServer::port() const { return impl_->bound_port; }

}  // namespace conveyor::http

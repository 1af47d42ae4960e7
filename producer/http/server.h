// The producer's HTTP server: the one place that knows the server library (cpp-httplib). It
// reads each request into a plain Request, hands it to the Router (router.h: the route, the
// credentials, the handler, every refusal in the owning dialect's shape) and writes back the
// Answer. Besides the dialects' routes it serves its own:
//   GET  /healthz       liveness                                   (public)
//   GET  /readyz        readiness: PostgreSQL and Kafka reachable  (public; 503 names the cause)
//   GET  /metrics       Prometheus text format                     (public)
//   GET  /openapi.json  the OpenAPI 3.1 document of every route     (public; http/openapi.h)
//   GET  /asyncapi.json the AsyncAPI 3.0 document of the topics     (public; http/openapi.h)
//   POST /Token         OAuth 2.0 client credentials                (public; token_route.h)
// A body over the limit is refused before any route (413, in the owning dialect's shape).
//
// With ServerSettings::tls() it serves HTTPS only, with the certificate and key it was given
// (TLS 1.2 at least, as the library sets it up; a plain HTTP request gets no answer).
//
// HttpServer owns the server and its thread pool. Start binds and serves on a background
// thread and returns once the socket listens (or the bind error); Stop stops accepting,
// finishes the requests in flight and joins. Handlers run on the pool's threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "conveyor/result.h"
#include "conveyor/status_server.h"
#include "http/dialect.h"
#include "http/idempotency.h"
#include "http/request_metrics.h"

namespace conveyor::http {

struct ServerSettings {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port (tests)
  int threads = 16;
  // Over this the server answers 413 itself; below it, each dialect names its own limit.
  std::size_t max_body_bytes = 4 << 20;
  // PEM files: with both, the server speaks HTTPS only (OpenSSL); with neither, plain HTTP.
  std::string tls_cert, tls_key;
  bool tls() const { return !tls_cert.empty(); }
};

// The documents /openapi.json and /asyncapi.json serve, as JSON text.
struct ApiDocuments {
  std::string openapi = "{}";
  std::string asyncapi = "{}";
};

// The server's own routes (the public ones above), serving `documents`; /readyz and /metrics
// answer as the worker's StatusServer does (conveyor/status_server.h).
std::vector<Route> ServerRoutes(Authenticator& auth, ApiDocuments documents,
                                const StatusEndpoints& status);

class HttpServer {
 public:
  // Serves the routes of `dialects` in their order, then ServerRoutes; `fallback` (one of the
  // dialects) answers failures on paths that no dialect owns. The dialects and the
  // Authenticator, what `status` points to, `metrics` (may be null: requests are not
  // counted) and `idempotency` (may be null: Idempotency-Key is ignored) must outlive the
  // server.
  HttpServer(ServerSettings settings, std::vector<Dialect*> dialects, Dialect& fallback,
             Authenticator& auth, StatusEndpoints status = {}, RequestMetrics* metrics = nullptr,
             IdempotencyStore* idempotency = nullptr);
  ~HttpServer();

  // Binds and serves; kInternal when the OpenAPI document cannot be built (a build defect),
  // kInvalidArgument when the certificate or key cannot be loaded, kUnavailable when the
  // address cannot be bound.
  Status Start();
  void Stop();
  int port() const;  // the bound port, after Start

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::http

// The producer's HTTP server, on Boost.Beast and Boost.Asio: it accepts connections on a few
// I/O threads (http/connections.h reads and writes them without blocking), hands each request
// as a plain Request to the Router (router.h: the route, the credentials, the handler, every
// refusal in the owning dialect's shape) on a pool of handler threads, and writes back the
// Answer. A deferred route (a create) hands its work to Kafka and frees its thread; the thread
// that finishes the work gives the answer to the connection (under an Idempotency-Key, through
// the pool, which records the key's answer). Besides the dialects' routes it serves its
// own:
//   GET  /healthz       liveness                                   (public)
//   GET  /readyz        readiness: PostgreSQL and Kafka reachable  (public; 503 names the cause)
//   GET  /metrics       Prometheus text format                     (public)
//   GET  /openapi.json  the OpenAPI 3.1 document of every route     (public; http/openapi.h)
//   GET  /asyncapi.json the AsyncAPI 3.0 document of the topics     (public; http/openapi.h)
//   POST /Token         OAuth 2.0 client credentials                (public; token_route.h)
// Limits and timeouts (ServerSettings) are enforced by http/connections.h, each refusal in the
// owning dialect's shape.
//
// With ServerSettings::tls() it serves HTTPS only (OpenSSL, TLS 1.2 at least), with the
// certificate and key it was given; a plain HTTP request gets no answer.
//
// Start binds and serves on background threads and returns once the socket listens (or the
// bind error). Stop stops accepting, closes idle connections, lets the requests being
// answered finish (for up to drain_timeout; a deferred answer later than that is dropped) and
// joins.
#pragma once

#include <chrono>
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
  int port = 8080;     // 0 picks a free port (tests)
  int threads = 16;    // handler threads: requests whose routes run at once (deferred: until
                       // handed on)
  int io_threads = 1;  // threads that accept, read and write connections
  // Over this the server answers 413 itself; below it, each dialect names its own limit.
  std::size_t max_body_bytes = 4 << 20;
  std::size_t max_header_bytes = 16 << 10;  // the request line and header fields; over: 431
  std::size_t max_connections = 4096;       // open at once; over: 503 with Retry-After
  std::size_t max_queued = 1024;            // requests not yet answered; over: 503
  std::chrono::milliseconds header_timeout{10'000};  // from a connection's start (and TLS)
  std::chrono::milliseconds body_timeout{30'000};    // from the header's end
  std::chrono::milliseconds idle_timeout{60'000};    // a kept-alive connection between requests
  std::chrono::milliseconds write_timeout{30'000};   // for the client to take an answer
  std::chrono::milliseconds drain_timeout{15'000};   // Stop waits this long for answers
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

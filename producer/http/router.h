// The producer's request pipeline without the network: which route answers a request, who may
// call it, and the answer. The server (server.h) hands it every request as a plain Request and
// writes back the Answer; unit tests and fuzz targets call Handle directly.
//
// For each request, in order (under the request's trace: its `traceparent` header, or a new
// trace, current on the handling thread and named in the answer's `traceparent`;
// conveyor/trace_context.h):
//   1. the route: the first whose method matches (HEAD matches GET) and whose pattern matches
//      the whole path; its groups become Request::path_params;
//   2. credentials: a public route admits everyone; any other request, a route or not, must
//      carry valid credentials (401 otherwise, so that no route is left open by mistake and
//      an unknown path tells nothing to a stranger), and an admin-only route an admin key (403);
//   3. no route: 404; else the handler, whose exception is a 500. A route that creates tasks
//      (Route::creates) and a request with an Idempotency-Key go through the key's claim
//      first (http/idempotency.h): replayed, refused, or run under the key's id.
// Every refusal is rendered by the dialect that owns the path (Guard::OwnerOf).
//
// A deferred route (Route::deferred) answers later, from the thread that finished its work (a
// create: once Kafka acknowledged it and it was recorded). What follows its answer runs there
// too (metrics, the hand-over to the connection), unless it may block: the record of an
// Idempotency-Key's answer runs where `resume` puts it, the server's handler pool.
//
// Built once, then only read: thread-safe. The dialects and the Authenticator must outlive it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <regex>
#include <shared_mutex>
#include <vector>

#include "auth/auth.h"
#include "http/dialect.h"
#include "http/guard.h"
#include "http/idempotency.h"
#include "http/request_metrics.h"

namespace conveyor::http {

class Router {
 public:
  // The routes of `dialects` in their order, then `own_routes` (the server's: /healthz, ...).
  // `fallback` (one of the dialects) renders refusals on paths no dialect owns. `metrics`
  // (may be null: nothing is counted) must outlive the router.
  // Runs a deferred route's continuation elsewhere; null: on the thread that answered.
  using Resume = std::function<void(std::function<void()>)>;

  Router(Authenticator& auth, std::vector<Dialect*> dialects, const Dialect& fallback,
         std::vector<Route> own_routes, RequestMetrics* metrics = nullptr,
         IdempotencyStore* idempotency = nullptr, Resume resume = nullptr);

  // Answers `request` through `reply`: before it returns, or later for a deferred route.
  void Handle(Request request, Reply reply) const;
  // The same, waiting for the answer (unit tests, fuzz targets).
  Answer Handle(Request request) const;
  // From now on a deferred route's late answer is dropped, not resumed (the server stopped
  // and its pool is gone). Waits for answers being resumed.
  void Close();

  // The route `method` `path` reaches, or nullptr; `path_params` (when given) gets its groups.
  const Route* Match(std::string_view method, const std::string& path,
                     std::vector<std::string>* path_params = nullptr) const;

  // `error` as the owner of `request`'s path renders it (a failure outside any route).
  Answer Refuse(const Request& request, const Error& error) const;

  // Every route, in the order they are tried.
  std::vector<Route> routes() const;

 private:
  struct Compiled {
    Route route;
    std::regex pattern;
    std::string dialect;  // the owner's name ("server" for the server's own), for metrics
    std::string label;    // RouteLabel(route.pattern), for metrics
  };

  const Compiled* Find(std::string_view method, const std::string& path,
                       std::vector<std::string>* path_params) const;
  void Measured(Request request, Reply reply) const;  // Respond, counted in metrics_
  void Respond(const Compiled* route, Request request, Reply reply) const;
  void Run(const Route& route, Request request, Reply reply) const;
  // Run, under the claim of the request's Idempotency-Key.
  void RunIdempotent(const Route& route, Request request, Reply reply) const;
  // `reply` for a deferred route's answer (PendingReply): sent once, dropped after Close, 500
  // when the route's work ends without one; continued through resume_ when what follows may
  // block (`blocking`), else on the thread that answered.
  Reply Once(std::shared_ptr<const Request> request, Reply reply, bool blocking) const;
  // A 500 for `request` whose route failed with `failure`, logged.
  Answer InternalError(const Request& request, const std::string& failure) const;

  // Whether the server still takes late answers; shared with the replies in flight.
  struct Liveness {
    std::shared_mutex mutex;
    bool open = true;
  };
  struct PendingReply;

  Guard guard_;
  std::vector<Compiled> routes_;
  RequestMetrics* metrics_;
  IdempotencyStore* idempotency_;
  Resume resume_;
  std::shared_ptr<Liveness> liveness_ = std::make_shared<Liveness>();
};

}  // namespace conveyor::http

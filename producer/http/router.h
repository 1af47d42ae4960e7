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
// Built once, then only read: thread-safe. The dialects and the Authenticator must outlive it.
#pragma once

#include <regex>
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
  Router(Authenticator& auth, std::vector<Dialect*> dialects, const Dialect& fallback,
         std::vector<Route> own_routes, RequestMetrics* metrics = nullptr,
         IdempotencyStore* idempotency = nullptr);

  Answer Handle(Request request) const;

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
  Answer Measured(Request request) const;  // Respond, counted in metrics_
  Answer Respond(const Compiled* route, Request request) const;
  Answer Run(const Route& route, const Request& request) const;
  // Run, under the claim of the request's Idempotency-Key.
  Answer RunIdempotent(const Route& route, Request request) const;

  Guard guard_;
  std::vector<Compiled> routes_;
  RequestMetrics* metrics_;
  IdempotencyStore* idempotency_;
};

}  // namespace conveyor::http

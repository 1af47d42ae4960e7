// One API dialect the producer speaks (TwoSms, SuperOffice, Oracle B2C Service): one
// implementation of this interface each, under dialects/<name>/, registered with the server
// the same way (main.cc). A dialect declares
//   - its routes: method, path pattern, who may call (Access), and the handler, a function of
//     a plain Request (message.h) that fills an Answer, so that every route is unit-testable;
//   - the paths it owns (Prefixes): a failure on one of them that no route answered (no or bad
//     credentials, a client on an admin route, a route that threw) is rendered by this dialect;
//   - how it renders an error (ErrorAnswer), in its own body shape.
// The Router and its Guard (router.h, guard.h) ask the dialect; they never guess a dialect
// from a path themselves.
//
// A dialect is built once (its Create checks its embedded schemas: a broken one stops the
// producer at start, naming the schema) and then only read: its handlers are called from many
// threads at once and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/result.h"
#include "http/message.h"

namespace conveyor::http {

// Who may call a route: anyone (no credentials; GET /healthz, POST /Token), any caller with
// valid credentials (a client or an admin key), or admin keys only (403 for a client).
enum class Access { kPublic, kAnyCaller, kAdminOnly };

// Fills `answer` for `request` (request.caller set by the guard unless the route is public).
using Handler = std::function<void(const Request& request, Answer& answer)>;

// Takes a route's answer; called once, from any thread.
using Reply = std::function<void(Answer answer)>;
// A handler that answers later: it returns as soon as it has handed its work on (a create, to
// Kafka), and that work calls `reply`, so that no thread waits for the broker meanwhile.
// `request` lives until then. What it throws before it returns is a 500, as for a Handler;
// once it has handed `reply` on, it must not throw.
using DeferredHandler = std::function<void(std::shared_ptr<const Request> request, Reply reply)>;

struct Route {
  std::string method;   // "GET", "POST", "PUT", "PATCH" or "DELETE"
  std::string pattern;  // a regular expression the whole path must match; groups: path_params
  Access access = Access::kAnyCaller;
  Handler handler{};           // either this,
  DeferredHandler deferred{};  // or this (routes that wait for Kafka)
  // It creates tasks: an Idempotency-Key makes it idempotent (http/idempotency.h), and its
  // handler passes Request::idempotency on to TaskCommandService::Create.
  bool creates = false;
};

// `route`, marked as one that creates tasks.
inline Route Creates(Route route) {
  route.creates = true;
  return route;
}

class Dialect {
 public:
  virtual ~Dialect() = default;
  // A short name for logs ("twosms").
  virtual std::string_view Name() const = 0;
  // Path prefixes it owns ("/services/rest/"); the longest matching prefix wins.
  virtual std::vector<std::string> Prefixes() const = 0;
  // Its routes, in the order they are tried.
  virtual std::vector<Route> Routes() = 0;
  // `error` as this dialect answers it: the status its code maps to and its error body.
  // (The server adds WWW-Authenticate to a 401.)
  virtual Answer ErrorAnswer(const Request& request, const Error& error) const = 0;
};

}  // namespace conveyor::http

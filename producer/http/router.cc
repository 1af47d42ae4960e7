#include "http/router.h"

#include <chrono>

#include "conveyor/logging.h"
#include "conveyor/trace_context.h"

namespace conveyor::http {

Router::Router(Authenticator& auth, std::vector<Dialect*> dialects, const Dialect& fallback,
               std::vector<Route> own_routes, RequestMetrics* metrics,
               IdempotencyStore* idempotency)
    : guard_(auth, {dialects.begin(), dialects.end()}, fallback),
      metrics_(metrics),
      idempotency_(idempotency) {
  auto add = [this](Route r, std::string_view owner) {
    auto label = RouteLabel(r.pattern);
    std::regex pattern(r.pattern);
    routes_.push_back({std::move(r), std::move(pattern), std::string(owner), std::move(label)});
  };
  for (auto* d : dialects)
    for (auto& r : d->Routes()) add(std::move(r), d->Name());
  for (auto& r : own_routes) add(std::move(r), "server");
}

const Router::Compiled* Router::Find(std::string_view method, const std::string& path,
                                     std::vector<std::string>* path_params) const {
  if (method == "HEAD") method = "GET";
  std::smatch groups;
  for (const auto& c : routes_) {
    if (c.route.method != method || !std::regex_match(path, groups, c.pattern)) continue;
    if (path_params) {
      path_params->clear();
      for (std::size_t i = 1; i < groups.size(); ++i) path_params->push_back(groups[i].str());
    }
    return &c;
  }
  return nullptr;
}

const Route* Router::Match(std::string_view method, const std::string& path,
                           std::vector<std::string>* path_params) const {
  const auto* c = Find(method, path, path_params);
  return c ? &c->route : nullptr;
}

Answer Router::Handle(Request request) const {
  // The request's trace, or a new one: what its commands (and their runs) carry, and what the
  // answer names, so that a caller who sent none learns it.
  auto received = ParseTraceparent(request.Header("traceparent"));
  ScopedTrace trace(received ? NextHop(*received) : NewTrace());
  auto answer = Measured(std::move(request));
  answer.headers.emplace_back("traceparent", CurrentTrace()->ToTraceparent());
  return answer;
}

Answer Router::Measured(Request request) const {
  auto start = std::chrono::steady_clock::now();
  const auto* route = Find(request.method, request.path, &request.path_params);
  if (!metrics_) return Respond(route, std::move(request));
  auto dialect = route ? route->dialect : std::string(guard_.OwnerOf(request.path).Name());
  auto answer = Respond(route, std::move(request));
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  metrics_->Observe(dialect, route ? route->label : "none", answer.status, took.count());
  return answer;
}

Answer Router::Respond(const Compiled* route, Request request) const {
  auto access = route ? route->route.access : Access::kAnyCaller;
  if (auto refused = guard_.Admit(request, access)) return *refused;
  if (!route) return Refuse(request, MakeError(ErrorCode::kNotFound, "no such route"));
  if (route->route.creates && idempotency_ && request.HasHeader(kIdempotencyKeyHeader))
    return RunIdempotent(route->route, std::move(request));
  return Run(route->route, request);
}

Answer Router::RunIdempotent(const Route& route, Request request) const {
  auto key = request.Header(kIdempotencyKeyHeader);
  if (auto s = CheckIdempotencyKey(key); !s) return Refuse(request, s.error());
  auto caller = request.caller.Identity();
  auto claim = idempotency_->Claim(caller, key, RequestFingerprint(request));
  if (!claim) return Refuse(request, claim.error());
  using Outcome = IdempotencyClaim::Outcome;
  if (claim->outcome == Outcome::kAnswered) {
    claim->answer->SetHeader("Idempotent-Replayed", "true");
    return *claim->answer;
  }
  if (claim->outcome == Outcome::kMismatch)
    return Refuse(request, MakeError(ErrorCode::kInvalidArgument,
                                     "'" + key +
                                         "' was used with another request (method, path, query, "
                                         "Content-Type or body); send a new key with a new "
                                         "request",
                                     kIdempotencyKeyHeader));
  if (claim->outcome == Outcome::kInProgress) {
    Error busy = MakeError(ErrorCode::kFailedPrecondition,
                           "a request with this key is still being answered; try again in a "
                           "moment",
                           kIdempotencyKeyHeader);
    busy.retry_after = std::chrono::seconds(1);
    return Refuse(request, busy);
  }
  request.idempotency = claim->create;
  auto answer = Run(route, request);
  if (auto s = idempotency_->Finish(caller, key, claim->claim_id, answer); !s)
    logging::Get("ingest")->warn("the answer to Idempotency-Key '{}' of {} was not kept: {}", key,
                                 caller, s.error().Describe());
  return answer;
}

Answer Router::Run(const Route& route, const Request& request) const {
  Answer answer;
  std::string failure;
  try {
    route.handler(request, answer);
    return answer;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception that is not a std::exception";
  }
  logging::Get("ingest")->error("{} {} failed: {}", request.method, request.path, failure);
  return Refuse(request, MakeError(ErrorCode::kInternal, "internal error; see the producer's log"));
}

Answer Router::Refuse(const Request& request, const Error& error) const {
  return guard_.Refuse(request, error);
}

std::vector<Route> Router::routes() const {
  std::vector<Route> out;
  for (const auto& c : routes_) out.push_back(c.route);
  return out;
}

}  // namespace conveyor::http

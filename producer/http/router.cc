#include "http/router.h"

#include <chrono>
#include <future>

#include "conveyor/logging.h"
#include "conveyor/trace_context.h"

namespace conveyor::http {

Router::Router(Authenticator& auth, std::vector<Dialect*> dialects, const Dialect& fallback,
               std::vector<Route> own_routes, RequestMetrics* metrics,
               IdempotencyStore* idempotency, Resume resume)
    : guard_(auth, {dialects.begin(), dialects.end()}, fallback),
      metrics_(metrics),
      idempotency_(idempotency),
      resume_(std::move(resume)) {
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

void Router::Handle(Request request, Reply reply) const {
  // The request's trace, or a new one: what its commands (and their runs) carry, and what the
  // answer names, so that a caller who sent none learns it.
  auto received = ParseTraceparent(request.Header("traceparent"));
  ScopedTrace trace(received ? NextHop(*received) : NewTrace());
  Measured(std::move(request), [traceparent = CurrentTrace()->ToTraceparent(),
                                reply = std::move(reply)](Answer answer) {
    answer.headers.emplace_back("traceparent", traceparent);
    reply(std::move(answer));
  });
}

Answer Router::Handle(Request request) const {
  std::promise<Answer> promise;
  auto answer = promise.get_future();
  Handle(std::move(request), [&promise](Answer a) { promise.set_value(std::move(a)); });
  return answer.get();
}

void Router::Close() {
  std::unique_lock lock(liveness_->mutex);
  liveness_->open = false;
}

Reply Router::Resumed(Reply reply, bool blocking) const {
  return [liveness = liveness_, resume = blocking ? resume_ : nullptr,
          reply = std::move(reply)](Answer answer) {
    std::shared_lock lock(liveness->mutex);
    if (!liveness->open) {
      logging::Get("ingest")->warn("an answer came after the server stopped; dropped");
      return;
    }
    if (!resume) return reply(std::move(answer));
    resume([reply, answer = std::move(answer)]() mutable { reply(std::move(answer)); });
  };
}

void Router::Measured(Request request, Reply reply) const {
  auto start = std::chrono::steady_clock::now();
  const auto* route = Find(request.method, request.path, &request.path_params);
  if (!metrics_) return Respond(route, std::move(request), std::move(reply));
  auto dialect = route ? route->dialect : std::string(guard_.OwnerOf(request.path).Name());
  auto label = route ? route->label : std::string("none");
  Respond(route, std::move(request),
          [this, start, dialect = std::move(dialect), label = std::move(label),
           reply = std::move(reply)](Answer answer) {
            std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
            metrics_->Observe(dialect, label, answer.status, took.count());
            reply(std::move(answer));
          });
}

void Router::Respond(const Compiled* route, Request request, Reply reply) const {
  auto access = route ? route->route.access : Access::kAnyCaller;
  if (auto refused = guard_.Admit(request, access)) return reply(std::move(*refused));
  if (!route) return reply(Refuse(request, MakeError(ErrorCode::kNotFound, "no such route")));
  if (route->route.creates && idempotency_ && request.HasHeader(kIdempotencyKeyHeader))
    return RunIdempotent(route->route, std::move(request), std::move(reply));
  Run(route->route, std::move(request), std::move(reply));
}

void Router::RunIdempotent(const Route& route, Request request, Reply reply) const {
  auto key = request.Header(kIdempotencyKeyHeader);
  if (auto s = CheckIdempotencyKey(key); !s) return reply(Refuse(request, s.error()));
  auto caller = request.caller.Identity();
  auto claim = idempotency_->Claim(caller, key, RequestFingerprint(request));
  if (!claim) return reply(Refuse(request, claim.error()));
  using Outcome = IdempotencyClaim::Outcome;
  if (claim->outcome == Outcome::kAnswered) {
    claim->answer->SetHeader("Idempotent-Replayed", "true");
    return reply(std::move(*claim->answer));
  }
  if (claim->outcome == Outcome::kMismatch)
    return reply(Refuse(request, MakeError(ErrorCode::kInvalidArgument,
                                           "'" + key +
                                               "' was used with another request (method, path, "
                                               "query, Content-Type or body); send a new key "
                                               "with a new request",
                                           kIdempotencyKeyHeader)));
  if (claim->outcome == Outcome::kInProgress) {
    Error busy = MakeError(ErrorCode::kFailedPrecondition,
                           "a request with this key is still being answered; try again in a "
                           "moment",
                           kIdempotencyKeyHeader);
    busy.retry_after = std::chrono::seconds(1);
    return reply(Refuse(request, busy));
  }
  request.idempotency = claim->create;
  Run(route, std::move(request),
      [this, caller, key, claim_id = claim->claim_id, reply = std::move(reply)](Answer answer) {
        if (auto s = idempotency_->Finish(caller, key, claim_id, answer); !s)
          logging::Get("ingest")->warn("the answer to Idempotency-Key '{}' of {} was not kept: {}",
                                       key, caller, s.error().Describe());
        reply(std::move(answer));
      });
}

void Router::Run(const Route& route, Request request, Reply reply) const {
  auto shared = std::make_shared<const Request>(std::move(request));
  Answer answer;
  std::string failure;
  try {
    // What follows an answer blocks only to record an Idempotency-Key's answer.
    if (route.deferred)
      return route.deferred(shared, Resumed(reply, shared->idempotency.has_value()));
    route.handler(*shared, answer);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception that is not a std::exception";
  }
  if (failure.empty()) return reply(std::move(answer));
  logging::Get("ingest")->error("{} {} failed: {}", shared->method, shared->path, failure);
  reply(Refuse(*shared, MakeError(ErrorCode::kInternal, "internal error; see the producer's log")));
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

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

// A deferred route's answer, sent once. Its copies travel with the route's work (through
// Kafka's delivery report and the writing thread); when the last one goes without an answer
// (a continuation threw, and its reply was dropped with it), the request is answered 500, so
// that no connection waits for ever and no --http-max-queued place is lost.
struct Router::PendingReply {
  const Router& router;
  std::shared_ptr<const Request> request;
  Reply reply;
  Resume resume;  // null: continue on the answering thread
  std::shared_ptr<Liveness> liveness = router.liveness_;
  std::atomic<bool> answered = false;

  void Send(Answer answer) {
    std::shared_lock lock(liveness->mutex);
    SendLocked(std::move(answer));
  }
  ~PendingReply() {
    std::shared_lock lock(liveness->mutex);
    if (answered || !liveness->open) return;
    logging::Get("ingest")->error("{} {}: its route ended without an answer; answering 500",
                                  request->method, request->path);
    try {  // nothing may leave a destructor
      SendLocked(router.InternalError(*request, "no answer"));
    } catch (const std::exception& e) {
      logging::Get("ingest")->error("answering 500: {}", e.what());
    }
  }

 private:
  void SendLocked(Answer answer) {
    if (answered.exchange(true)) return;
    if (!liveness->open) {
      logging::Get("ingest")->warn("the answer to {} {} came after the server stopped; dropped",
                                   request->method, request->path);
      return;
    }
    if (!resume) return reply(std::move(answer));
    resume([reply = reply, answer = std::move(answer)]() mutable {
      try {
        reply(std::move(answer));
      } catch (const std::exception& e) {
        logging::Get("ingest")->error("after a route's answer: {}", e.what());
      }
    });
  }
};

Reply Router::Once(std::shared_ptr<const Request> request, Reply reply, bool blocking) const {
  auto pending = std::make_shared<PendingReply>(*this, std::move(request), std::move(reply),
                                                blocking ? resume_ : nullptr);
  return [pending](Answer answer) { pending->Send(std::move(answer)); };
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

namespace {

// What `run` threw, described; empty when it did not throw.
template <typename Run>
std::string Attempt(Run run) {
  try {
    run();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace

void Router::Run(const Route& route, Request request, Reply reply) const {
  auto shared = std::make_shared<const Request>(std::move(request));
  if (route.deferred) {
    // What follows an answer blocks only to record an Idempotency-Key's answer.
    auto once = Once(shared, std::move(reply), shared->idempotency.has_value());
    auto failure = Attempt([&] { route.deferred(shared, once); });
    if (!failure.empty()) once(InternalError(*shared, failure));
    return;
  }
  Answer answer;
  auto failure = Attempt([&] { route.handler(*shared, answer); });
  reply(failure.empty() ? std::move(answer) : InternalError(*shared, failure));
}

Answer Router::InternalError(const Request& request, const std::string& failure) const {
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

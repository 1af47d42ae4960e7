#include "http/router.h"

#include "conveyor/logging.h"

namespace conveyor::http {

Router::Router(Authenticator& auth, std::vector<Dialect*> dialects, const Dialect& fallback,
               std::vector<Route> own_routes)
    : guard_(auth, {dialects.begin(), dialects.end()}, fallback) {
  for (auto* d : dialects)
    for (auto& r : d->Routes()) routes_.push_back({r, std::regex(r.pattern)});
  for (auto& r : own_routes) routes_.push_back({r, std::regex(r.pattern)});
}

const Route* Router::Match(std::string_view method, const std::string& path,
                           std::vector<std::string>* path_params) const {
  if (method == "HEAD") method = "GET";
  std::smatch groups;
  for (const auto& [route, pattern] : routes_) {
    if (route.method != method || !std::regex_match(path, groups, pattern)) continue;
    if (path_params) {
      path_params->clear();
      for (std::size_t i = 1; i < groups.size(); ++i) path_params->push_back(groups[i].str());
    }
    return &route;
  }
  return nullptr;
}

Answer Router::Handle(Request request) const {
  const auto* route = Match(request.method, request.path, &request.path_params);
  auto access = route ? route->access : Access::kAnyCaller;
  if (auto refused = guard_.Admit(request, access)) return *refused;
  if (!route) return Refuse(request, MakeError(ErrorCode::kNotFound, "no such route"));
  return Run(*route, request);
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

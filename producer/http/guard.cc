#include "http/guard.h"

namespace conveyor::http {
namespace {

constexpr char kChallenge[] = R"(Bearer realm="conveyor", Basic realm="conveyor", charset="UTF-8")";
constexpr char kInvalidTokenChallenge[] =
    R"(Bearer realm="conveyor", error="invalid_token", Basic realm="conveyor", charset="UTF-8")";

}  // namespace

Guard::Guard(Authenticator& auth, std::vector<const Dialect*> dialects, const Dialect& fallback)
    : auth_(auth), dialects_(std::move(dialects)), fallback_(fallback) {}

const Dialect& Guard::OwnerOf(std::string_view path) const {
  const Dialect* owner = &fallback_;
  std::size_t longest = 0;
  for (const auto* d : dialects_)
    for (const auto& prefix : d->Prefixes())
      if (path.starts_with(prefix) && prefix.size() > longest) {
        owner = d;
        longest = prefix.size();
      }
  return *owner;
}

Answer Guard::Refuse(const Request& request, const Error& error) const {
  auto answer = OwnerOf(request.path).ErrorAnswer(request, error);
  if (error.retry_after.count() > 0)
    answer.SetHeader("Retry-After", std::to_string(error.retry_after.count()));
  if (error.code == ErrorCode::kUnauthenticated)
    answer.SetHeader("WWW-Authenticate",
                     request.HasHeader("Authorization") ? kInvalidTokenChallenge : kChallenge);
  return answer;
}

std::optional<Answer> Guard::Admit(Request& request, Access access) const {
  if (access == Access::kPublic) return std::nullopt;
  auto caller = auth_.Authenticate(request.Header("Authorization"), request.remote_address);
  if (!caller) return Refuse(request, caller.error());
  if (access == Access::kAdminOnly && !caller->is_admin())
    return Refuse(request, MakeError(ErrorCode::kPermissionDenied,
                                     request.method + " " + request.path +
                                         " needs an admin key; a client's credentials may not "
                                         "use it"));
  request.caller = *caller;
  return std::nullopt;
}

}  // namespace conveyor::http

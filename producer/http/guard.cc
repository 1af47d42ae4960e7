#include "http/guard.h"

#include "auth/credentials.h"
#include "conveyor/logging.h"
#include "dialects/oracle/codec.h"
#include "dialects/superoffice/codec.h"
#include "dialects/twosms/codec.h"

namespace conveyor {
namespace {

constexpr char kChallenge[] = R"(Bearer realm="conveyor", Basic realm="conveyor", charset="UTF-8")";
constexpr char kInvalidTokenChallenge[] =
    R"(Bearer realm="conveyor", error="invalid_token", Basic realm="conveyor", charset="UTF-8")";

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // What a request echoes (a path, a parameter) may not be UTF-8: U+FFFD stands in.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

// Oracle's problem JSON (oracle.h): 401 / 403 are OSC-CREST-00014, a credential store that did
// not answer 503 OSC-CREST-00008.
nlohmann::json OracleProblem(const httplib::Request& req, const Error& error) {
  auto host = req.get_header_value("Host");
  return oracle::ProblemBody(oracle::WriteProblem(error),
                             "http://" + (host.empty() ? std::string("127.0.0.1") : host),
                             req.path);
}

// RFC 6749 §5.2.
void SendOAuthError(httplib::Response& res, int status, const std::string& error,
                    const std::string& description) {
  if (status == 401) res.set_header("WWW-Authenticate", R"(Basic realm="conveyor")");
  SendJson(res, status, {{"error", error}, {"error_description", description}});
}

void IssueToken(Authenticator& auth, const httplib::Request& req, httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  auto content_type = req.get_header_value("Content-Type");
  if (content_type.substr(0, content_type.find(';')) != "application/x-www-form-urlencoded")
    return SendOAuthError(res, 400, "invalid_request",
                          "send the parameters as application/x-www-form-urlencoded");
  httplib::Params params;
  // The same decoding httplib applies to query strings ('+' is a space, %XX escapes).
  httplib::detail::parse_query_text(req.body, params);
  for (const char* name : {"grant_type", "client_id", "client_secret"})
    if (params.count(name) > 1)
      return SendOAuthError(res, 400, "invalid_request",
                            std::string(name) + " is given more than once");
  auto param = [&](const char* name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  if (param("grant_type").empty())
    return SendOAuthError(res, 400, "invalid_request", "grant_type is required");
  if (param("grant_type") != "client_credentials")
    return SendOAuthError(
        res, 400, "unsupported_grant_type",
        "grant_type '" + param("grant_type") + "' is not supported; use client_credentials");
  std::string id = param("client_id"), secret = param("client_secret");
  if (req.has_header("Authorization")) {
    if (!id.empty() || !secret.empty())
      return SendOAuthError(res, 400, "invalid_request",
                            "send the client's credentials either in the Authorization header or "
                            "in the body, not both");
    auto credential = auth::ParseAuthorization(req.get_header_value("Authorization"));
    auto* basic = credential ? std::get_if<auth::BasicCredential>(&*credential) : nullptr;
    if (!basic)
      return SendOAuthError(res, 401, "invalid_client",
                            "the Authorization header must be Basic base64(client_id:secret)");
    id = basic->id;
    secret = basic->secret;
  }
  if (id.empty() || secret.empty())
    return SendOAuthError(res, 400, "invalid_request", "client_id and client_secret are required");
  auto issued = auth.IssueToken(id, secret);
  if (!issued) {
    if (issued.error().code == ErrorCode::kUnauthenticated)
      return SendOAuthError(res, 401, "invalid_client", issued.error().message);
    if (issued.error().retryable())
      return SendOAuthError(res, 503, "temporarily_unavailable", issued.error().message);
    return SendOAuthError(res, 500, "server_error", "internal error; see the producer's log");
  }
  SendJson(res, 200,
           {{"access_token", issued->access_token},
            {"token_type", "bearer"},
            {"expires_in", issued->expires_in.count()}});
}

}  // namespace

Dialect DialectOf(const std::string& path) {
  if (path.starts_with("/api/v1/Agents/") || path.starts_with("/api/v1/BatchTask"))
    return Dialect::kSuperOffice;
  if (path.starts_with("/services/rest/")) return Dialect::kOracle;
  return Dialect::kTwoSms;
}

void SendAuthError(const httplib::Request& req, httplib::Response& res, const Error& error) {
  int status = twosms::HttpStatus(error);
  if (error.code == ErrorCode::kUnauthenticated)
    res.set_header("WWW-Authenticate",
                   req.has_header("Authorization") ? kInvalidTokenChallenge : kChallenge);
  switch (DialectOf(req.path)) {
    case Dialect::kSuperOffice:
      return SendJson(res, status, superoffice::ErrorBody(error));
    case Dialect::kOracle: {
      auto problem = OracleProblem(req, error);
      return SendJson(res, problem["status"].get<int>(), problem);
    }
    case Dialect::kTwoSms:
      return SendJson(res, status, twosms::ErrorEnvelope(error));
  }
}

httplib::Server::Handler Guarded(Authenticator& auth, Access access, CallerHandler handler) {
  return [&auth, access, handler = std::move(handler)](const httplib::Request& req,
                                                       httplib::Response& res) {
    auto caller = auth.Authenticate(req.get_header_value("Authorization"));
    if (!caller) return SendAuthError(req, res, caller.error());
    if (access == Access::kAdminOnly && !caller->is_admin())
      return SendAuthError(
          req, res,
          MakeError(ErrorCode::kPermissionDenied,
                    req.method + " " + req.path +
                        " needs an admin key; a client's credentials may not use it"));
    handler(req, res, *caller);
  };
}

bool IsPublicRoute(const std::string& method, const std::string& path) {
  return (method == "GET" && (path == "/healthz" || path == "/openapi.json")) ||
         (method == "POST" && path == "/Token");
}

httplib::Server::HandlerWithResponse RefuseAnonymous(Authenticator& auth) {
  return [&auth](const httplib::Request& req, httplib::Response& res) {
    if (IsPublicRoute(req.method, req.path)) return httplib::Server::HandlerResponse::Unhandled;
    auto caller = auth.Authenticate(req.get_header_value("Authorization"));
    if (caller) return httplib::Server::HandlerResponse::Unhandled;
    SendAuthError(req, res, caller.error());
    return httplib::Server::HandlerResponse::Handled;
  };
}

void RegisterTokenRoute(RecordingServer& server, Authenticator& auth) {
  server.Post("/Token", [&auth](const httplib::Request& req, httplib::Response& res) {
    IssueToken(auth, req, res);
  });
}

}  // namespace conveyor

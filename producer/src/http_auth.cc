#include "http_auth.h"

#include "conveyor/logging.h"
#include "credentials.h"
#include "superoffice.h"
#include "twosms.h"

namespace conveyor {
namespace {

constexpr char kChallenge[] = R"(Bearer realm="conveyor", Basic realm="conveyor", charset="UTF-8")";
constexpr char kInvalidTokenChallenge[] =
    R"(Bearer realm="conveyor", error="invalid_token", Basic realm="conveyor", charset="UTF-8")";

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

nlohmann::json OracleProblem(const httplib::Request& req, const Error& error, int status) {
  // OSC-CREST-00014 is "not authorised"; a store that did not answer is an internal error.
  std::string code = status == 401 || status == 403 ? "OSC-CREST-00014" : "OSC-CREST-00008";
  return {{"type", "/services/rest/connect/exceptions/" + code},
          {"title", status == 401   ? "Unauthorized"
                    : status == 403 ? "Forbidden"
                                    : "Service Unavailable"},
          {"status", status},
          {"detail", error.Describe()},
          {"instance", req.path},
          {"o:errorCode", code}};
}

bool IsJsonMediaType(const std::string& content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  return media == "application/json" || media == "text/json" || media.empty();
}

void SendTwoSmsError(httplib::Response& res, const Error& error) {
  SendJson(res, twosms::HttpStatus(error), twosms::ErrorEnvelope(error));
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

void CreateClient(CredentialStore& store, const twosms::ClientRequestDecoder& decoder,
                  const httplib::Request& req, httplib::Response& res, const Caller& caller) {
  if (!IsJsonMediaType(req.get_header_value("Content-Type"))) {
    SendTwoSmsError(res, MakeError(ErrorCode::kInvalidArgument,
                                   "Content-Type " + req.get_header_value("Content-Type") +
                                       " is not supported; send application/json or text/json"));
    res.status = 415;
    return;
  }
  auto request = decoder.Decode(req.body);
  if (!request) return SendTwoSmsError(res, request.error());
  ClientRecord client;
  client.id = Uuid::Random();
  client.name = request->name;
  client.user_id = request->user_id;
  client.created_by = caller.Identity();
  auto stored = store.CreateClient(client, auth::HashSecret(request->secret));
  if (!stored) return SendTwoSmsError(res, stored.error());
  logging::Get("auth")->info("client {} '{}' created by {}", stored->id.ToString(), stored->name,
                             caller.Identity());
  SendJson(res, 200,
           twosms::SuccessEnvelope(twosms::ClientDetail(*stored, request->secret), std::nullopt));
}

void ListClients(CredentialStore& store, httplib::Response& res) {
  auto clients = store.ListClients();
  if (!clients) return SendTwoSmsError(res, clients.error());
  auto list = nlohmann::json::array();
  for (const auto& c : *clients) list.push_back(twosms::ClientDetail(c, std::nullopt));
  SendJson(res, 200, twosms::SuccessEnvelope(list, std::nullopt));
}

void GetClient(CredentialStore& store, const httplib::Request& req, httplib::Response& res) {
  auto id = Uuid::Parse(req.matches[1].str());
  if (!id)
    return SendTwoSmsError(res, MakeError(ErrorCode::kInvalidArgument,
                                          "'" + req.matches[1].str() + "' is not a GUID", "id"));
  auto client = store.FindClient(*id);
  if (!client) return SendTwoSmsError(res, client.error());
  if (!*client)
    return SendTwoSmsError(res, MakeError(ErrorCode::kNotFound, "no client " + id->ToString()));
  SendJson(res, 200,
           twosms::SuccessEnvelope(twosms::ClientDetail(**client, std::nullopt), std::nullopt));
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
    case Dialect::kOracle:
      return SendJson(res, status, OracleProblem(req, error, status));
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

void RegisterAuthRoutes(RecordingServer& server, Authenticator& auth, CredentialStore& store,
                        const twosms::ClientRequestDecoder& client_decoder) {
  server.Post("/Token", [&auth](const httplib::Request& req, httplib::Response& res) {
    IssueToken(auth, req, res);
  });
  server.Post("/api/v1/admin/clients",
              Guarded(auth, Access::kAdminOnly,
                      [&store, &client_decoder](const httplib::Request& req, httplib::Response& res,
                                                const Caller& caller) {
                        CreateClient(store, client_decoder, req, res, caller);
                      }));
  server.Get("/api/v1/admin/clients",
             Guarded(auth, Access::kAdminOnly,
                     [&store](const httplib::Request&, httplib::Response& res, const Caller&) {
                       ListClients(store, res);
                     }));
  server.Get(R"(/api/v1/admin/clients/([^/]+))",
             Guarded(auth, Access::kAdminOnly,
                     [&store](const httplib::Request& req, httplib::Response& res, const Caller&) {
                       GetClient(store, req, res);
                     }));
}

}  // namespace conveyor

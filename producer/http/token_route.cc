#include "http/token_route.h"

#include <variant>

#include "auth/credentials.h"

namespace conveyor::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
               HexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// RFC 6749 §5.2.
Answer OAuthError(int status, const std::string& error, const std::string& description) {
  auto answer = JsonAnswer(status, {{"error", error}, {"error_description", description}});
  if (status == 401) answer.SetHeader("WWW-Authenticate", R"(Basic realm="conveyor")");
  return answer;
}

// The client's id and secret, from the form or from Basic; or the answer refusing them.
std::variant<std::pair<std::string, std::string>, Answer> ClientCredentials(
    const Request& req, const std::multimap<std::string, std::string>& form) {
  auto param = [&](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  std::string id = param("client_id"), secret = param("client_secret");
  if (req.HasHeader("Authorization")) {
    if (!id.empty() || !secret.empty())
      return OAuthError(400, "invalid_request",
                        "send the client's credentials either in the Authorization header or "
                        "in the body, not both");
    auto credential = auth::ParseAuthorization(req.Header("Authorization"));
    auto* basic = credential ? std::get_if<auth::BasicCredential>(&*credential) : nullptr;
    if (!basic)
      return OAuthError(401, "invalid_client",
                        "the Authorization header must be Basic base64(client_id:secret)");
    id = basic->id;
    secret = basic->secret;
  }
  if (id.empty() || secret.empty())
    return OAuthError(400, "invalid_request", "client_id and client_secret are required");
  return std::pair{id, secret};
}

// Why the client's credentials were not accepted, as an OAuth error.
Answer RefusedClient(const Error& e) {
  if (e.code == ErrorCode::kUnauthenticated) return OAuthError(401, "invalid_client", e.message);
  if (e.code != ErrorCode::kRateLimited && !e.retryable())
    return OAuthError(500, "server_error", "internal error; see the producer's log");
  auto answer = OAuthError(e.code == ErrorCode::kRateLimited ? 429 : 503, "temporarily_unavailable",
                           e.message);
  if (e.retry_after.count() > 0)
    answer.SetHeader("Retry-After", std::to_string(e.retry_after.count()));
  return answer;
}

// The form of a POST to /Token or /revoke, or the answer refusing it.
std::variant<std::multimap<std::string, std::string>, Answer> FormOf(const Request& req) {
  if (MediaType(req.Header("Content-Type")) != "application/x-www-form-urlencoded")
    return OAuthError(400, "invalid_request",
                      "send the parameters as application/x-www-form-urlencoded");
  return ParseForm(req.body);
}

Answer RevokeToken(Authenticator& auth, const Request& req) {
  auto read = FormOf(req);
  if (auto* refused = std::get_if<Answer>(&read)) return *refused;
  const auto& form = std::get<std::multimap<std::string, std::string>>(read);
  for (const char* name : {"token", "token_type_hint", "client_id", "client_secret"})
    if (form.count(name) > 1)
      return OAuthError(400, "invalid_request", std::string(name) + " is given more than once");
  auto token = form.contains("token") ? form.find("token")->second : std::string();
  if (token.empty()) return OAuthError(400, "invalid_request", "token is required");
  auto credentials = ClientCredentials(req, form);
  if (auto* refused = std::get_if<Answer>(&credentials)) return *refused;
  const auto& [id, secret] = std::get<std::pair<std::string, std::string>>(credentials);
  auto client = auth.AuthenticateClient(id, secret, req.remote_address);
  if (!client) return RefusedClient(client.error());
  if (auto s = auth.RevokeToken(*client, token); !s) return RefusedClient(s.error());
  Answer answer;
  answer.status = 200;
  return answer;
}

Answer IssueToken(Authenticator& auth, const Request& req) {
  auto read = FormOf(req);
  if (auto* refused = std::get_if<Answer>(&read)) return *refused;
  const auto& form = std::get<std::multimap<std::string, std::string>>(read);
  for (const char* name : {"grant_type", "client_id", "client_secret"})
    if (form.count(name) > 1)
      return OAuthError(400, "invalid_request", std::string(name) + " is given more than once");
  auto grant = form.contains("grant_type") ? form.find("grant_type")->second : std::string();
  if (grant.empty()) return OAuthError(400, "invalid_request", "grant_type is required");
  if (grant != "client_credentials")
    return OAuthError(400, "unsupported_grant_type",
                      "grant_type '" + grant + "' is not supported; use client_credentials");
  auto credentials = ClientCredentials(req, form);
  if (auto* refused = std::get_if<Answer>(&credentials)) return *refused;
  const auto& [id, secret] = std::get<std::pair<std::string, std::string>>(credentials);
  auto issued = auth.IssueToken(id, secret, req.remote_address);
  if (!issued) return RefusedClient(issued.error());
  return JsonAnswer(200, {{"access_token", issued->access_token},
                          {"token_type", "bearer"},
                          {"expires_in", issued->expires_in.count()}});
}

}  // namespace

std::multimap<std::string, std::string> ParseForm(std::string_view body) {
  std::multimap<std::string, std::string> form;
  while (!body.empty()) {
    auto end = body.find('&');
    auto pair = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    form.emplace(Decode(pair.substr(0, eq)),
                 eq == std::string_view::npos ? std::string() : Decode(pair.substr(eq + 1)));
  }
  return form;
}

Route RevokeRoute(Authenticator& auth) {
  return {"POST", "/revoke", Access::kPublic, [&auth](const Request& req, Answer& res) {
            res = RevokeToken(auth, req);
            res.SetHeader("Cache-Control", "no-store");
          }};
}

Route TokenRoute(Authenticator& auth) {
  return {"POST", "/Token", Access::kPublic, [&auth](const Request& req, Answer& res) {
            res = IssueToken(auth, req);
            res.SetHeader("Cache-Control", "no-store");
            res.SetHeader("Pragma", "no-cache");
          }};
}

}  // namespace conveyor::http

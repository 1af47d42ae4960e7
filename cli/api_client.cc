#include "api_client.h"

#include <httplib.h>

#include <regex>

#include "conveyor/json_text.h"
#include "progress_view.h"

namespace conveyor::cli {
namespace {

ErrorCode CodeOf(int status) {
  switch (status) {
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 429:
      return ErrorCode::kRateLimited;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      return status >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  }
}

}  // namespace

std::string ProducerMessage(const std::string& body) {
  auto j = ParseJson(body, "the answer");
  if (j && j->is_object() && j->contains("Error")) {
    const auto& e = (*j)["Error"];
    if (e.is_string()) {
      bool field = j->contains("Field") && (*j)["Field"].is_string();
      return (field ? (*j)["Field"].get<std::string>() + ": " : "") + e.get<std::string>();
    }
    if (e.is_object() && e.contains("ErrorReason") && e["ErrorReason"].is_string())
      return e["ErrorReason"].get<std::string>();
  }
  // An error page, say: one line of it, at most 200 characters.
  auto line = Printable(body, 200);
  return line.size() < body.size() ? line + "..." : line;
}

ApiClient::ApiClient(std::unique_ptr<httplib::Client> http, std::string url)
    : http_(std::move(http)), url_(std::move(url)) {}
ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(const ApiSettings& s) {
  static const std::regex kUrl(R"(https?://[^/:]+(:[0-9]{1,5})?/?)");
  if (!std::regex_match(s.url, kUrl))
    return Fail(ErrorCode::kInvalidArgument,
                "the producer's address must be http[s]://host[:port], not '" + s.url + "'",
                "--url");
  if (s.admin_key.empty() && (s.client_id.empty() || s.client_secret.empty()))
    return Fail(ErrorCode::kInvalidArgument,
                "no credentials: give --admin-key (or CONVEYOR_ADMIN_KEY), or --client-id and "
                "--client-secret (or CONVEYOR_CLIENT_ID and CONVEYOR_CLIENT_SECRET)");
  auto url = s.url.back() == '/' ? s.url.substr(0, s.url.size() - 1) : s.url;
  auto http = std::make_unique<httplib::Client>(url);
  http->set_connection_timeout(5, 0);
  http->set_read_timeout(static_cast<time_t>(s.timeout.count()), 0);
  http->set_keep_alive(true);
  if (!s.admin_key.empty())
    http->set_bearer_token_auth(s.admin_key);
  else
    http->set_basic_auth(s.client_id, s.client_secret);
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(http), url));
}

template <typename Call>
Result<nlohmann::json> ApiClient::Send(const std::string& what, Call call) {
  httplib::Headers accept = {{"Accept", "application/json"}};
  auto r = call(accept);
  if (!r)
    return Fail(ErrorCode::kUnavailable,
                what + ": no answer from " + url_ + " (" + httplib::to_string(r.error()) + ")");
  if (r->status < 200 || r->status > 299)
    return Fail(CodeOf(r->status),
                what + ": " + std::to_string(r->status) + " " + ProducerMessage(r->body));
  if (r->body.empty()) return nlohmann::json();
  auto j = ParseJson(r->body, what + ": the answer");
  if (!j) return std::unexpected(j.error());
  return std::move(*j);
}

Result<nlohmann::json> ApiClient::Get(const std::string& path) {
  return Send("GET " + path, [&](const httplib::Headers& h) { return http_->Get(path, h); });
}

Result<nlohmann::json> ApiClient::Post(const std::string& path, const nlohmann::json& body) {
  return Send("POST " + path, [&](const httplib::Headers& h) {
    return http_->Post(path, h, body.dump(), "application/json");
  });
}

Result<nlohmann::json> ApiClient::Put(const std::string& path, const nlohmann::json& body) {
  return Send("PUT " + path, [&](const httplib::Headers& h) {
    return http_->Put(path, h, body.dump(), "application/json");
  });
}

}  // namespace conveyor::cli

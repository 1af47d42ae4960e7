#include "api_client.h"

#include <httplib.h>

#include <regex>

namespace conveyor::cli {
namespace {

// What a refusal said: the dialects' error bodies carry it as "Error" (SuperOffice),
// "Error.Message" (TwoSms' envelope) or "detail"/"title" (Oracle); else the body's start.
std::string ProducerMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"Error", "detail", "title", "Message"}) {
      if (!j.contains(key)) continue;
      const auto& v = j[key];
      if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
      if (v.is_object() && v.contains("Message") && v["Message"].is_string())
        return v["Message"].get<std::string>();
    }
  }
  return body.size() > 200 ? body.substr(0, 200) + "…" : body;
}

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

ApiClient::ApiClient(std::unique_ptr<httplib::Client> http, std::string url)
    : http_(std::move(http)), url_(std::move(url)) {}
ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(const ApiSettings& s) {
  static const std::regex kHttpUrl(R"(https?://[^/:]+(:[0-9]{1,5})?/?)");
  if (!std::regex_match(s.url, kHttpUrl))
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
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded())
    return Fail(ErrorCode::kInternal, what + ": the answer is not JSON: " + r->body.substr(0, 200));
  return j;
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

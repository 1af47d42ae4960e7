// ApiClient: the producer's HTTP API as the `conveyor` command line speaks it. Tasks go through
// the SuperOffice batch-task routes (/api/v1/BatchTask), whose BatchTaskInfo carries what a
// person watches: state, progress percent and text, result, start count; the catalogue comes
// from /api/v1/admin/tasktypes. Credentials: an admin key (Bearer) or a client's id and secret
// (Basic), as the producer takes them (README, Authentication).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "conveyor/result.h"

namespace httplib {
class Client;
}

namespace conveyor::cli {

struct ApiSettings {
  std::string url = "http://127.0.0.1:8080";  // http[s]://host:port of a producer
  std::string admin_key;                      // sent as Bearer when set
  std::string client_id, client_secret;       // sent as Basic when set (and no admin key)
  std::chrono::seconds timeout{30};           // for each request's answer
};

class ApiClient {
 public:
  // kInvalidArgument when the URL is not http://host[:port] or no credentials are given.
  static Result<std::unique_ptr<ApiClient>> Create(const ApiSettings& settings);
  ~ApiClient();

  // The answer's JSON body for a 2xx; otherwise an Error naming the status and the
  // producer's own message (kUnavailable when there was no answer at all).
  Result<nlohmann::json> Get(const std::string& path);
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Put(const std::string& path, const nlohmann::json& body);

  const std::string& url() const { return url_; }

 private:
  ApiClient(std::unique_ptr<httplib::Client> http, std::string url);
  template <typename Call>
  Result<nlohmann::json> Send(const std::string& what, Call call);

  std::unique_ptr<httplib::Client> http_;
  std::string url_;
};

}  // namespace conveyor::cli

// The producer's HTTP API as the `conveyor` command line speaks it. Tasks go through the
// SuperOffice batch-task routes (/api/v1/BatchTask), whose BatchTaskInfo carries what a person
// watches: state, progress percent and text, result, start count; the catalogue comes from
// /api/v1/admin/tasktypes. Credentials: an admin key (Bearer) or a client's id and secret
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

// The calls the subcommands make: the JSON body of a 2xx answer, or an Error whose message
// names the call, the status and the producer's own words (kUnavailable when no answer came).
// ApiClient is the adapter over HTTP; the unit tests use a fake.
class TaskApi {
 public:
  virtual ~TaskApi() = default;
  virtual Result<nlohmann::json> Get(const std::string& path) = 0;
  virtual Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body) = 0;
  virtual Result<nlohmann::json> Put(const std::string& path, const nlohmann::json& body) = 0;
};

struct ApiSettings {
  std::string url = "http://127.0.0.1:8080";  // http[s]://host[:port] of a producer
  std::string admin_key;                      // sent as Bearer when set
  std::string client_id, client_secret;       // sent as Basic when set (and no admin key)
  std::chrono::seconds timeout{30};           // for each request's answer
};

class ApiClient final : public TaskApi {
 public:
  // kInvalidArgument when the URL is not http[s]://host[:port] or no credentials are given.
  static Result<std::unique_ptr<ApiClient>> Create(const ApiSettings& settings);
  ~ApiClient() override;

  Result<nlohmann::json> Get(const std::string& path) override;
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body) override;
  Result<nlohmann::json> Put(const std::string& path, const nlohmann::json& body) override;

 private:
  ApiClient(std::unique_ptr<httplib::Client> http, std::string url);
  template <typename Call>
  Result<nlohmann::json> Send(const std::string& what, Call call);

  std::unique_ptr<httplib::Client> http_;
  std::string url_;
};

// What a refusal's body says, in the shapes the CLI meets: SuperOffice's {"Error": text,
// "Field": path} ("Field: text"), TwoSms's {"Error": {"ErrorReason": text}}; otherwise the
// body's first 200 bytes.
std::string ProducerMessage(const std::string& body);

}  // namespace conveyor::cli

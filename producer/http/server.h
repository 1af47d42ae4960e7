// The producer's HTTP server (cpp-httplib). Routes:
//   /api/v1|v2/admin/tasks/account[/{id}]  TwoSms account tasks: POST, PUT, GET (one, list),
//                                          DELETE in JSON or XML (twosms_routes.h)
//   POST /api/v1|v2/admin/tasks/account/bulk  TwoSms bulk create, up to 1,000 tasks
//   POST /api/v1/Agents/Batch/GetBatchTaskInfo  {"Id": n}: BatchTaskInfo with progress
//   (SuperOffice) POST /api/v1/Agents/Batch/StopBatchJob      {"Id": n}: true when a stop was
//   requested GET  /api/v1/BatchTask/{id}, POST /api/v1/BatchTask/{id}/Stop   the same, REST style
//   POST /api/v1/admin/tasktypes           register a task type
//   (schemas/requests/admin.task-type-register.json) GET  /api/v1/admin/tasktypes           the
//   catalogue GET  /healthz                          liveness
//   POST /Token, POST/GET /api/v1/admin/clients[/{id}]  credentials and clients (http_auth.h)
//   GET  /openapi.json                     the OpenAPI 3.1 document of every route (openapi.h)
//
// Every route but GET /healthz, GET /openapi.json and POST /Token needs credentials
// (http_auth.h); a client sees only its own tasks, and another client's task answers as a
// missing one.
//
// HttpApi owns the server and its thread pool. Start binds and serves on a background thread
// and returns once the socket listens (or the bind error); Stop stops accepting, finishes the
// requests in flight and joins. Handlers are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "commands/task_commands.h"
#include "conveyor/clock.h"
#include "conveyor/json_schema.h"
#include "conveyor/result.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "dialects/twosms/clients.h"
#include "dialects/twosms/codec.h"
#include "http/registered_route.h"

namespace conveyor {

struct HttpSettings {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port (tests)
  int threads = 16;
};

class HttpApi {
 public:
  // The references (catalogue, services, reader, clock, authenticator, credential store) must
  // outlive the HttpApi.
  HttpApi(HttpSettings settings, twosms::RequestDecoder decoder, JsonSchema task_type_schema,
          TaskTypeCatalog& catalog, TaskCommandService& commands, TaskReader& reader,
          const Clock& clock, Authenticator& auth, CredentialStore& credentials,
          twosms::ClientRequestDecoder client_decoder);
  ~HttpApi();

  Status Start();
  void Stop();
  int port() const;  // the bound port, after Start
  // Every route registered, in the order they are tried (schemas/openapi.json documents them).
  std::vector<RegisteredRoute> routes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor

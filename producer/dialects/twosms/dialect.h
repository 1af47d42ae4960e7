// The TwoSms dialect (docs/twosms.md): the account tasks under api/v1 and api/v2 (routes.h:
// TaskRoutes), the clients resource and the task-type catalogue (ClientRoutes,
// TaskTypeRoutes) and, for operators, the queue and its dead letters (QueueRoutes), in JSON or XML
// with the Error/ResponseData envelope. It also answers, in its envelope, what fails on a path that
// no dialect owns (main.cc makes it the Router's fallback, router.h). Thread-safe (http/dialect.h).
#pragma once

#include <memory>

#include "auth/credentials.h"
#include "commands/task_commands.h"
#include "conveyor/clock.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "dialects/twosms/routes.h"
#include "http/dialect.h"

namespace conveyor::twosms {

class TwoSmsDialect final : public http::Dialect {
 public:
  // Compiles the request schemas; kInternal naming the schema when one is broken (a build
  // defect: the producer refuses to start). The ports must outlive the dialect.
  static Result<std::unique_ptr<TwoSmsDialect>> Create(TaskTypeCatalog& catalog,
                                                       TaskCommandService& commands,
                                                       TaskReader& reader, const Clock& clock,
                                                       CredentialStore& credentials,
                                                       CommandQueue& queue);

  std::string_view Name() const override { return "twosms"; }
  std::vector<std::string> Prefixes() const override {
    return {"/api/v1/admin/", "/api/v2/admin/"};
  }
  std::vector<http::Route> Routes() override;
  // JSON, whatever Accept asks: it answers failures before the request's format is known.
  http::Answer ErrorAnswer(const http::Request& request, const Error& error) const override;

 private:
  TwoSmsDialect(RequestDecoder decoder, ClientRequestDecoder client_decoder,
                JsonSchema task_type_schema, TaskTypeCatalog& catalog, TaskCommandService& commands,
                TaskReader& reader, const Clock& clock, CredentialStore& credentials,
                CommandQueue& queue);

  RequestDecoder decoder_;
  ClientRequestDecoder client_decoder_;
  TaskRoutes tasks_;
  ClientRoutes clients_;
  TaskTypeRoutes task_types_;
  QueueRoutes queue_;
};

}  // namespace conveyor::twosms

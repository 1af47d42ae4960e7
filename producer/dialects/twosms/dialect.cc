#include "dialects/twosms/dialect.h"

namespace conveyor::twosms {

TwoSmsDialect::TwoSmsDialect(RequestDecoder decoder, ClientRequestDecoder client_decoder,
                             JsonSchema task_type_schema, TaskTypeCatalog& catalog,
                             TaskCommandService& commands, TaskReader& reader, const Clock& clock,
                             CredentialStore& credentials, CommandQueue& queue)
    : decoder_(std::move(decoder)),
      client_decoder_(std::move(client_decoder)),
      tasks_(decoder_, commands, reader, clock),
      clients_(client_decoder_, credentials),
      task_types_(std::move(task_type_schema), catalog, credentials),
      queue_(queue) {}

Result<std::unique_ptr<TwoSmsDialect>> TwoSmsDialect::Create(TaskTypeCatalog& catalog,
                                                             TaskCommandService& commands,
                                                             TaskReader& reader, const Clock& clock,
                                                             CredentialStore& credentials,
                                                             CommandQueue& queue) {
  auto decoder = RequestDecoder::Create();
  if (!decoder) return std::unexpected(decoder.error());
  auto client_decoder = ClientRequestDecoder::Create();
  if (!client_decoder) return std::unexpected(client_decoder.error());
  auto task_type_schema = JsonSchema::Embedded("requests/admin.task-type-register.json");
  if (!task_type_schema) return std::unexpected(task_type_schema.error());
  return std::unique_ptr<TwoSmsDialect>(new TwoSmsDialect(
      std::move(*decoder), std::move(*client_decoder), std::move(*task_type_schema), catalog,
      commands, reader, clock, credentials, queue));
}

std::vector<http::Route> TwoSmsDialect::Routes() {
  using http::Access;
  // A route of one of the routes objects, whose methods answer a request.
  auto route =
      [](std::string method, std::string pattern, Access access, auto* routes,
         http::Answer (std::remove_pointer_t<decltype(routes)>::*handler)(const http::Request&)) {
        return http::Route{std::move(method), std::move(pattern), access,
                           [routes, handler](const http::Request& req, http::Answer& res) {
                             res = (routes->*handler)(req);
                           }};
      };
  // One whose method answers later (http::DeferredHandler): a write, which waits for Kafka.
  auto deferred = [](std::string method, std::string pattern, TaskRoutes* routes,
                     void (TaskRoutes::*handler)(std::shared_ptr<const http::Request>,
                                                 http::Reply)) {
    http::Route r{std::move(method), std::move(pattern), Access::kAnyCaller, nullptr};
    r.deferred = [routes, handler](std::shared_ptr<const http::Request> req, http::Reply reply) {
      (routes->*handler)(std::move(req), std::move(reply));
    };
    return r;
  };
  // Account tasks under api/v1 and api/v2 alike; {id} is the pattern's last group.
  const std::string tasks = R"(/api/(v1|v2)/admin/tasks/account)", task = tasks + "/([^/]+)";
  const std::string clients = "/api/v1/admin/clients", types = "/api/v1/admin/tasktypes";
  const std::string dead = "/api/v1/admin/deadletters";
  auto* t = &tasks_;
  auto* c = &clients_;
  auto* k = &task_types_;
  auto* q = &queue_;
  return {http::Creates(deferred("POST", tasks, t, &TaskRoutes::Create)),
          http::Creates(deferred("POST", tasks + "/bulk", t, &TaskRoutes::BulkCreate)),
          route("GET", tasks, Access::kAnyCaller, t, &TaskRoutes::List),
          route("GET", task, Access::kAnyCaller, t, &TaskRoutes::Get),
          deferred("PUT", task, t, &TaskRoutes::Update),
          deferred("DELETE", task, t, &TaskRoutes::Delete),
          deferred("POST", task + "/run", t, &TaskRoutes::RunNow),
          route("GET", task + "/runs", Access::kAnyCaller, t, &TaskRoutes::ListRuns),
          route("GET", task + "/runs/([^/]+)/log", Access::kAnyCaller, t, &TaskRoutes::RunLog),
          route("POST", clients, Access::kAdminOnly, c, &ClientRoutes::Create),
          route("GET", clients, Access::kAdminOnly, c, &ClientRoutes::List),
          route("GET", clients + "/([^/]+)", Access::kAdminOnly, c, &ClientRoutes::Get),
          route("PUT", clients + "/([^/]+)", Access::kAdminOnly, c, &ClientRoutes::Update),
          route("DELETE", clients + "/([^/]+)", Access::kAdminOnly, c, &ClientRoutes::Delete),
          route("POST", types, Access::kAdminOnly, k, &TaskTypeRoutes::Register),
          // Clients may read the catalogue: they need its ids (TaskID) to create tasks.
          route("GET", types, Access::kAnyCaller, k, &TaskTypeRoutes::List),
          route("GET", "/api/v1/admin/queue", Access::kAdminOnly, q, &QueueRoutes::State),
          route("GET", dead, Access::kAdminOnly, q, &QueueRoutes::DeadLetters),
          route("POST", dead + R"(/(\d{1,9})/(\d{1,18})/replay)", Access::kAdminOnly, q,
                &QueueRoutes::Replay)};
}

http::Answer TwoSmsDialect::ErrorAnswer(const http::Request&, const Error& error) const {
  return {http::StatusOf(error.code),
          "application/json; charset=utf-8",
          http::JsonText(ErrorEnvelope(error)),
          {}};
}

}  // namespace conveyor::twosms

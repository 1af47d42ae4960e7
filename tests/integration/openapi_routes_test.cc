// The routes conveyor-producer's HttpApi registers (RecordingServer) against the OpenAPI
// document it serves: every documented operation reaches a route of its own (not a dialect's
// catch-all), and every route is documented. Built from the same adapters as main.cc, on the
// fixture's PostgreSQL and Kafka (label: integration).
#include <gtest/gtest.h>

#include <regex>

#include "auth/auth.h"
#include "commands/pg_accepted_writes.h"
#include "commands/pg_catalog.h"
#include "commands/task_commands.h"
#include "conveyor/json_schema.h"
#include "conveyor/kafka.h"
#include "conveyor/pg.h"
#include "http/openapi.h"
#include "http/server.h"
#include "support/openapi_samples.h"
#include "support/services.h"

namespace conveyor {
namespace {

using testing::OperationSample;
using testing::ScratchDatabase;

// A route whose pattern ends in ".*" is a dialect's catch-all (Oracle's answers its own 404
// and 405 under /services/rest/connect/), not an operation.
bool IsCatchAll(const RegisteredRoute& r) { return r.pattern.ends_with(".*"); }

class OpenApiRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    KafkaSettings kafka;
    kafka.brokers = testing::KafkaBrokers();
    auto producer = KafkaProducer::Create(kafka, "openapi-routes-test", std::chrono::seconds(5));
    ASSERT_TRUE(producer.has_value()) << producer.error().Describe();
    producer_ = std::move(*producer);
    commands_.emplace(catalog_, numbers_, credentials_, *producer_, accepted_, clock_, "unused",
                      "/test");
    auto decoder = twosms::RequestDecoder::Create();
    auto type_schema = JsonSchema::Embedded("requests/admin.task-type-register.json");
    auto client_decoder = twosms::ClientRequestDecoder::Create();
    ASSERT_TRUE(decoder && type_schema && client_decoder);
    api_.emplace(HttpSettings{"127.0.0.1", 0, 2}, std::move(*decoder), std::move(*type_schema),
                 catalog_, *commands_, reader_, clock_, auth_, credentials_,
                 std::move(*client_decoder));
    routes_ = api_->routes();
    auto doc = openapi::ServedDocument();
    ASSERT_TRUE(doc.has_value()) << doc.error().Describe();
    samples_ = testing::Samples(*doc);
  }

  // The route httplib dispatches `sample` to: the first registered for its method whose
  // pattern matches the whole path.
  const RegisteredRoute* Dispatch(const OperationSample& sample) const {
    for (const auto& r : routes_)
      if (r.method == sample.method && std::regex_match(sample.path, std::regex(r.pattern)))
        return &r;
    return nullptr;
  }

  ScratchDatabase db_;
  PgPool pool_{db_.url(), 2};
  SystemClock clock_;
  PgTaskTypeCatalog catalog_{pool_};
  PgTaskNumberAllocator numbers_{pool_};
  PgAcceptedWrites accepted_{pool_};
  PgTaskReader reader_{pool_};
  PgCredentialStore credentials_{pool_};
  Authenticator auth_{credentials_, clock_, AuthSettings{}};
  std::unique_ptr<KafkaProducer> producer_;
  std::optional<TaskCommandService> commands_;
  std::optional<HttpApi> api_;
  std::vector<RegisteredRoute> routes_;
  std::vector<OperationSample> samples_;
};

TEST_F(OpenApiRoutes, EveryDocumentedOperationReachesARouteOfItsOwn) {
  ASSERT_GE(samples_.size(), 30u);
  for (const auto& sample : samples_) {
    auto* route = Dispatch(sample);
    EXPECT_TRUE(route != nullptr && !IsCatchAll(*route))
        << sample.documented << " (as " << sample.method << " " << sample.path
        << ") is documented but not served"
        << (route ? " (only the catch-all " + route->pattern + " answers it)" : "");
  }
}

TEST_F(OpenApiRoutes, EveryRegisteredRouteIsDocumented) {
  ASSERT_GE(routes_.size(), 30u);
  for (const auto& route : routes_) {
    if (IsCatchAll(route)) continue;
    bool documented = false;
    for (const auto& sample : samples_) documented = documented || Dispatch(sample) == &route;
    EXPECT_TRUE(documented) << route.method << " " << route.pattern
                            << " is served but no operation of schemas/openapi.json reaches it";
  }
}

}  // namespace
}  // namespace conveyor

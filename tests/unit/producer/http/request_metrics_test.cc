#include "http/request_metrics.h"

#include <gtest/gtest.h>

namespace conveyor::http {
namespace {

TEST(RouteLabel, WritesEachOutermostGroupAsBracesAndEscapedCharactersAsThemselves) {
  EXPECT_EQ(RouteLabel("/api/(v1|v2)/admin/tasks/account/([^/]+)"),
            "/api/{}/admin/tasks/account/{}");
  EXPECT_EQ(RouteLabel(R"(/tasks/(\d{1,18})/notes/((?:a|b)+))"), "/tasks/{}/notes/{}");
  EXPECT_EQ(RouteLabel(R"(/openapi\.json)"), "/openapi.json");
  EXPECT_EQ(RouteLabel("/healthz"), "/healthz");
}

TEST(RequestMetrics, CountsByDialectRouteAndStatusAndTimesByDialectAndRoute) {
  metrics::Registry registry;
  RequestMetrics requests(registry);
  requests.Observe("twosms", "/api/{}/admin/tasks/account", 200, 0.002);
  requests.Observe("twosms", "/api/{}/admin/tasks/account", 200, 0.004);
  requests.Observe("oracle", "none", 404, 0.001);
  auto text = registry.Render();
  EXPECT_NE(
      text.find(
          R"(conveyor_http_requests_total{dialect="twosms",route="/api/{}/admin/tasks/account",status="200"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(conveyor_http_requests_total{dialect="oracle",route="none",status="404"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(conveyor_http_request_duration_seconds_count{dialect="twosms",route="/api/{}/admin/tasks/account"} 2)"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace conveyor::http

#include "http/request_metrics.h"

namespace conveyor::http {

RequestMetrics::RequestMetrics(metrics::Registry& registry)
    : requests_(registry.AddCounter("conveyor_http_requests_total",
                                    "HTTP requests answered, by dialect, route and status",
                                    {"dialect", "route", "status"})),
      duration_(registry.AddHistogram(
          "conveyor_http_request_duration_seconds",
          "From a request's arrival at its route to its answer, by dialect and route",
          metrics::ExponentialBuckets(0.0005, 2, 16), {"dialect", "route"})),
      connections_(registry
                       .AddGauge("conveyor_http_connections",
                                 "HTTP connections open, idle or with a request in flight")
                       .With({})),
      refused_(registry.AddCounter(
          "conveyor_http_refused_total",
          "Requests the server refused before any route (a limit or timeout crossed, not HTTP), "
          "by reason",
          {"reason"})) {}

void RequestMetrics::Observe(const std::string& dialect, const std::string& route, int status,
                             double seconds) {
  requests_.With({dialect, route, std::to_string(status)}).Inc();
  duration_.With({dialect, route}).Observe(seconds);
}

std::string RouteLabel(std::string_view pattern) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (depth == 0) out += pattern[i + 1];  // an escaped character stands for itself
      ++i;
    } else if (c == '(') {
      if (depth++ == 0) out += "{}";
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

}  // namespace conveyor::http

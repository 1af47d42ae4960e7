// RequestMetrics: the producer's HTTP requests for Prometheus — how many, by dialect, route
// and status, and how long they took, by dialect and route. The route label is the route's
// pattern with each group written "{}" ("/api/v2/admin/tasks/account/{}"), so its values are
// the fixed set of routes; requests no route matched count as route "none". Beside them, the
// server's own load and refusals: connections open, and requests it refused before any route
// (http/connections.h), by reason. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "conveyor/metrics.h"

namespace conveyor::http {

class RequestMetrics {
 public:
  explicit RequestMetrics(metrics::Registry& registry);

  void Observe(const std::string& dialect, const std::string& route, int status, double seconds);

  void ConnectionOpened() { connections_.Inc(); }
  void ConnectionClosed() { connections_.Dec(); }
  // `reason`: "connections", "queue", "header_timeout", "body_timeout", "header_size",
  // "body_size", "malformed".
  void Refused(const std::string& reason) { refused_.With({reason}).Inc(); }

 private:
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& duration_;
  metrics::Gauge& connections_;
  metrics::CounterFamily& refused_;
};

// A route's pattern as the route label shows it: each outermost group "(...)" becomes "{}".
std::string RouteLabel(std::string_view pattern);

}  // namespace conveyor::http

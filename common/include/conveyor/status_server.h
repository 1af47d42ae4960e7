// StatusServer: the small HTTP listener of a process that has no HTTP API of its own (the
// worker), for operators and their tools. It serves
//   GET /healthz  200 while the process lives
//   GET /readyz   200 when every readiness check passes, else 503 naming each failed check
//   GET /metrics  the process's metrics in the Prometheus text format
// and 404 for anything else. The producer serves the same three on its API port, with the
// same answers (StatusAnswers below), so one probe configuration fits both.
//
// Start binds (port 0 picks a free one) and serves on a background thread; Stop stops and
// joins. `endpoints` must outlive the server; its functions are called on the server's
// threads, concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "conveyor/readiness.h"
#include "conveyor/result.h"

namespace conveyor {

struct StatusEndpoints {
  Readiness* readiness = nullptr;        // /readyz; null: ready whenever alive
  std::function<std::string()> metrics;  // /metrics body; empty: no metrics
};

// One answer of a status endpoint: its status, media type and body.
struct StatusAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
};
StatusAnswer HealthAnswer();
StatusAnswer ReadyAnswer(Readiness* readiness);
StatusAnswer MetricsAnswer(const std::function<std::string()>& metrics);

// "host:port" as --metrics-address takes it; kInvalidArgument naming what is wrong.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address);

// Socket options for a listening socket: SO_REUSEADDR (a restart binds at once) but not
// SO_REUSEPORT, which cpp-httplib sets by default and which lets a second process bind the same
// port and silently take half of its connections. For httplib::Server::set_socket_options.
void ExclusiveListenOptions(int socket);

class StatusServer {
 public:
  StatusServer(std::string host, int port, StatusEndpoints endpoints);
  ~StatusServer();

  // kUnavailable when the address cannot be bound.
  Status Start();
  void Stop();
  int port() const;  // the bound port, after Start

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor

#include "conveyor/status_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <charconv>
#include <chrono>
#include <thread>

namespace conveyor {

StatusAnswer HealthAnswer() { return {200, "application/json", R"({"status":"ok"})"}; }

StatusAnswer ReadyAnswer(Readiness* readiness) {
  if (!readiness) return {200, "application/json", R"({"status":"ready","checks":{}})"};
  auto report = readiness->Check();
  return {report.ready() ? 200 : 503, "application/json", report.ToJson()};
}

StatusAnswer MetricsAnswer(const std::function<std::string()>& metrics) {
  if (!metrics) return {404, "text/plain", "no metrics\n"};
  return {200, "text/plain; version=0.0.4; charset=utf-8", metrics()};
}

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Fail(ErrorCode::kInvalidArgument, "'" + address + "' is not host:port");
  int port = -1;
  auto digits = std::string_view(address).substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port < 0 || port > 65535)
    return Fail(ErrorCode::kInvalidArgument,
                "'" + address + "': the port must be a number from 0 to 65535");
  return std::pair(address.substr(0, colon), port);
}

void ExclusiveListenOptions(int socket) {
  int yes = 1;
  ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

struct StatusServer::Impl {
  std::string host;
  int port;
  StatusEndpoints endpoints;
  httplib::Server server;
  std::thread thread;
  int bound_port = 0;
};

namespace {

void Write(const StatusAnswer& answer, httplib::Response& res) {
  res.status = answer.status;
  res.set_content(answer.body, answer.content_type);
}

}  // namespace

StatusServer::StatusServer(std::string host, int port, StatusEndpoints endpoints)
    : impl_(new Impl{std::move(host), port, std::move(endpoints), {}, {}, 0}) {
  auto& e = impl_->endpoints;
  impl_->server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    Write(HealthAnswer(), res);
  });
  impl_->server.Get("/readyz", [&e](const httplib::Request&, httplib::Response& res) {
    Write(ReadyAnswer(e.readiness), res);
  });
  impl_->server.Get("/metrics", [&e](const httplib::Request&, httplib::Response& res) {
    Write(MetricsAnswer(e.metrics), res);
  });
  impl_->server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  impl_->server.set_socket_options([](socket_t sock) { ExclusiveListenOptions(sock); });
}

StatusServer::~StatusServer() { Stop(); }

Status StatusServer::Start() {
  auto& s = *impl_;
  if (s.port == 0) {
    s.bound_port = s.server.bind_to_any_port(s.host);
  } else {
    s.bound_port = s.server.bind_to_port(s.host, s.port) ? s.port : -1;
  }
  if (s.bound_port < 0)
    return Fail(ErrorCode::kUnavailable,
                "cannot listen on " + s.host + ":" + std::to_string(s.port) +
                    " (in use? another worker on this host needs its own --metrics-address)");
  s.thread = std::thread([&s] { s.server.listen_after_bind(); });
  // httplib's stop() does nothing before the accept loop runs: wait for it, so that a Stop
  // right after Start cannot leave the thread serving forever.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!s.server.is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return {};
}

void StatusServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

int StatusServer::port() const { return impl_->bound_port; }

}  // namespace conveyor

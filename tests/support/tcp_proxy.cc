#include "support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace conveyor::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

// Writes all of `data`; false when the socket is gone.
bool WriteAll(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(int listen_port, int target_port) : target_port_(target_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr = Loopback(listen_port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return;
  }
  listen_fd_ = fd;
  acceptor_ = std::thread([this] { Accept(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  Cut();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : pumps_) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void TcpProxy::Cut() {
  cut_ = true;
  std::lock_guard lock(mu_);
  // The pumps see their sockets end and close them; closing here could race a reused number.
  for (int fd : open_) shutdown(fd, SHUT_RDWR);
}

void TcpProxy::Heal() { cut_ = false; }

void TcpProxy::Accept() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (cut_) {
      close(client);
      continue;
    }
    Forward(client);
  }
}

void TcpProxy::Forward(int client) {
  int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(target_port_);
  if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(upstream);
    close(client);
    return;
  }
  std::lock_guard lock(mu_);
  open_.insert(client);
  open_.insert(upstream);
  pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
}

void TcpProxy::Pump(int a, int b) {
  std::array<char, 64 * 1024> buffer;
  std::array<pollfd, 2> fds = {pollfd{a, POLLIN, 0}, pollfd{b, POLLIN, 0}};
  bool open = true;
  while (open && !cut_) {
    if (poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (std::size_t i = 0; i < fds.size() && open; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = recv(fds[i].fd, buffer.data(), buffer.size(), 0);
      open = n > 0 && WriteAll(fds[1 - i].fd, buffer.data(), n);
    }
  }
  std::lock_guard lock(mu_);
  open_.erase(a);
  open_.erase(b);
  close(a);
  close(b);
}

}  // namespace conveyor::testing

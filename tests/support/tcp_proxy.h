// A TCP proxy on 127.0.0.1 that a test can cut, to part one process from a server without
// touching anything else: Cut() ends every connection through it and refuses new ones (each is
// accepted and closed at once) until Heal().
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace conveyor::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:listen_port and forwards each connection to 127.0.0.1:target_port.
  TcpProxy(int listen_port, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool listening() const { return listen_fd_ >= 0; }
  void Cut();
  void Heal();

 private:
  void Accept();
  void Forward(int client);
  // Copies both ways between the two sockets until either side ends, then closes both.
  void Pump(int a, int b);

  int target_port_;
  int listen_fd_ = -1;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<int> open_;  // both sockets of every connection being pumped
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace conveyor::testing

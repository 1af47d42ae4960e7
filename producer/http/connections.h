// The client connections of the producer's HTTP server (server.h), on Boost.Beast: each reads
// its requests one at a time (pipelined ones wait in its buffer, so answers keep their order),
// hands each to the Router on the handler pool and writes back the Answer, which a deferred
// route gives from another thread. Reading and writing never block a thread; only a route
// that is not deferred does, on a pool thread.
//
// What a server facing the network needs, each refusal rendered by the dialect that owns the
// path (Router::Refuse) and followed by closing the connection unless it says otherwise:
//   - a request's header must arrive within header_timeout of the connection's start, its body
//     within body_timeout: a slow client gets 408; a kept-alive connection with no next request
//     closes after idle_timeout, and an answer not taken within write_timeout is dropped;
//   - a header over max_header_bytes gets 431, a body over max_body_bytes 413 (declared or
//     sent), a request that is not HTTP/1.x or whose target is not a URI 400;
//   - over max_connections open connections, a new one gets 503 with Retry-After (twice that
//     many are closed unanswered); over max_queued requests not yet answered (waiting for or
//     held by a handler, or a create waiting for Kafka),
//     a request gets 503 with Retry-After, and its connection stays open;
//   - a chunk's size line or the trailer over 64 KiB (which the body limit does not count) gets
//     413: a connection's buffer holds at most a header and 64 KiB;
//   - Drain stops reading: a connection waiting for a request closes now; one whose request's
//     header has arrived reads the rest, gets its answer (with Connection: close), then closes.
// With a TLS context each connection first completes a TLS handshake within header_timeout;
// the first header then has header_timeout of its own.
//
// Thread-safe. The settings, the Router, the pool and the TLS context must outlive every
// connection: HttpServer drains and waits before destroying them.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>

#include "http/request_metrics.h"
#include "http/router.h"

namespace conveyor::http {

struct ServerSettings;

// One open connection, as Connections tracks it.
class Connection {
 public:
  virtual ~Connection() = default;
  // Stops waiting for the next request (from any thread; the connection acts on its own).
  virtual void Interrupt() = 0;
};

class Connections {
 public:
  // `tls` may be null: plain HTTP; `metrics` may be null: nothing is counted.
  Connections(const ServerSettings& settings, const Router& router,
              boost::asio::thread_pool& handlers, boost::asio::ssl::context* tls,
              RequestMetrics* metrics);

  // Serves `socket` until the client or the server closes it.
  void Serve(boost::asio::ip::tcp::socket socket);
  // Stops serving new requests (see above).
  void Drain();
  // Waits until every connection has closed or `deadline` passed; true when all have.
  bool WaitClosed(std::chrono::steady_clock::time_point deadline);
  std::size_t open() const { return open_count_; }

  // For the connections themselves.
  const ServerSettings& settings() const { return settings_; }
  const Router& router() const { return router_; }
  boost::asio::thread_pool& handlers() { return handlers_; }
  bool draining() const { return draining_; }
  // Counts a request until it is answered; false (nothing counted) when
  // max_queued are.
  bool TryQueue();
  void Dequeue() { --queued_; }
  std::size_t queued() const { return queued_; }
  void CountRefusal(const std::string& reason) {
    if (metrics_) metrics_->Refused(reason);
  }
  using Registration = std::list<std::weak_ptr<Connection>>::iterator;
  Registration Register(std::weak_ptr<Connection> connection);
  void Unregister(Registration registration);

 private:
  const ServerSettings& settings_;
  const Router& router_;
  boost::asio::thread_pool& handlers_;
  boost::asio::ssl::context* tls_;
  RequestMetrics* metrics_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> open_count_{0};
  std::mutex mutex_;
  std::condition_variable closed_;
  std::list<std::weak_ptr<Connection>> open_;  // guarded by mutex_
};

}  // namespace conveyor::http

#include "http/connections.h"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <vector>

#include "conveyor/logging.h"
#include "http/server.h"
#include "http/target.h"

namespace conveyor::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// After a refusal sent before the whole request was read, the client may still be sending:
// closing at once would reset the connection and could drop the refusal before the client
// reads it. The connection reads and discards for this long (or this much) first.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 8 << 20;
// What a connection's buffer holds beyond a header: Beast reads up to 64 KiB at a time.
constexpr std::size_t kReadAhead = 64 << 10;

bool ClientLeft(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::ssl::error::stream_truncated;
}

// "10 s", or "1500 ms".
std::string Duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

std::string RemoteAddress(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... TlsContext>
  Session(tcp::socket socket, Connections& connections, bool over_limit, TlsContext&... tls)
      : remote_(RemoteAddress(socket)),
        stream_(std::move(socket), tls...),
        connections_(connections),
        settings_(connections.settings()),
        over_limit_(over_limit) {}

  ~Session() override { connections_.Unregister(registration_); }

  void Start() {
    registration_ = connections_.Register(this->weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls)
        self->Handshake();
      else
        self->ReadHeader();
    });
  }

  void Interrupt() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->in_request_) return;  // it finishes, answers with Connection: close, closes
      beast::error_code ignored;
      self->Lowest().socket().cancel(ignored);
    });
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // The deadline of what the connection waits for next. Beast's own stream timeout closes the
  // socket, which would leave no way to answer 408: this one cancels the operation instead.
  void Arm(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    deadline_.expires_after(timeout);
    // A deadline that expired while the operation it guarded was completing may still run
    // after the next Arm: the generation tells it apart.
    deadline_.async_wait(
        [self = this->shared_from_this(), generation = ++generation_](beast::error_code ec) {
          if (ec || generation != self->generation_) return;  // re-armed or disarmed
          self->timed_out_ = true;
          beast::error_code ignored;
          self->Lowest().socket().cancel(ignored);
        });
  }
  void Disarm() {
    ++generation_;
    deadline_.cancel();
  }
  bool TimedOut(const beast::error_code& ec) const {
    return ec == asio::error::operation_aborted && timed_out_;
  }

  // The end: nothing more is read or written.
  void Shut() {
    Disarm();
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  void Handshake() {
    Arm(settings_.header_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) return self->Shut();  // not TLS, or too slow
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    if (connections_.draining()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
    parser_->body_limit(settings_.max_body_bytes);
    Arm(fresh_ ? settings_.header_timeout : settings_.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    // Idle (or never used): nobody is waiting for an answer.
    if (TimedOut(ec) && !parser_->got_some()) return Close();
    if (ec) return RefuseUnreadable(ec, "header");
    fresh_ = false;
    if (over_limit_)
      return Refuse("connections",
                    Unavailable("the server holds " + std::to_string(settings_.max_connections) +
                                " connections, its limit; try again in a second"),
                    true);
    Arm(settings_.body_timeout);
    in_request_ = true;
    if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue") && !parser_->is_done())
      return Continue();
    ReadBody();
  }

  // "Expect: 100-continue": the client waits for this before it sends the body.
  void Continue() {
    auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                        parser_->get().version());
    bhttp::async_write(
        stream_, *interim,
        [self = this->shared_from_this(), interim](beast::error_code ec, std::size_t) {
          if (ec) return self->Close();
          self->ReadBody();
        });
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->RefuseUnreadable(ec, "body");
                        self->Dispatch();
                      });
  }

  // A request that could not be read whole: answered when the client is still there to read
  // the answer, then the connection closes.
  void RefuseUnreadable(beast::error_code ec, const std::string& part) {
    if (!TimedOut(ec) && ClientLeft(ec)) return Close();
    if (TimedOut(ec)) {
      auto limit = part == "body" ? settings_.body_timeout
                   : fresh_       ? settings_.header_timeout
                                  : settings_.idle_timeout;
      return Refuse(
          part + "_timeout",
          MakeError(ErrorCode::kInvalidArgument,
                    "the request's " + part + " did not arrive within " + Duration(limit)),
          true, 408);
    }
    if (ec == bhttp::error::header_limit)
      return Refuse("header_size",
                    MakeError(ErrorCode::kTooLarge, "the request's header is over the limit of " +
                                                        std::to_string(settings_.max_header_bytes) +
                                                        " bytes"),
                    true, 431);
    if (ec == bhttp::error::buffer_overflow)  // a chunk's extensions or the trailer
      return Refuse("body_size",
                    MakeError(ErrorCode::kTooLarge,
                              "a chunk's size line or the trailer is over the limit of " +
                                  std::to_string(kReadAhead) + " bytes"),
                    true);
    if (ec == bhttp::error::body_limit)  // declared in the header, or sent
      return Refuse(
          "body_size",
          MakeError(ErrorCode::kTooLarge, "the request body is over the limit of " +
                                              std::to_string(settings_.max_body_bytes) + " bytes"),
          true);
    Refuse("malformed",
           MakeError(ErrorCode::kInvalidArgument,
                     "the request is not valid HTTP/1.1: " + ec.message()),
           true);
  }

  static Error Unavailable(std::string message) {
    auto e = MakeError(ErrorCode::kUnavailable, std::move(message));
    e.retry_after = std::chrono::seconds(1);
    return e;
  }

  // What the parser has of the request: enough for the router to pick the dialect that
  // renders a refusal.
  Request Heard() const {
    Request r;
    const auto& message = parser_->get();
    r.method = std::string(message.method_string());
    if (auto target = ParseTarget(message.target())) r.path = std::move(target->path);
    r.remote_address = remote_;
    return r;
  }

  // `close`: whatever the client asked for; else as it asked.
  void Refuse(const std::string& reason, const Error& error, bool close, int status = 0) {
    connections_.CountRefusal(reason);
    in_request_ = true;
    const auto& message = parser_->get();
    version_ = message.version() == 10 ? 10 : 11;
    head_ = message.method() == bhttp::verb::head;
    auto answer = connections_.router().Refuse(Heard(), error);
    if (status != 0) answer.status = status;
    Write(std::move(answer), close || !message.keep_alive(), close && !parser_->is_done());
  }

  void Dispatch() {
    Disarm();
    auto target = ParseTarget(parser_->get().target());
    if (!target) return Refuse("malformed", target.error(), false);
    if (!connections_.TryQueue())
      return Refuse("queue",
                    Unavailable(std::to_string(connections_.queued()) +
                                " requests are being answered, the server's limit; try again in "
                                "a second"),
                    false);
    asio::post(connections_.handlers(),
               [self = this->shared_from_this(), request = TakeRequest(std::move(*target))] {
                 self->Handle(std::move(request));
               });
  }

  Request TakeRequest(Target target) {
    auto message = parser_->release();
    Request r;
    r.method = std::string(message.method_string());
    r.path = std::move(target.path);
    r.params = std::move(target.params);
    for (const auto& field : message)
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    r.body = std::move(message.body());
    r.remote_address = remote_;
    head_ = message.method() == bhttp::verb::head;
    keep_alive_ = message.keep_alive();
    version_ = message.version() == 10 ? 10 : 11;
    return r;
  }

  // On a handler thread. A deferred route answers later, from another thread.
  void Handle(Request request) {
    Request brief;  // for a failure outside the routes (which answer their own)
    brief.method = request.method;
    brief.path = request.path;
    try {
      connections_.router().Handle(
          std::move(request),
          [self = this->shared_from_this()](Answer answer) { self->Answered(std::move(answer)); });
    } catch (const std::exception& e) {
      logging::Get("ingest")->error("{} {} failed outside its route: {}", brief.method, brief.path,
                                    e.what());
      Answered(connections_.router().Refuse(
          brief, MakeError(ErrorCode::kInternal, "internal error; see the producer's log")));
    }
  }

  void Answered(Answer answer) {
    connections_.Dequeue();
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), answer = std::move(answer)]() mutable {
                 self->Write(std::move(answer), !self->keep_alive_, false);
               });
  }

  void Write(Answer answer, bool close, bool linger) {
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(answer.status));
    for (auto& [name, value] : answer.headers) response_.insert(name, value);
    if (!answer.content_type.empty())
      response_.set(bhttp::field::content_type, answer.content_type);
    response_.keep_alive(!close && !connections_.draining());
    if (head_) {
      response_.content_length(answer.body.size());  // the body GET would have, unsent
    } else {
      response_.body() = std::move(answer.body);
      response_.prepare_payload();
    }
    Arm(settings_.write_timeout);
    bhttp::async_write(stream_, response_,
                       [self = this->shared_from_this(), linger](
                           beast::error_code ec, std::size_t) { self->OnWritten(ec, linger); });
  }

  void OnWritten(beast::error_code ec, bool linger) {
    in_request_ = false;
    head_ = false;
    if (ec) return Shut();
    if (linger) return Linger();
    if (!response_.keep_alive()) return Close();
    ReadHeader();
  }

  // Reads and discards what the client still sends, for a while, then closes.
  void Linger() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lingered_ = 0;
    discard_ = std::make_unique<std::array<char, 16 << 10>>();
    Arm(kLingerTime);
    Discard();
  }

  void Discard() {
    Lowest().async_read_some(asio::buffer(*discard_), [self = this->shared_from_this()](
                                                          beast::error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->Shut();
      self->Discard();
    });
  }

  void Close() {
    if constexpr (kTls) {
      Arm(std::chrono::seconds(1));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Shut(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Shut();
    }
  }

  const std::string remote_;
  Stream stream_;
  Connections& connections_;
  const ServerSettings& settings_;
  const bool over_limit_;
  Connections::Registration registration_;
  // Holds a header and what follows it; bounded, so that what no limit of the parser counts
  // (a chunk's extensions, the trailer) cannot grow it: over, Beast reports buffer_overflow.
  beast::flat_buffer buffer_{settings_.max_header_bytes + kReadAhead};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  asio::steady_timer deadline_{stream_.get_executor()};
  bool timed_out_ = false;
  bool fresh_ = true;             // no request read yet: header_timeout applies, not idle_timeout
  std::uint64_t generation_ = 0;  // of the deadline
  bool in_request_ = false;       // from a request's header to its answer's end
  unsigned version_ = 11;         // of the request being answered: 10 or 11
  bool head_ = false;             // the request being answered is a HEAD
  bool keep_alive_ = true;
  std::size_t lingered_ = 0;
  std::unique_ptr<std::array<char, 16 << 10>> discard_;  // only while lingering
};

}  // namespace

Connections::Connections(const ServerSettings& settings, const Router& router,
                         asio::thread_pool& handlers, asio::ssl::context* tls,
                         RequestMetrics* metrics)
    : settings_(settings), router_(router), handlers_(handlers), tls_(tls), metrics_(metrics) {}

void Connections::Serve(tcp::socket socket) {
  auto open = open_count_.load();
  if (open >= 2 * settings_.max_connections) return CountRefusal("connections");  // unanswered
  bool over_limit = open >= settings_.max_connections;
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // no Nagle delay on the answers
  if (tls_)
    std::make_shared<Session<TlsStream>>(std::move(socket), *this, over_limit, *tls_)->Start();
  else
    std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this, over_limit)->Start();
}

void Connections::Drain() {
  draining_ = true;
  std::vector<std::shared_ptr<Connection>> open;
  {
    // Released after the lock: the last reference's destructor unregisters, which locks.
    std::lock_guard lock(mutex_);
    for (auto& weak : open_)
      if (auto connection = weak.lock()) open.push_back(std::move(connection));
  }
  for (auto& connection : open) connection->Interrupt();
}

bool Connections::WaitClosed(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return closed_.wait_until(lock, deadline, [this] { return open_.empty(); });
}

bool Connections::TryQueue() {
  auto n = queued_.load();
  do {
    if (n >= settings_.max_queued) return false;
  } while (!queued_.compare_exchange_weak(n, n + 1));
  return true;
}

Connections::Registration Connections::Register(std::weak_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  ++open_count_;
  if (metrics_) metrics_->ConnectionOpened();
  return open_.insert(open_.end(), std::move(connection));
}

void Connections::Unregister(Registration registration) {
  std::lock_guard lock(mutex_);
  open_.erase(registration);
  --open_count_;
  if (metrics_) metrics_->ConnectionClosed();
  closed_.notify_all();
}

}  // namespace conveyor::http

// End to end (label: e2e): the producer's HTTP server facing hostile or careless clients —
// more connections than it allows, clients too slow to send a header or a body, headers and
// bodies over the limits, pipelined requests, a crowd of clients at once, more requests than
// its handlers take, creates waiting for Kafka while others are served — answers each with a clear
// error in the dialect's shape (or closes the connection), keeps its memory bounded and goes on
// serving everyone else. The requests go over raw sockets: an HTTP client library would not send
// them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kAccountTasks[] = "/api/v2/admin/tasks/account";

// An answer read off a raw connection; status 0 when none came.
struct RawAnswer {
  int status = 0;
  std::string head, body;
  bool closed = false;  // the server closed the connection after (or instead of) it
};

// One client connection over a plain socket.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // Sends all of `bytes`; false when the server closed the connection first.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next answer (its header, then Content-Length bytes of body), waiting until `deadline`.
  // The answer to a HEAD (`head`) has no body, whatever its Content-Length says.
  RawAnswer Read(std::chrono::milliseconds deadline = 10s, bool head = false) {
    RawAnswer answer;
    auto until = std::chrono::steady_clock::now() + deadline;
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill(until)) return Closed(answer);
    answer.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    answer.status = std::atoi(answer.head.substr(9, 3).c_str());
    auto length =
        static_cast<std::size_t>(std::atoll(Field(answer.head, "content-length").c_str()));
    if (answer.status == 100 || head) return answer;
    while (pending_.size() < length)
      if (!Fill(until)) return Closed(answer);
    answer.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return answer;
  }

  // True when the server closes the connection (after anything it still sends) by `deadline`.
  bool ClosedBy(std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (Fill(until)) {
    }
    return closed_;
  }

  // The value of header field `name` (lower case) in `head`; "" when absent.
  static std::string Field(const std::string& head, const std::string& name) {
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    auto start = head.find_first_not_of(' ', at + name.size() + 3);
    return head.substr(start, head.find("\r\n", start) - start);
  }

 private:
  // Reads what arrives by `until`; false at the end of the stream (closed_) or the deadline.
  bool Fill(std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[64 << 10];
    auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  RawAnswer Closed(RawAnswer answer) {
    answer.closed = closed_;
    return answer;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

// The start of a POST to the TwoSms create route, with `fields` ("Name: value\r\n" each).
std::string PostHead(const std::string& fields) {
  return "POST " + std::string(kAccountTasks) + " HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n";
}

// The producer's resident memory, in KiB (VmRSS).
long ResidentKiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// The TwoSms envelope's error message, or "" when `body` is not one.
std::string TwoSmsError(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("Error") || !j["Error"].is_object()) return "";
  return j["Error"].value("ErrorReason", "");
}

// The next answer on `c` is `status` with `words` in its TwoSms error, then `c` closes.
void ExpectRefusedThenClosed(RawConnection& c, int status, const std::string& words) {
  auto a = c.Read();
  EXPECT_EQ(a.status, status) << a.head;
  EXPECT_NE(TwoSmsError(a.body).find(words), std::string::npos) << a.body;
  EXPECT_TRUE(c.ClosedBy(10s));
}

class ServerSmoke : public testing::E2eTest {
 protected:
  void Start(std::vector<std::string> flags) {
    producer_ = StartProducer(testing::KafkaBrokers(), std::move(flags));
  }

  // The producer still lives and answers a new client.
  void ExpectItServesOn() {
    ASSERT_TRUE(producer_->running()) << producer_->Log();
    RawConnection c(port_);
    ASSERT_TRUE(c.Send(Get("/healthz")));
    EXPECT_EQ(c.Read().status, 200) << producer_->Log();
  }

  std::unique_ptr<testing::ChildProcess> producer_;
};

TEST_F(ServerSmoke, ConnectionsOverTheLimitAreAnswered503WithRetryAfterOrClosed) {
  // The waiting connections must not time out while the test waits for the server to hold them.
  Start({"--http-max-connections=40", "--http-header-timeout-ms=120000"});
  // 40 connections in use (answered, so surely open on the server's side: kept alive).
  std::vector<std::unique_ptr<RawConnection>> in_use, waiting;
  for (int i = 0; i < 40; ++i) {
    in_use.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(in_use.back()->Send(Get(kAccountTasks)));
    ASSERT_EQ(in_use.back()->Read().status, 401);  // the route wants credentials
  }
  // 40 more that have not sent a request yet: over the limit, each held until it does.
  for (int i = 0; i < 40; ++i) waiting.push_back(std::make_unique<RawConnection>(port_));
  // Once the server holds all 80, twice the limit, a new connection is closed unanswered.
  bool full = testing::PollUntil(
      [&] {
        RawConnection probe(port_);
        probe.Send(Get("/healthz"));
        auto a = probe.Read();
        return a.status == 0 && a.closed;
      },
      10s);
  ASSERT_TRUE(full) << producer_->Log();
  for (auto& c : waiting) {
    ASSERT_TRUE(c->Send(Get(kAccountTasks)));
    auto a = c->Read();
    EXPECT_EQ(a.status, 503) << a.head;
    EXPECT_EQ(RawConnection::Field(a.head, "retry-after"), "1") << a.head;
    EXPECT_NE(TwoSmsError(a.body).find("40 connections, its limit"), std::string::npos) << a.body;
    EXPECT_TRUE(c->ClosedBy(10s));
  }
  in_use.clear();
  waiting.clear();
  EXPECT_TRUE(testing::PollUntil(
      [&] {
        RawConnection c(port_);
        return c.Send(Get("/healthz")) && c.Read().status == 200;
      },
      10s));
  ExpectItServesOn();
}

TEST_F(ServerSmoke, SlowClientsGet408AndIdleConnectionsAreClosed) {
  Start(
      {"--http-header-timeout-ms=300", "--http-body-timeout-ms=300", "--http-idle-timeout-ms=300"});
  RawConnection slow_header(port_);
  ASSERT_TRUE(slow_header.Send("POST " + std::string(kAccountTasks) + " HTTP/1.1\r\nHost: a\r\n"));
  ExpectRefusedThenClosed(slow_header, 408, "header did not arrive within 300 ms");
  RawConnection slow_body(port_);
  ASSERT_TRUE(slow_body.Send(PostHead("Content-Length: 100\r\n") + "{\"Id\":"));
  ExpectRefusedThenClosed(slow_body, 408, "body did not arrive within 300 ms");

  RawConnection silent(port_);
  EXPECT_TRUE(silent.ClosedBy(10s));
  EXPECT_EQ(silent.Read(0ms).status, 0);  // closed without a word

  RawConnection idle(port_);
  ASSERT_TRUE(idle.Send(Get("/healthz")));
  EXPECT_EQ(idle.Read().status, 200);
  EXPECT_TRUE(idle.ClosedBy(10s));
  ExpectItServesOn();
}

TEST_F(ServerSmoke, HeadersAndBodiesOverTheLimitsAreRefusedNamingTheLimit) {
  Start({});
  RawConnection big_header(port_);
  ASSERT_TRUE(big_header.Send(Get(kAccountTasks, "X-Pad: " + std::string(20'000, 'x') + "\r\n")));
  ExpectRefusedThenClosed(big_header, 431, "over the limit of 16384 bytes");
  RawConnection declared(port_);
  ASSERT_TRUE(declared.Send(PostHead("Content-Length: 10485760\r\n")));
  ExpectRefusedThenClosed(declared, 413, "over the limit of 4194304 bytes");

  RawConnection chunked(port_);
  std::string request = PostHead("Transfer-Encoding: chunked\r\n");
  const std::string chunk = "100000\r\n" + std::string(0x100000, ' ') + "\r\n";  // 1 MiB
  for (int i = 0; i < 5; ++i) request += chunk;
  chunked.Send(request);  // the server may close before it has read it all
  ExpectRefusedThenClosed(chunked, 413, "over the limit of 4194304 bytes");

  RawConnection garbage(port_);
  ASSERT_TRUE(garbage.Send("HELLO\x01 there\r\n\r\n"));
  EXPECT_EQ(garbage.Read().status, 400);
  RawConnection bad_target(port_);
  ASSERT_TRUE(bad_target.Send(Get("/api/v2/admin/tasks/account/%zz")));
  auto d = bad_target.Read();
  EXPECT_EQ(d.status, 400) << d.head;
  EXPECT_NE(d.body.find("not a URI"), std::string::npos) << d.body;
  ExpectItServesOn();
}

TEST_F(ServerSmoke, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  Start({});
  RawConnection c(port_);
  ASSERT_TRUE(c.Send(Get("/healthz") + Get("/openapi.json") +
                     "HEAD /openapi.json HTTP/1.1\r\n"
                     "Host: a\r\n\r\n" +
                     Get("/healthz", "Connection: close\r\n")));
  auto health = c.Read(), openapi = c.Read(), head = c.Read(10s, true), last = c.Read();
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(openapi.status, 200);
  EXPECT_TRUE(json::parse(openapi.body, nullptr, false).contains("openapi")) << openapi.head;
  EXPECT_EQ(head.status, 200);
  // HEAD announces the length GET sends.
  EXPECT_EQ(RawConnection::Field(head.head, "content-length"), std::to_string(openapi.body.size()));
  EXPECT_EQ(last.status, 200);
  EXPECT_TRUE(c.ClosedBy(10s));
}

TEST_F(ServerSmoke, ACrowdOfClientsIsServedWithMemoryBounded) {
  Start({});
  const int pid = producer_->pid();
  auto warm = Http().Get("/healthz");
  ASSERT_TRUE(warm);
  const long before = ResidentKiB(pid);
  // 300 idle connections held open, 48 clients sending requests, and 20 chunked bodies whose
  // first chunk's size line never ends: 80 MiB that no parser limit counts.
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 300; ++i) idle.push_back(std::make_unique<RawConnection>(port_));
  std::vector<std::future<int>> clients;
  for (int t = 0; t < 48; ++t)
    clients.push_back(std::async(std::launch::async, [this, t] {
      auto http = Http();
      int ok = 0;
      for (int i = 0; i < 40; ++i) {
        auto r = (i + t) % 2 ? http.Get("/healthz")
                             : http.Post(kAccountTasks, "{not json", "application/json");
        ok += r && (r->status == 200 || r->status == 400);
      }
      return ok;
    }));
  for (int i = 0; i < 20; ++i) {
    RawConnection endless(port_);
    endless.Send(PostHead("Transfer-Encoding: chunked\r\n") + "1;" + std::string(4 << 20, 'x'));
    ExpectRefusedThenClosed(endless, 413, "size line or the trailer is over the limit");
  }
  int answered = 0;
  for (auto& f : clients) answered += f.get();
  EXPECT_EQ(answered, 48 * 40);
  const long after = ResidentKiB(pid);
  // Each idle connection holds a few KiB; nothing grows with what was sent.
  EXPECT_LT(after - before, 32 << 10) << before << " KiB before, " << after << " KiB after";
  ExpectItServesOn();
}

TEST_F(ServerSmoke, RequestsOverWhatTheHandlersHoldAreAnswered503WithRetryAfter) {
  // One handler thread and one request held at most; a Basic credential costs PBKDF2 (about
  // 0.3 s of a core) on every request when nothing is remembered.
  Start({"--http-threads=1", "--http-max-queued=1", "--auth-cache-seconds=0"});
  bool refused = testing::PollUntil(
      [&] {
        std::vector<std::unique_ptr<RawConnection>> clients;
        for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<RawConnection>(port_));
        for (auto& c : clients)
          c->Send(Get(std::string(kAccountTasks) + "/00000000-0000-4000-8000-000000000001",
                      "Authorization: " + ClientAuth() + "\r\n"));
        bool busy = false;
        for (auto& c : clients) {
          auto a = c->Read();
          if (a.status != 503) continue;
          auto reason = TwoSmsError(a.body);
          bool said =
              reason.find("requests are being answered, the server's limit") != std::string::npos;
          busy = busy || (said && RawConnection::Field(a.head, "retry-after") == "1");
        }
        return busy;
      },
      30s);
  EXPECT_TRUE(refused) << producer_->Log();
  ExpectItServesOn();
}

TEST_F(ServerSmoke, CreatesWaitingForKafkaHoldNoHandlerThread) {
  // One handler thread, and each event waits 5 s in librdkafka before it is sent: a create
  // that held its thread until Kafka acknowledged would keep every other request out.
  Start({"--http-threads=1", "--kafka-property=linger.ms=5000"});
  const auto body = SeedRequest().dump();
  const auto head = PostHead("Authorization: " + ClientAuth() +
                             "\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n");
  std::vector<std::unique_ptr<RawConnection>> creates;
  for (int i = 0; i < 8; ++i) {
    creates.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(creates.back()->Send(head + body));
  }
  RawConnection other(port_);
  ASSERT_TRUE(other.Send(Get("/healthz")));
  EXPECT_EQ(other.Read(4s).status, 200) << producer_->Log();
  std::set<std::string> ids;
  for (auto& c : creates) {
    auto a = c->Read(30s);
    ASSERT_EQ(a.status, 200) << a.head << a.body << producer_->Log();
    ids.insert(json::parse(a.body)["ResponseData"]["Detail"]["ID"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), creates.size());
  ExpectItServesOn();
}

// A request with a client's credentials and a JSON body (none when `body` is empty).
std::string ClientRequest(const std::string& method, const std::string& path,
                          const std::string& auth, const std::string& body = "") {
  return method + " " + path + " HTTP/1.1\r\nHost: a\r\nAuthorization: " + auth +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST_F(ServerSmoke, WritesWaitingForKafkaHoldNoHandlerThread) {
  // As above, for every kind of write: update, run now, delete, a note, a PATCH, a batch
  // task's update, each waiting 5 s in librdkafka.
  Start({"--http-threads=1", "--kafka-property=linger.ms=5000"});
  const std::string oracle = "/services/rest/connect/v1.4/tasks", batch = "/api/v1/BatchTask/";
  // Three tasks to write to: two TwoSms (by id), one Oracle (by number).
  std::vector<std::unique_ptr<RawConnection>> creates;
  for (int i = 0; i < 2; ++i) {
    creates.push_back(std::make_unique<RawConnection>(port_));
    creates.back()->Send(ClientRequest("POST", kAccountTasks, ClientAuth(), SeedRequest().dump()));
  }
  creates.push_back(std::make_unique<RawConnection>(port_));
  creates.back()->Send(ClientRequest("POST", oracle, ClientAuth(), json{{"name", "n"}}.dump()));
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < creates.size(); ++i) {
    auto a = creates[i]->Read(30s);
    ASSERT_EQ(a.status, i < 2 ? 200 : 201) << a.head << a.body << producer_->Log();
    auto j = json::parse(a.body);
    ids.push_back(i < 2 ? j["ResponseData"]["Detail"]["ID"].get<std::string>()
                        : std::to_string(j["id"].get<std::int64_t>()));
  }
  const std::string one = std::string(kAccountTasks) + "/" + ids[0];
  auto update = SeedRequest();
  update["Enabled"] = false;
  const std::vector<std::pair<std::string, int>> writes = {
      {ClientRequest("PUT", one, ClientAuth(), update.dump()), 200},
      {ClientRequest("POST", one + "/run", ClientAuth()), 200},
      {ClientRequest("DELETE", std::string(kAccountTasks) + "/" + ids[1], ClientAuth()), 200},
      {ClientRequest("POST", oracle + "/" + ids[2] + "/notes", ClientAuth(),
                     json{{"text", "held"}}.dump()),
       201},
      {ClientRequest("PATCH", oracle + "/" + ids[2], ClientAuth(), json{{"name", "m"}}.dump()),
       200},
      {ClientRequest("PUT", batch + ids[2], ClientAuth(), json{{"Description", "d"}}.dump()), 200}};
  std::vector<std::unique_ptr<RawConnection>> pending;
  for (const auto& [request, status] : writes) {
    pending.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(pending.back()->Send(request));
  }
  RawConnection other(port_);
  ASSERT_TRUE(other.Send(Get("/healthz")));
  EXPECT_EQ(other.Read(4s).status, 200) << producer_->Log();
  for (std::size_t i = 0; i < writes.size(); ++i) {
    auto a = pending[i]->Read(30s);
    EXPECT_EQ(a.status, writes[i].second) << writes[i].first << "\n" << a.head << a.body;
  }
  ExpectItServesOn();
}

TEST_F(ServerSmoke, StopAnswersTheRequestInFlightAndDoesNotWaitForIdleConnections) {
  // Nothing remembered: the request's Basic credential costs PBKDF2 (about 0.3 s) in its
  // route, long after the drain has begun.
  Start({"--auth-cache-seconds=0"});
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<RawConnection>(port_));
  // A create whose header the server has read (it said 100 Continue) when SIGTERM arrives.
  const auto body = SeedRequest().dump();
  RawConnection in_flight(port_);
  ASSERT_TRUE(in_flight.Send(PostHead(
      "Authorization: " + ClientAuth() + "\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n")));
  ASSERT_EQ(in_flight.Read().status, 100);
  ASSERT_EQ(::kill(producer_->pid(), SIGTERM), 0);
  ASSERT_TRUE(in_flight.Send(body));
  auto a = in_flight.Read();
  EXPECT_EQ(a.status, 200) << a.head << a.body << producer_->Log();
  EXPECT_EQ(RawConnection::Field(a.head, "connection"), "close") << a.head;
  // The idle connections did not hold the exit up (the drain would wait 15 s for them).
  int status = producer_->Stop(SIGTERM, 10s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << producer_->Log();
}

}  // namespace
}  // namespace conveyor

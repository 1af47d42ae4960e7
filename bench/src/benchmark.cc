#include "benchmark.h"

#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "conveyor/logging.h"
#include "conveyor/pg.h"
#include "conveyor/pg_rows.h"
#include "conveyor/uuid.h"

namespace conveyor::bench {
namespace {

using Clock = std::chrono::system_clock;

struct Endpoint {
  std::string host;
  int port = 0;
};

Result<Endpoint> ParseLoopbackUrl(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme))
    return Fail(ErrorCode::kInvalidArgument, "'" + url + "' is not an http:// URL", "--url");
  auto rest = std::string_view(url).substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, "'" + url + "' has no port", "--url");
  Endpoint e{std::string(rest.substr(0, colon)), 0};
  auto digits = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), e.port);
  if (ec != std::errc() || end != digits.data() + digits.size() || e.port < 1 || e.port > 65535)
    return Fail(ErrorCode::kInvalidArgument, "'" + url + "' has no valid port", "--url");
  if (e.host == "[::1]") e.host = "::1";
  if (e.host != "127.0.0.1" && e.host != "localhost" && e.host != "::1")
    return Fail(ErrorCode::kInvalidArgument,
                "the benchmark only talks to a producer on this machine (127.0.0.1, localhost or "
                "[::1]), not '" +
                    e.host + "'",
                "--url");
  return e;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Submitted {
  std::vector<Uuid> ids;     // of the accepted tasks
  std::size_t rejected = 0;  // tasks
  std::size_t requests = 0;
  std::string first_rejection;
  std::vector<double> latencies_ms;
  Clock::time_point first_sent{};
  Clock::time_point last_answer{};
};

// `headers` and an Idempotency-Key of its own.
httplib::Headers WithIdempotencyKey(httplib::Headers headers) {
  headers.emplace("Idempotency-Key", Uuid::Random().ToString());
  return headers;
}

// The ids of the accepted tasks in a TwoSms answer: ResponseData.Detail.ID of a single
// create; for a bulk (a 200, or a 503 where only some were created) the ID of each item of
// ResponseData.Detail whose Status is Accepted.
std::vector<Uuid> AcceptedIds(const std::string& body) {
  std::vector<Uuid> out;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j["ResponseData"].is_object()) return out;
  const auto& detail = j["ResponseData"]["Detail"];
  auto add = [&out](const nlohmann::json& item) {
    if (!item.is_object() || !item["ID"].is_string()) return;
    if (item.contains("Status") && item["Status"] != "Accepted") return;
    if (auto id = Uuid::Parse(item["ID"].get<std::string>())) out.push_back(*id);
  };
  if (detail.is_array())
    for (const auto& item : detail) add(item);
  else
    add(detail);
  return out;
}

// Posts `count` identical no-op tasks, `s.bulk` per request (one by one when 1), over
// min(connections, requests) keep-alive connections, one thread each. Stops early at the
// deadline.
Submitted Submit(const Endpoint& ep, const BenchSettings& s, std::size_t count) {
  nlohmann::json task = {{"TaskID", s.task_type_id},
                         {"Frequency", 0},
                         {"Parameters", "{}"},
                         {"ContentType", "application/json"},
                         {"Notification", s.notification}};
  const std::size_t per_request = std::max<std::size_t>(1, s.bulk);
  const bool bulk = per_request > 1;
  const std::string path =
      bulk ? "/api/v2/admin/tasks/account/bulk" : "/api/v2/admin/tasks/account";
  // The body of a request carrying `k` tasks.
  auto payload_of = [&](std::size_t k) {
    if (!bulk) return task.dump();
    std::string body = R"({"Tasks":[)";
    for (std::size_t i = 0; i < k; ++i) body += (i ? "," : "") + task.dump();
    return body + "]}";
  };
  const std::size_t requests = (count + per_request - 1) / per_request;
  const std::string full_payload = payload_of(per_request);
  const std::string last_payload =
      count % per_request == 0 ? full_payload : payload_of(count % per_request);
  httplib::Headers headers;
  for (const auto& [k, v] : s.headers) headers.emplace(k, v);
  Submitted out;
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> sent_tasks{0}, sent_requests{0};
  std::size_t n = std::max<std::size_t>(1, std::min(s.connections, requests));
  // Every connection is opened (with a /healthz request) before the clock starts, so the
  // figures measure requests, not a burst of TCP handshakes.
  std::latch connected(static_cast<std::ptrdiff_t>(n));
  std::atomic<bool> started{false};
  Clock::time_point first{};
  std::chrono::steady_clock::time_point start{}, deadline{};
  std::mutex start_mu;
  std::condition_variable start_cv;
  auto worker = [&] {
    httplib::Client client(ep.host, ep.port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // the request's header and body are separate writes
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(60, 0);
    auto ping = client.Get("/healthz");
    connected.count_down();
    {
      std::unique_lock lock(start_mu);
      start_cv.wait(lock, [&] { return started.load(); });
    }
    if (!ping) client.stop();  // connect again on the first request
    std::vector<Uuid> ids;
    std::vector<double> latencies;
    std::size_t rejected = 0;
    std::string first_rejection;
    for (std::size_t r;
         (r = next.fetch_add(1)) < requests && std::chrono::steady_clock::now() < deadline;) {
      bool last = r + 1 == requests;
      std::size_t k = last && count % per_request ? count % per_request : per_request;
      sent_tasks += k;
      ++sent_requests;
      auto t0 = std::chrono::steady_clock::now();
      if (s.rate > 0) {
        t0 = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(r) / s.rate));
        std::this_thread::sleep_until(t0);  // pacing the load, not waiting for a result
      }
      auto res = client.Post(path, s.idempotency_keys ? WithIdempotencyKey(headers) : headers,
                             last ? last_payload : full_payload, "application/json");
      latencies.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      std::vector<Uuid> accepted;
      if (res && (res->status == 200 || (bulk && res->status == 503)))
        accepted = AcceptedIds(res->body);
      ids.insert(ids.end(), accepted.begin(), accepted.end());
      if (accepted.size() >= k) continue;
      rejected += k - accepted.size();
      if (first_rejection.empty())
        first_rejection = res ? fmt::format("HTTP {}: {}", res->status, res->body.substr(0, 300))
                              : "no answer: " + httplib::to_string(res.error());
    }
    auto last = Clock::now();
    std::lock_guard lock(mu);
    out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    out.latencies_ms.insert(out.latencies_ms.end(), latencies.begin(), latencies.end());
    out.rejected += rejected;
    if (out.first_rejection.empty()) out.first_rejection = first_rejection;
    out.last_answer = std::max(out.last_answer, last);
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) threads.emplace_back(worker);
  connected.wait();
  {
    std::lock_guard lock(start_mu);
    first = Clock::now();
    start = std::chrono::steady_clock::now();
    deadline = start + s.deadline;
    started = true;
  }
  start_cv.notify_all();
  for (auto& t : threads) t.join();
  out.first_sent = first;
  out.requests = sent_requests;
  if (auto sent = sent_tasks.load(); sent < count) {
    out.rejected += count - sent;
    if (out.first_rejection.empty())
      out.first_rejection = fmt::format("{} tasks not sent within the {} s deadline", count - sent,
                                        s.deadline.count());
  }
  return out;
}

// The tasks of one phase, held in a temporary table on `conn` so that the polling query joins
// instead of shipping every id again.
void LoadIds(pqxx::connection& conn, const std::vector<Uuid>& ids) {
  pqxx::work tx(conn);
  tx.exec0("CREATE TEMPORARY TABLE IF NOT EXISTS bench_tasks (id uuid PRIMARY KEY)");
  tx.exec0("TRUNCATE bench_tasks");
  constexpr std::size_t kChunk = 10000;
  for (std::size_t i = 0; i < ids.size(); i += kChunk) {
    std::vector<Uuid> chunk(
        ids.begin() + static_cast<std::ptrdiff_t>(i),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(i + kChunk, ids.size())));
    tx.exec_params0("INSERT INTO bench_tasks SELECT unnest($1::uuid[])", UuidArrayParam(chunk));
  }
  tx.exec0("ANALYZE bench_tasks");
  tx.commit();
}

constexpr char kFinalStates[] = "('succeeded', 'failed', 'cancelled')";

// A semi-join without DISTINCT: a scan of runs, no sort. This load falls on the PostgreSQL
// being measured, hence the modest default poll interval; the figures do not depend on it
// (the end time is the last finished_at, not the moment a poll saw it).
std::size_t CountFinal(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx
      .exec1(std::string("SELECT count(*) FROM bench_tasks b WHERE EXISTS (SELECT 1 FROM runs r "
                         "WHERE r.task_id = b.id AND r.state IN ") +
             kFinalStates + ")")[0]
      .as<std::size_t>();
}

// Whether a run of the client's tasks is not final: the partial index runs_unfinished holds
// only such runs, so this is cheap next to CountFinal's scan of every run.
bool AnyRunUnfinished(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx
      .exec1(
          "SELECT EXISTS (SELECT 1 FROM runs r JOIN bench_tasks b ON b.id = r.task_id "
          "WHERE r.finished_at IS NULL)")[0]
      .as<bool>();
}

// Polls until every loaded task has a final run or the deadline passes; the final count.
// While some run is unfinished the tasks are not all final, so the count waits (but is
// still taken every 5 s for the progress line, and at the deadline).
std::size_t WaitForFinal(pqxx::connection& conn, std::size_t expected, const BenchSettings& s) {
  auto deadline = std::chrono::steady_clock::now() + s.deadline;
  auto log = logging::Get("bench");
  auto last_said = std::chrono::steady_clock::now();
  while (true) {
    auto now = std::chrono::steady_clock::now();
    bool say = now - last_said >= std::chrono::seconds(5);
    bool late = now >= deadline;
    if (say || late || !AnyRunUnfinished(conn)) {
      std::size_t done = CountFinal(conn);
      if (done >= expected || late) return done;
      if (say) {
        log->info("{} of {} tasks final", done, expected);
        last_said = now;
      }
    }
    std::this_thread::sleep_for(s.poll_interval);
  }
}

Result<std::vector<ProcessFigures>> SampleAll(const std::vector<WatchedProcess>& ps) {
  std::vector<ProcessFigures> out;
  for (const auto& p : ps) {
    auto samples = Sample(p);
    if (!samples) return std::unexpected(samples.error());
    ProcessFigures f{p.name, std::move(*samples), 0, 0};
    for (const auto& s : f.samples) {
      f.vm_hwm_kb_sum += s.vm_hwm_kb;
      f.cpu_seconds += s.cpu_seconds;
    }
    out.push_back(std::move(f));
  }
  return out;
}

Status Ping(const Endpoint& ep) {
  httplib::Client client(ep.host, ep.port);
  client.set_connection_timeout(5, 0);
  auto res = client.Get("/healthz");
  if (!res)
    return Fail(ErrorCode::kUnavailable, fmt::format("no producer answers on {}:{} ({})", ep.host,
                                                     ep.port, httplib::to_string(res.error())));
  if (res->status != 200)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("the producer answered /healthz with {}", res->status));
  return {};
}

}  // namespace

Status Validate(const BenchSettings& s) {
  if (auto ep = ParseLoopbackUrl(s.http_url); !ep) return std::unexpected(ep.error());
  if (s.pg_url.empty())
    return Fail(ErrorCode::kInvalidArgument, "the workers' database URL is needed", "--pg-url");
  if (s.tasks < 1 || s.tasks > kMaxTasks)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("must be between 1 and {} (limit)", kMaxTasks), "--tasks");
  if (s.warmup > kMaxTasks)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("must be at most {} (limit)", kMaxTasks),
                "--warmup");
  if (s.bulk < 1 || s.bulk > kMaxBulk)
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("must be between 1 and {} (the producer's limit per request)", kMaxBulk),
        "--bulk");
  if (s.connections < 1 || s.connections > kMaxConnections)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("must be between 1 and {} (limit)", kMaxConnections), "--connections");
  if (s.deadline < std::chrono::seconds(1))
    return Fail(ErrorCode::kInvalidArgument, "must be at least 1 s", "--deadline-s");
  if (!Uuid::Parse(s.task_type_id))
    return Fail(ErrorCode::kInvalidArgument, "'" + s.task_type_id + "' is not a UUID",
                "--task-type");
  return {};
}

Result<BenchReport> RunBenchmark(const BenchSettings& s) {
  if (auto v = Validate(s); !v) return std::unexpected(v.error());
  auto ep = *ParseLoopbackUrl(s.http_url);
  if (auto p = Ping(ep); !p) return std::unexpected(p.error());
  auto log = logging::Get("bench");
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(s.pg_url);
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "connecting to the workers' database"));
  }

  try {
    if (s.warmup > 0) {
      log->info("warm-up: {} tasks", s.warmup);
      auto warm = Submit(ep, s, s.warmup);
      if (warm.rejected > 0)
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("warm-up: {} of {} tasks refused; first: {}", warm.rejected,
                                s.warmup, warm.first_rejection));
      LoadIds(*conn, warm.ids);
      if (auto done = WaitForFinal(*conn, warm.ids.size(), s); done < warm.ids.size())
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("warm-up: only {} of {} tasks final within {} s", done,
                                warm.ids.size(), s.deadline.count()));
    }

    // The client itself shares the machine: its figures are reported too.
    auto watched = s.processes;
    watched.push_back({"bench-client", static_cast<int>(getpid()), false});
    auto before = SampleAll(watched);
    if (!before) return std::unexpected(before.error());
    auto machine0 = SampleMachine();
    auto wall0 = std::chrono::steady_clock::now();
    log->info("submitting {} tasks over {} connections, {} per request", s.tasks, s.connections,
              std::max<std::size_t>(1, s.bulk));
    auto sub = Submit(ep, s, s.tasks);

    BenchReport r;
    r.tasks = s.tasks;
    r.bulk = std::max<std::size_t>(1, s.bulk);
    r.requests = sub.requests;
    r.rate = s.rate;
    r.idempotency_keys = s.idempotency_keys;
    r.connections = std::min(s.connections, (s.tasks + r.bulk - 1) / r.bulk);
    r.accepted = sub.ids.size();
    r.rejected = sub.rejected;
    r.first_rejection = sub.first_rejection;
    r.submit_seconds = Seconds(sub.last_answer - sub.first_sent);
    r.submit_per_second =
        r.submit_seconds > 0 ? static_cast<double>(r.accepted) / r.submit_seconds : 0;
    r.requests_per_second =
        r.submit_seconds > 0 ? static_cast<double>(r.requests) / r.submit_seconds : 0;
    r.http_latency_p50_ms = Percentile(sub.latencies_ms, 0.50);
    r.http_latency_p99_ms = Percentile(sub.latencies_ms, 0.99);
    log->info("submitted: {} accepted, {} refused, {:.0f}/s; waiting for the runs", r.accepted,
              r.rejected, r.submit_per_second);

    LoadIds(*conn, sub.ids);
    r.final_runs = WaitForFinal(*conn, sub.ids.size(), s);
    r.complete = r.final_runs == sub.ids.size();
    auto wall = std::chrono::steady_clock::now() - wall0;
    auto machine1 = SampleMachine();
    r.machine_cpu_seconds = machine1.total_seconds - machine0.total_seconds;
    r.machine_busy_cpu_seconds = machine1.busy_seconds - machine0.busy_seconds;
    auto after = SampleAll(watched);
    if (!after) return std::unexpected(after.error());
    r.wall_cpu_seconds = std::chrono::duration<double>(wall).count();
    r.processes = std::move(*after);
    for (std::size_t i = 0; i < r.processes.size(); ++i)
      r.processes[i].cpu_seconds -= (*before)[i].cpu_seconds;

    pqxx::read_transaction tx(*conn);
    auto row = tx.exec1(std::string(R"(
        SELECT count(*) FILTER (WHERE r.state = 'succeeded'),
               (extract(epoch FROM max(r.finished_at)) * 1e6)::bigint,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - t.created_at)),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - t.created_at)),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - t.created_at)),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - t.created_at))
          FROM bench_tasks b
          JOIN tasks t ON t.id = b.id
          JOIN runs r ON r.task_id = t.id
         WHERE r.state IN )") +
                        kFinalStates);
    r.succeeded = row[0].as<std::size_t>();
    auto ms = [](const pqxx::field& f) { return f.is_null() ? 0.0 : f.as<double>() * 1000.0; };
    r.start_latency_p50_ms = ms(row[2]);
    r.start_latency_p99_ms = ms(row[3]);
    r.final_latency_p50_ms = ms(row[4]);
    r.final_latency_p99_ms = ms(row[5]);
    if (!row[1].is_null()) {
      auto last_final = Clock::time_point(std::chrono::microseconds(row[1].as<long long>()));
      r.e2e_seconds = Seconds(last_final - sub.first_sent);
      if (r.e2e_seconds > 0) r.tasks_per_second = static_cast<double>(r.final_runs) / r.e2e_seconds;
    }
    return r;
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the runs"));
  }
}

nlohmann::json BenchReport::ToJson() const {
  nlohmann::json ps = nlohmann::json::array();
  for (const auto& p : processes) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& s : p.samples)
      members.push_back({{"pid", s.pid}, {"command", s.command}, {"vm_hwm_kb", s.vm_hwm_kb}});
    ps.push_back({{"name", p.name},
                  {"vm_hwm_kb", p.vm_hwm_kb_sum},
                  {"cpu_seconds", p.cpu_seconds},
                  {"processes", members}});
  }
  return {{"tasks", tasks},
          {"connections", connections},
          {"rate", rate},
          {"idempotency_keys", idempotency_keys},
          {"tasks_per_request", bulk},
          {"requests", requests},
          {"accepted", accepted},
          {"rejected", rejected},
          {"final", final_runs},
          {"succeeded", succeeded},
          {"complete", complete},
          {"tasks_per_second", tasks_per_second},
          {"e2e_seconds", e2e_seconds},
          {"submit_per_second", submit_per_second},
          {"requests_per_second", requests_per_second},
          {"submit_seconds", submit_seconds},
          {"start_latency_ms", {{"p50", start_latency_p50_ms}, {"p99", start_latency_p99_ms}}},
          {"final_latency_ms", {{"p50", final_latency_p50_ms}, {"p99", final_latency_p99_ms}}},
          {"http_latency_ms", {{"p50", http_latency_p50_ms}, {"p99", http_latency_p99_ms}}},
          {"measured_wall_seconds", wall_cpu_seconds},
          {"machine_cpu_seconds", machine_cpu_seconds},
          {"machine_busy_cpu_seconds", machine_busy_cpu_seconds},
          {"processes", ps}};
}

std::string BenchReport::ToText() const {
  std::string out;
  out += fmt::format(
      "mode             {} task{} per request ({}); {} requests\n", bulk, bulk == 1 ? "" : "s",
      bulk == 1 ? "api/v2/admin/tasks/account" : "api/v2/admin/tasks/account/bulk", requests);
  if (idempotency_keys) out += "keys             each request with an Idempotency-Key of its own\n";
  if (rate > 0)
    out += fmt::format("paced            {:.0f} requests/s; latency counts from each due time\n",
                       rate);
  out += fmt::format("tasks            {} submitted over {} connections: {} accepted, {} refused\n",
                     tasks, connections, accepted, rejected);
  if (!first_rejection.empty()) out += "first refusal    " + first_rejection + "\n";
  out += fmt::format("final            {} of {} accepted ({} succeeded){}\n", final_runs, accepted,
                     succeeded, complete ? "" : "  INCOMPLETE");
  out += fmt::format(
      "end to end       {:.0f} tasks/s ({:.2f} s from the first request to the "
      "last final state)\n",
      tasks_per_second, e2e_seconds);
  out += fmt::format(
      "submit rate      {:.0f} tasks/s in {:.0f} requests/s ({:.2f} s); HTTP answer p50 {:.1f} "
      "ms, p99 {:.1f} ms (client, per request)\n",
      submit_per_second, requests_per_second, submit_seconds, http_latency_p50_ms,
      http_latency_p99_ms);
  out += fmt::format(
      "submit->start    p50 {:.1f} ms, p99 {:.1f} ms (PostgreSQL: run started_at - "
      "task created_at)\n",
      start_latency_p50_ms, start_latency_p99_ms);
  out += fmt::format(
      "submit->final    p50 {:.1f} ms, p99 {:.1f} ms (PostgreSQL: run finished_at "
      "- task created_at)\n",
      final_latency_p50_ms, final_latency_p99_ms);
  out += fmt::format("processes        peak RSS (VmHWM) and CPU seconds in the {:.2f} s measured\n",
                     wall_cpu_seconds);
  double watched = 0;
  for (const auto& p : processes) watched += p.cpu_seconds;
  out += fmt::format(
      "machine          {:.2f} of {:.2f} cpu-s busy; the processes below {:.2f}, other work on "
      "the machine {:.2f}\n",
      machine_busy_cpu_seconds, machine_cpu_seconds, watched,
      std::max(0.0, machine_busy_cpu_seconds - watched));
  for (const auto& p : processes) {
    out += fmt::format("  {:<14} {:>8.1f} MiB  {:>7.2f} cpu-s", p.name,
                       static_cast<double>(p.vm_hwm_kb_sum) / 1024.0, p.cpu_seconds);
    if (p.samples.size() > 1)
      out += fmt::format("  ({} processes, shared memory counted in each)", p.samples.size());
    out += "\n";
  }
  return out;
}

}  // namespace conveyor::bench

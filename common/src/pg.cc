#include "conveyor/pg.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>

#include "conveyor/embedded_files.h"
#include "conveyor/logging.h"

namespace conveyor {

namespace {

// libpq's messages end in a newline.
std::string WithoutTrailingSpace(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

Error PgError(const std::exception& e, std::string_view what) {
  std::string message = WithoutTrailingSpace(std::string(what) + ": " + e.what());
  if (dynamic_cast<const pqxx::broken_connection*>(&e) ||
      dynamic_cast<const StalePreparedStatement*>(&e) ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) ||
      dynamic_cast<const pqxx::serialization_failure*>(&e) ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e))
    return MakeError(ErrorCode::kUnavailable, std::move(message));
  return MakeError(ErrorCode::kInternal, std::move(message));
}

namespace {

bool IsUri(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// Where a URI's query begins (its '?'), or npos. As libpq reads it: the user info runs to the
// first '@' before any '/', and may hold a '?' of a password; the query is the first '?'
// after it.
std::size_t QueryStart(std::string_view uri) {
  auto from = uri.find("://") + 3;
  auto end = uri.find_first_of("@/", from);
  if (end != std::string_view::npos && uri[end] == '@') from = end + 1;
  return uri.find('?', from);
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Whether a libpq connection string sets parameter `name`: in a URI's query
// (?name=… or &name=…), or as a keyword=value pair. Not seen: a percent-encoded name, and
// what a service file (service=…) sets; the parameter added then wins over it.
bool SetsParameter(std::string_view url, std::string_view name, bool uri) {
  auto from = uri ? QueryStart(url) : 0;
  if (from == std::string_view::npos) return false;
  for (auto at = url.find(name, from); at != std::string_view::npos; at = url.find(name, at + 1)) {
    char before = at == 0 ? ' ' : url[at - 1];
    bool starts = uri ? (before == '?' || before == '&') : IsSpace(before);
    auto after = at + name.size();
    while (!uri && after < url.size() && IsSpace(url[after])) ++after;
    if (starts && after < url.size() && url[after] == '=') return true;
  }
  return false;
}

// The separator before one more parameter of `url`.
std::string_view Separator(std::string_view url, bool uri) {
  if (!uri) return url.empty() || IsSpace(url.back()) ? "" : " ";
  if (QueryStart(url) == std::string_view::npos) return "?";
  return url.back() == '?' || url.back() == '&' ? "" : "&";
}

// The connections on which a prepared statement went stale, until PgPool takes them back.
std::mutex stale_mutex;
std::set<const pqxx::connection_base*> stale_connections;

void MarkStale(const pqxx::connection_base* conn) {
  std::lock_guard lock(stale_mutex);
  stale_connections.insert(conn);
}

bool TakeStale(const pqxx::connection_base* conn) {
  std::lock_guard lock(stale_mutex);
  return stale_connections.erase(conn) > 0;
}

}  // namespace

void RethrowPreparedFailure(pqxx::connection_base& conn, const pqxx::feature_not_supported& e) {
  if (std::string_view(e.what()).find("cached plan must not change result type") ==
      std::string_view::npos)
    throw;
  MarkStale(&conn);
  logging::Get("db")->warn("a prepared statement went stale, its connection will be closed: {}",
                           WithoutTrailingSpace(e.what()));
  throw StalePreparedStatement(e.what(), e.query(), e.sqlstate().c_str());
}

std::string PreparedName(pqxx::connection_base& conn, const std::string& sql) {
  char name[32];
  std::snprintf(name, sizeof name, "conveyor_%016zx", std::hash<std::string>{}(sql));
  conn.prepare(name, sql);  // the same name and text again: nothing to do
  return name;
}

std::string PgUrlWithKeepalives(const std::string& url) {
  static constexpr std::pair<std::string_view, std::string_view> kSettings[] = {
      {"keepalives", "1"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "2"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "15000"}};
  bool uri = IsUri(url);
  std::string out = url;
  for (auto [name, value] : kSettings) {
    if (SetsParameter(url, name, uri)) continue;
    out.append(Separator(out, uri)).append(name).append("=").append(value);
  }
  return out;
}

PgPool::PgPool(std::string url, std::size_t max_connections, SessionSettings session)
    : url_(std::move(url)),
      max_connections_(std::max<std::size_t>(1, max_connections)),
      session_(std::move(session)) {}

Result<PgPool::Lease> PgPool::Acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (idle_.empty() && open_ >= max_connections_) {
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_connections_)
      return Fail(ErrorCode::kUnavailable, "no PostgreSQL connection free within " +
                                               std::to_string(timeout.count()) + " ms");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  try {
    auto conn = std::make_unique<pqxx::connection>(PgUrlWithKeepalives(url_));
    TakeStale(conn.get());  // a mark left by a connection outside a pool at this address
    // Remembered by the connection, and set again if libpqxx reconnects it.
    conn->set_variable("jit", "off");
    conn->set_variable("random_page_cost", "1.1");
    for (const auto& [name, value] : session_) conn->set_variable(name, conn->quote(value));
    return Lease(this, std::move(conn));
  } catch (const std::exception& e) {
    std::lock_guard relock(mutex_);
    --open_;
    returned_.notify_one();
    return std::unexpected(
        MakeError(ErrorCode::kUnavailable, PgError(e, "connecting to PostgreSQL").message));
  }
}

PgPool::Usage PgPool::usage() {
  std::lock_guard lock(mutex_);
  return {open_, idle_.size(), max_connections_};
}

void PgPool::Return(std::unique_ptr<pqxx::connection> conn) {
  bool stale = conn && TakeStale(conn.get());
  std::lock_guard lock(mutex_);
  if (conn && conn->is_open() && !stale)
    idle_.push_back(std::move(conn));
  else
    --open_;
  returned_.notify_one();
}

namespace {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::vector<Migration> CompiledMigrations() {
  std::vector<Migration> out;
  for (auto path : embedded::List("common/migrations/")) {
    auto name = path.substr(path.rfind('/') + 1);
    int version = 0;
    std::from_chars(name.data(), name.data() + name.size(), version);
    out.push_back({version, name, embedded::Find(path)});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  return out;
}

// Any fixed number both processes agree on; it names "Conveyor migrations" to PostgreSQL.
constexpr long long kMigrationLock = 0x436f6e7665796f72;  // "Conveyor"

}  // namespace

int LatestMigrationVersion() {
  auto all = CompiledMigrations();
  return all.empty() ? 0 : all.back().version;
}

Status RunMigrations(pqxx::connection& conn) {
  auto log = logging::Get("db");
  try {
    {
      // Under the lock too: two programs starting at once both ran CREATE TABLE IF NOT
      // EXISTS, and the second failed on the type the first had just created.
      pqxx::work tx(conn);
      tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
      tx.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
          "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    for (const auto& m : CompiledMigrations()) {
      pqxx::work tx(conn);
      tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
      auto seen = tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version);
      if (!seen.empty()) continue;
      tx.exec(std::string(m.sql));
      tx.exec_params0("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                      std::string(m.name));
      tx.commit();
      log->info("applied migration {}", m.name);
    }
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "running migrations"));
  }
  return {};
}

}  // namespace conveyor

// PostgreSQL plumbing over libpqxx: a bounded connection pool, the schema migrations, and
// the mapping of pqxx exceptions to Errors.
//
// A pqxx::connection is not thread-safe; PgPool hands each caller one connection at a time
// (a Lease) and takes it back when the Lease is destroyed. A connection that broke, or on which
// a prepared statement went stale (ExecPrepared), is dropped instead of returned. PgPool is
// thread-safe.
//
// Every pooled connection has TCP keepalives (PgUrlWithKeepalives) and turns PostgreSQL's JIT
// compilation off for its session
// (SET jit = off). Conveyor's statements are short and read by index, but a few of them
// (unnest arrays, correlated subqueries) get a plan estimate over jit_above_cost, and then
// PostgreSQL spent more time compiling each one than running it: 3.1 s of the 5.0 s that the
// fire statements took in the 100,000-task burst of bench/schedules.
//
// They also set random_page_cost to 1.1, the value PostgreSQL's documentation suggests for
// storage whose random reads cost little more than sequential ones (SSDs, a working set in
// memory). With the default 4, the planner priced the key probes of a batch statement (500
// runs by id) above a sequential scan of a table of a hundred thousand rows, and chose the
// scan: bench/README.md, "The accepted record's look into tasks".
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/result.h"

namespace conveyor {

// Broken connections, transactions in doubt, serialization failures, deadlocks and stale
// prepared statements are kUnavailable (retry can help); everything else is kInternal.
Error PgError(const std::exception& e, std::string_view what);

class PgPool {
 public:
  // Settings every connection sets for its session (SET name TO 'value'), besides jit.
  using SessionSettings = std::vector<std::pair<std::string, std::string>>;
  PgPool(std::string url, std::size_t max_connections, SessionSettings session = {});

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->Return(std::move(conn_));
    }
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // A connection, opened on demand up to max_connections; waits up to `timeout` for one to
  // come back. kUnavailable when none could be had or PostgreSQL refused.
  Result<Lease> Acquire(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::string& url() const { return url_; }

  struct Usage {
    std::size_t open = 0;  // connections open, leased or idle
    std::size_t idle = 0;  // open and not leased
    std::size_t max = 0;
  };
  Usage usage();

 private:
  void Return(std::unique_ptr<pqxx::connection> conn);

  std::string url_;
  std::size_t max_connections_;
  SessionSettings session_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;
};

// `url` with TCP keepalives and a user timeout of a few seconds, each unless the url sets it
// itself: a connection whose server went away without a word (a partition, a NAT that
// forgot it) breaks within about 15 s instead of holding its caller. Takes both of libpq's
// forms, a URI (postgresql://…) and keyword=value pairs. PgPool connects with it.
std::string PgUrlWithKeepalives(const std::string& url);

// A prepared statement that PostgreSQL no longer runs on its connection (ExecPrepared).
class StalePreparedStatement : public pqxx::sql_error {
 public:
  using pqxx::sql_error::sql_error;
};

// Called in ExecPrepared's handler of `e`: when `e` says the statement's result changed type
// (PostgreSQL's message in English; a server that translates its messages leaves it
// kInternal), marks `conn` to be closed by its PgPool and throws StalePreparedStatement;
// otherwise rethrows `e` (another "feature not supported" is the statement's own fault).
[[noreturn]] void RethrowPreparedFailure(pqxx::connection_base& conn,
                                         const pqxx::feature_not_supported& e);

// The name under which `sql` is prepared on `conn`, defining it there the first time
// (libpqxx sends it to PostgreSQL when it first runs).
std::string PreparedName(pqxx::connection_base& conn, const std::string& sql);

// Runs `sql` as a statement prepared on the transaction's connection, named by a hash of its
// text: PostgreSQL parses it once per connection instead of once per call, and after five runs
// plans it once too where its generic plan is costed below the plans made for the values.
// At 100 tasks a second, one task per statement, planning took more of PostgreSQL's time than
// running the statements did (bench/README.md, "Prepared statements"). For statements whose
// text is one of a few shapes; a query built from a caller's filters goes through exec_params.
// A pooler in front of PostgreSQL must keep each connection's statements (docs/operations.md,
// "PostgreSQL sessions").
//
// A migration that changes the type of a column a statement returns leaves that statement
// unusable on every connection that prepared it: PostgreSQL refuses it ("cached plan must not
// change result type") for as long as the connection lives. ExecPrepared then throws
// StalePreparedStatement, which PgError calls kUnavailable, and PgPool closes the connection
// when its lease comes back, so that a retry prepares the statement anew on another.
template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  auto name = PreparedName(tx.conn(), sql);
  try {
    return tx.exec_prepared(name, std::forward<Args>(args)...);
  } catch (const pqxx::feature_not_supported& e) {
    RethrowPreparedFailure(tx.conn(), e);
  }
}

// Applies the numbered migrations (common/migrations/NNNN_*.sql, compiled in) that the
// database has not seen, each in its own transaction, under an advisory lock so that
// processes starting together do not race. Forward-only.
Status RunMigrations(pqxx::connection& conn);

// The highest migration version compiled into this binary.
int LatestMigrationVersion();

}  // namespace conveyor

// PgPool (common/include/conveyor/pg.h) against a real PostgreSQL server (label: integration):
// its connections run Conveyor's session settings, also after one went back to the pool, and
// their sockets have TCP keepalives; ExecPrepared prepares a statement once per connection.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <map>
#include <string>

#include "conveyor/pg.h"
#include "support/services.h"

namespace conveyor {
namespace {

std::string Setting(PgPool::Lease& lease, const std::string& name) {
  pqxx::nontransaction tx(*lease);
  return tx.exec1("SHOW " + name)[0].c_str();
}

TEST(PgPool, ItsConnectionsRunWithoutJitAndWithCheapKeyProbesAlsoWhenLeasedAgain) {
  testing::ScratchDatabase db;
  {
    pqxx::connection plain(db.url());
    ASSERT_EQ(pqxx::nontransaction(plain).exec1("SHOW jit")[0].as<std::string>(), "on")
        << "the server's default must be on for this test to tell anything";
  }
  PgPool pool(db.url(), 2);
  {
    auto first = pool.Acquire();
    ASSERT_TRUE(first.has_value()) << first.error().Describe();
    auto second = pool.Acquire();
    ASSERT_TRUE(second.has_value()) << second.error().Describe();
    EXPECT_EQ(Setting(*first, "jit"), "off");
    EXPECT_EQ(Setting(*second, "jit"), "off");
    EXPECT_EQ(Setting(*first, "random_page_cost"), "1.1");
  }
  auto again = pool.Acquire();
  ASSERT_TRUE(again.has_value()) << again.error().Describe();
  EXPECT_EQ(Setting(*again, "jit"), "off");
  EXPECT_EQ(Setting(*again, "random_page_cost"), "1.1");
  EXPECT_EQ(pool.usage().open, 2u);
}

// What PostgreSQL holds prepared on this connection: its statements, by name.
std::map<std::string, std::string> PreparedOn(pqxx::transaction_base& tx) {
  std::map<std::string, std::string> statements;
  for (const auto& r : tx.exec("SELECT name, statement FROM pg_prepared_statements"))
    statements[r[0].c_str()] = r[1].c_str();
  return statements;
}

TEST(ExecPrepared, PreparesEachTextOnceOnAConnectionAndAgainOnANewOne) {
  testing::ScratchDatabase db;
  const std::string twice = "SELECT $1::int * 2";
  const std::string thrice = "SELECT $1::int * 3";
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    EXPECT_EQ(ExecPrepared(tx, twice, 21)[0][0].as<int>(), 42);
    EXPECT_EQ(ExecPrepared(tx, twice, 5)[0][0].as<int>(), 10);
    EXPECT_EQ(ExecPrepared(tx, thrice, 5)[0][0].as<int>(), 15);
    auto prepared = PreparedOn(tx);
    ASSERT_EQ(prepared.size(), 2u) << "one statement for each text, however often it ran";
    EXPECT_EQ(prepared.at(PreparedName(conn, twice)), twice);
    EXPECT_EQ(prepared.at(PreparedName(conn, thrice)), thrice);
    EXPECT_NE(PreparedName(conn, twice), PreparedName(conn, thrice));
    tx.abort();
    pqxx::work after_rollback(conn);
    EXPECT_EQ(ExecPrepared(after_rollback, twice, 3)[0][0].as<int>(), 6)
        << "a rollback leaves the statement prepared";
    EXPECT_EQ(PreparedOn(after_rollback).size(), 2u);
  }
  pqxx::connection fresh(db.url());
  pqxx::work tx(fresh);
  EXPECT_TRUE(PreparedOn(tx).empty());
  EXPECT_EQ(ExecPrepared(tx, twice, 4)[0][0].as<int>(), 8) << "a new connection prepares it again";
  EXPECT_EQ(PreparedOn(tx).size(), 1u);
}

int BackendPid(PgPool::Lease& lease) {
  pqxx::nontransaction tx(*lease);
  return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
}

TEST(ExecPrepared, AnotherUnsupportedFeatureIsTheStatementsOwnFaultAndKeepsTheConnection) {
  testing::ScratchDatabase db;
  PgPool pool(db.url(), 1);
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.has_value()) << lease.error().Describe();
    pqxx::work tx(**lease);
    try {
      ExecPrepared(tx, "SELECT count(*) FROM pg_class GROUP BY relkind FOR UPDATE");
      ADD_FAILURE() << "PostgreSQL ran FOR UPDATE with GROUP BY";
    } catch (const StalePreparedStatement& e) {
      ADD_FAILURE() << "taken for a stale statement: " << e.what();
    } catch (const pqxx::feature_not_supported& e) {
      EXPECT_EQ(PgError(e, "locking").code, ErrorCode::kInternal) << e.what();
    }
  }
  EXPECT_EQ(pool.usage().open, 1u) << "the connection is kept";
}

TEST(ExecPrepared, AStatementWhoseResultChangedTypeIsRetryableAndItsConnectionIsReplaced) {
  testing::ScratchDatabase db;
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE t (v int); INSERT INTO t VALUES (7)");
    tx.commit();
  }
  const std::string read = "SELECT v FROM t";
  PgPool pool(db.url(), 1);
  int first_backend = 0;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.has_value()) << lease.error().Describe();
    first_backend = BackendPid(*lease);
    pqxx::work tx(**lease);
    EXPECT_EQ(ExecPrepared(tx, read)[0][0].as<int>(), 7);
  }
  {
    pqxx::connection migration(db.url());
    pqxx::work tx(migration);
    tx.exec("ALTER TABLE t ALTER COLUMN v TYPE bigint");
    tx.commit();
  }
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.has_value()) << lease.error().Describe();
    ASSERT_EQ(BackendPid(*lease), first_backend) << "the pool's one connection, kept";
    pqxx::work tx(**lease);
    try {
      ExecPrepared(tx, read);
      ADD_FAILURE() << "PostgreSQL ran a statement whose result changed type";
    } catch (const StalePreparedStatement& e) {
      EXPECT_EQ(PgError(e, "reading t").code, ErrorCode::kUnavailable) << e.what();
    }
  }
  EXPECT_EQ(pool.usage().open, 0u) << "the connection with the stale statement is closed";
  auto lease = pool.Acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().Describe();
  EXPECT_NE(BackendPid(*lease), first_backend);
  pqxx::work tx(**lease);
  auto rows = ExecPrepared(tx, read);
  constexpr pqxx::oid kInt8 = 20;
  EXPECT_EQ(rows.column_type(0), kInt8) << "prepared anew, as bigint";
  EXPECT_EQ(rows[0][0].as<std::int64_t>(), 7);
}

int SocketOption(PgPool::Lease& lease, int level, int name) {
  int value = -1;
  socklen_t size = sizeof value;
  EXPECT_EQ(getsockopt(lease->sock(), level, name, &value, &size), 0) << "getsockopt " << name;
  return value;
}

TEST(PgPool, ItsSocketsHaveKeepalivesOfSecondsUnlessTheUrlSetsItsOwn) {
  testing::ScratchDatabase db;
  {
    PgPool pool(db.url(), 1);
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.has_value()) << lease.error().Describe();
    EXPECT_EQ(SocketOption(*lease, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(SocketOption(*lease, IPPROTO_TCP, TCP_KEEPIDLE), 5);
    EXPECT_EQ(SocketOption(*lease, IPPROTO_TCP, TCP_KEEPINTVL), 2);
    EXPECT_EQ(SocketOption(*lease, IPPROTO_TCP, TCP_KEEPCNT), 3);
    EXPECT_EQ(SocketOption(*lease, IPPROTO_TCP, TCP_USER_TIMEOUT), 15000);
  }
  std::string url = db.url();
  url += url.find('?') == std::string::npos ? "?keepalives_idle=30" : "&keepalives_idle=30";
  PgPool own(url, 1);
  auto lease = own.Acquire();
  ASSERT_TRUE(lease.has_value()) << lease.error().Describe();
  EXPECT_EQ(SocketOption(*lease, IPPROTO_TCP, TCP_KEEPIDLE), 30) << "the url's own setting";
}

}  // namespace
}  // namespace conveyor

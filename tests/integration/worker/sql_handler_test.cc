// The sql handler against a real PostgreSQL database (label: integration).
#include "src/sql_handler.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "support/services.h"

namespace conveyor {
namespace {

class NoProgress final : public ProgressReporter {
 public:
  void Report(int, std::string) override {}
};

class SqlHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE events (id int PRIMARY KEY, day date NOT NULL, note text);"
        "INSERT INTO events VALUES (1, '2026-01-01', 'a'), (2, '2026-01-02', NULL),"
        "  (3, '2026-03-01', 'c')");
    tx.commit();
    task_.id = Uuid::Random();
    task_.number = 7;
    task_.content_type = "application/json";
  }

  HandlerResult Run(SqlHandler& handler) {
    HandlerContext context{
        task_, run_id_, 1, 1, progress_, token_, std::chrono::steady_clock::time_point::max()};
    return handler.Run(context);
  }

  long long Count(const std::string& sql) const { return db_.Count(sql); }

  testing::ScratchDatabase db_;
  Task task_;
  Uuid run_id_ = Uuid::Random();
  NoProgress progress_;
  CancellationToken token_;
};

TEST_F(SqlHandlerTest, StatementRunsWithBoundParametersAndRecordsTheAffectedRowCount) {
  SqlHandler handler(
      "purge",
      {"DELETE FROM events WHERE day < $1::date AND id <> $2::int", {"before", "keep"}, ""},
      db_.url());
  task_.parameters = R"({"keep": 99, "before": "2026-02-01"})";
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->result, "2 rows affected");
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 1);
}

TEST_F(SqlHandlerTest, XmlParametersAreBoundByElementName) {
  SqlHandler handler("note", {"UPDATE events SET note = $2 WHERE id = $1::int", {"id", "note"}, ""},
                     db_.url());
  task_.content_type = "application/xml";
  task_.parameters = "<Parameters><note>from xml</note><id>3</id></Parameters>";
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->result, "1 row affected");
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE id = 3 AND note = 'from xml'"), 1);
}

TEST_F(SqlHandlerTest, NullParameterIsBoundAsNull) {
  SqlHandler handler("clear", {"UPDATE events SET note = $1 WHERE id = 1", {"note"}, ""},
                     db_.url());
  task_.parameters = R"({"note": null})";
  ASSERT_TRUE(Run(handler).has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM events WHERE id = 1 AND note IS NULL"), 1);
}

TEST_F(SqlHandlerTest, StatementPostgresqlRefusesFailsWithoutRetryAndChangesNothing) {
  SqlHandler handler("broken", {"DELETE FROM events WHERE day < $1::date", {"before"}, ""},
                     db_.url());
  task_.parameters = R"({"before": "not a date"})";
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable);
  EXPECT_NE(r.error().message.find("broken: running the statement"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("not a date"), std::string::npos) << r.error().message;
  EXPECT_EQ(Count("SELECT count(*) FROM events"), 3);
}

TEST_F(SqlHandlerTest, MissingParameterFailsNamingItBeforeConnecting) {
  SqlHandler handler("purge", {"DELETE FROM events WHERE day < $1::date", {"before"}, ""},
                     "postgresql://nobody@127.0.0.1:1/none");
  task_.parameters = R"({"after": "2026-01-01"})";
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message, "purge: Parameters has no field 'before'");
}

TEST_F(SqlHandlerTest, UnreachableDatabaseIsARetryableFailure) {
  SqlHandler handler("purge", {"SELECT 1", {}, ""}, "postgresql://nobody@127.0.0.1:1/none");
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().retryable) << r.error().message;
  EXPECT_NE(r.error().message.find("purge: connecting to PostgreSQL"), std::string::npos)
      << r.error().message;
}

TEST_F(SqlHandlerTest, CancelStopsALongStatement) {
  SqlHandler handler("slow", {"SELECT pg_sleep(60)", {}, ""}, db_.url());
  std::thread canceller([&] {
    testing::PollUntil(
        [&] {
          return Count(
                     "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'"
                     " AND state = 'active'") > 0;
        },
        std::chrono::seconds(10));
    token_.Cancel(CancelReason::kStopRequested);
  });
  auto started = std::chrono::steady_clock::now();
  auto r = Run(handler);
  canceller.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(r.error().message, "slow: running the statement stopped (stop requested)");
}

}  // namespace
}  // namespace conveyor

// The array literals of conveyor/pg_rows.h against a real PostgreSQL server (label:
// integration): every value comes back from unnest() as it went in, whatever it holds.
#include <gtest/gtest.h>

#include <climits>

#include "conveyor/pg_rows.h"
#include "support/services.h"

namespace conveyor {
namespace {

TEST(PgArrays, TextValuesComeBackAsTheyWentInWhateverTheyHold) {
  testing::ScratchDatabase db;
  std::vector<std::optional<std::string>> values = {"plain",
                                                    "",
                                                    std::nullopt,
                                                    "NULL",
                                                    "a \"quoted\" word",
                                                    "back\\slash and \\\" both",
                                                    "\\",
                                                    "\"",
                                                    "{braces}, commas; and spaces  ",
                                                    "line\nbreak\ttab",
                                                    "ünïcødé ✓",
                                                    std::string(70000, 'x') + "\"end"};
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  auto rows =
      tx.exec_params("SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n",
                     TextArrayParam(values));
  ASSERT_EQ(rows.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) {
      EXPECT_TRUE(rows[i][0].is_null()) << "value " << i;
      continue;
    }
    ASSERT_FALSE(rows[i][0].is_null()) << "value " << i;
    EXPECT_EQ(rows[i][0].as<std::string>(), *values[i]) << "value " << i;
  }
  auto empty = tx.exec_params("SELECT cardinality($1::text[])", TextArrayParam({}));
  EXPECT_EQ(empty[0][0].as<int>(), 0);
}

TEST(PgArrays, IntegersAndUuidsComeBackAsTheyWentIn) {
  testing::ScratchDatabase db;
  std::vector<long long> numbers = {0, 1, -1, LLONG_MAX, LLONG_MIN, 42};
  std::vector<Uuid> ids = {Uuid::Random(), Uuid::Random()};
  pqxx::connection conn(db.url());
  pqxx::nontransaction tx(conn);
  auto got =
      tx.exec_params("SELECT array_to_string($1::bigint[], ' '), array_to_string($2::uuid[], ' ')",
                     IntArrayParam(numbers), UuidArrayParam(ids));
  EXPECT_EQ(got[0][0].as<std::string>(), "0 1 -1 9223372036854775807 -9223372036854775808 42");
  EXPECT_EQ(got[0][1].as<std::string>(), ids[0].ToString() + " " + ids[1].ToString());
}

}  // namespace
}  // namespace conveyor

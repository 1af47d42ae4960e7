// PgPool (common/include/conveyor/pg.h) against a real PostgreSQL server (label: integration):
// its connections run Conveyor's session settings, also after one went back to the pool.
#include <gtest/gtest.h>

#include "conveyor/pg.h"
#include "support/services.h"

namespace conveyor {
namespace {

std::string Setting(PgPool::Lease& lease, const std::string& name) {
  pqxx::nontransaction tx(*lease);
  return tx.exec1("SHOW " + name)[0].c_str();
}

TEST(PgPool, ItsConnectionsRunWithoutJitAndKeepItWhenLeasedAgain) {
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
  }
  auto again = pool.Acquire();
  ASSERT_TRUE(again.has_value()) << again.error().Describe();
  EXPECT_EQ(Setting(*again, "jit"), "off");
  EXPECT_EQ(pool.usage().open, 2u);
}

}  // namespace
}  // namespace conveyor

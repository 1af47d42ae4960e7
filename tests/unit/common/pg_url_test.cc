// PgUrlWithKeepalives (conveyor/pg.h): the keepalive parameters libpq takes, added to both of
// its connection-string forms, and never over one the user set.
#include <gtest/gtest.h>

#include "conveyor/pg.h"

namespace conveyor {
namespace {

constexpr char kAll[] =
    "keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=3&"
    "tcp_user_timeout=15000";

TEST(PgUrlWithKeepalives, AddsEveryParameterToAUriAsItsQuery) {
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://postgres@127.0.0.1:5432/conveyor"),
            std::string("postgresql://postgres@127.0.0.1:5432/conveyor?") + kAll);
}

TEST(PgUrlWithKeepalives, AddsToAUriQueryThatIsThere) {
  EXPECT_EQ(PgUrlWithKeepalives("postgres://db/conveyor?sslmode=require"),
            std::string("postgres://db/conveyor?sslmode=require&") + kAll);
}

TEST(PgUrlWithKeepalives, AddsKeywordPairsToAKeywordString) {
  EXPECT_EQ(PgUrlWithKeepalives("host=db dbname=conveyor"),
            "host=db dbname=conveyor keepalives=1 keepalives_idle=5 keepalives_interval=2 "
            "keepalives_count=3 tcp_user_timeout=15000");
  EXPECT_EQ(PgUrlWithKeepalives(""),
            "keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 "
            "tcp_user_timeout=15000")
      << "an empty string (libpq's defaults and PG* variables) gets them too";
}

TEST(PgUrlWithKeepalives, KeepsWhatTheUserSet) {
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://db/c?keepalives_idle=60&tcp_user_timeout=0"),
            "postgresql://db/c?keepalives_idle=60&tcp_user_timeout=0&keepalives=1&"
            "keepalives_interval=2&keepalives_count=3");
  EXPECT_EQ(PgUrlWithKeepalives("host=db keepalives = 0"),
            "host=db keepalives = 0 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 "
            "tcp_user_timeout=15000");
}

TEST(PgUrlWithKeepalives, AParameterNameElsewhereInTheStringIsNotASetting) {
  // A database named like a parameter, and a parameter whose name begins like another.
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://db/keepalives?keepalives_count=9"),
            "postgresql://db/keepalives?keepalives_count=9&keepalives=1&keepalives_idle=5&"
            "keepalives_interval=2&tcp_user_timeout=15000");
}

TEST(PgUrlWithKeepalives, AddsToAUriEndingInItsQuerysSeparator) {
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://db/c?"), std::string("postgresql://db/c?") + kAll);
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://db/c?sslmode=disable&"),
            std::string("postgresql://db/c?sslmode=disable&") + kAll);
}

TEST(PgUrlWithKeepalives, AQuestionMarkInAPasswordIsNotTheQuery) {
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://u:p?w@db/c"),
            std::string("postgresql://u:p?w@db/c?") + kAll);
  EXPECT_EQ(PgUrlWithKeepalives("postgresql://u:p?keepalives=0@db/c?keepalives_idle=9"),
            "postgresql://u:p?keepalives=0@db/c?keepalives_idle=9&keepalives=1&"
            "keepalives_interval=2&keepalives_count=3&tcp_user_timeout=15000")
      << "a password that reads like a parameter sets nothing";
}

TEST(PgUrlWithKeepalives, OnlyAStringThatBeginsWithTheSchemeIsAUri) {
  EXPECT_EQ(PgUrlWithKeepalives("host=db application_name=http://x"),
            "host=db application_name=http://x keepalives=1 keepalives_idle=5 "
            "keepalives_interval=2 keepalives_count=3 tcp_user_timeout=15000");
}

TEST(PgUrlWithKeepalives, AnyWhiteSpaceSeparatesAKeywordAndItsEqualsSign) {
  EXPECT_EQ(PgUrlWithKeepalives("host=db\tkeepalives_idle\t= 60\nkeepalives_count=1 "),
            "host=db\tkeepalives_idle\t= 60\nkeepalives_count=1 keepalives=1 "
            "keepalives_interval=2 tcp_user_timeout=15000");
}

}  // namespace
}  // namespace conveyor

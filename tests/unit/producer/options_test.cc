// ProducerOptions: conveyor-producer's flags, their environment variables and defaults
// (README's Configuration table), its operator subcommands, and what FinishProducerOptions
// checks.
#include "options.h"

#include <gtest/gtest.h>

#include <sstream>

#include "support/scoped_environment.h"

namespace conveyor {
namespace {

class ProducerOptionsTest : public ::testing::Test {
 protected:
  std::variant<ProducerOptions, CommandLineExit> Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "conveyor-producer");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return ParseProducerCommandLine(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }
  ProducerOptions Options(std::vector<std::string> args) {
    auto parsed = Parse(std::move(args));
    if (auto* exit = std::get_if<CommandLineExit>(&parsed)) {
      ADD_FAILURE() << "exit " << exit->status << ": " << err_.str();
      return {};
    }
    return std::get<ProducerOptions>(parsed);
  }

  testing::ScopedEnvironment env_{{"CONVEYOR_KAFKA_BROKERS", "CONVEYOR_KAFKA_PROPERTIES",
                                   "CONVEYOR_PG_URL", "CONVEYOR_LOG_LEVEL", "CONVEYOR_HTTP_HOST",
                                   "CONVEYOR_HTTP_PORT", "CONVEYOR_TOKEN_LIFETIME_SECONDS",
                                   "CONVEYOR_AUTH_CACHE_SECONDS", "CONVEYOR_PG_CONNECTIONS",
                                   "CONVEYOR_PUBLIC_BASE_URL"}};
  std::ostringstream out_, err_;
};

TEST_F(ProducerOptionsTest, DefaultsAreTheDocumentedOnes) {
  auto o = Options({});
  EXPECT_EQ(o.command, ProducerOptions::Command::kServe);
  EXPECT_EQ(o.common.kafka.brokers, "127.0.0.1:19092");
  EXPECT_EQ(o.common.pg_url, "postgresql://postgres@127.0.0.1:15432/conveyor");
  EXPECT_EQ(o.server.host, "127.0.0.1");
  EXPECT_EQ(o.server.port, 8080);
  EXPECT_EQ(o.server.threads, 16);
  EXPECT_EQ(o.pg_connections, 16);
  EXPECT_EQ(o.delivery_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(o.auth.token_lifetime, std::chrono::seconds(28800));
  EXPECT_EQ(o.auth.cache_ttl, std::chrono::seconds(30));
  EXPECT_EQ(o.server.header_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(o.server.idle_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(o.server.max_connections, 4096u);
  EXPECT_EQ(o.server.max_queued, 1024u);
}

TEST_F(ProducerOptionsTest, FlagsSetTheirFieldsAndWinOverTheirVariables) {
  env_.Set("CONVEYOR_HTTP_PORT", "9000");
  env_.Set("CONVEYOR_AUTH_CACHE_SECONDS", "0");
  env_.Set("CONVEYOR_HTTP_HOST", "127.0.0.2");
  env_.Set("CONVEYOR_PG_CONNECTIONS", "3");
  auto o = Options({"--http-port", "9100", "--http-threads", "4", "--delivery-timeout-ms", "2500",
                    "--token-lifetime-seconds", "60"});
  EXPECT_EQ(o.pg_connections, 3);                        // the variable, apart from the threads
  EXPECT_EQ(o.server.port, 9100);                        // the flag
  EXPECT_EQ(o.server.host, "127.0.0.2");                 // the variable
  EXPECT_EQ(o.auth.cache_ttl, std::chrono::seconds(0));  // the variable
  EXPECT_EQ(o.server.threads, 4);
  EXPECT_EQ(o.delivery_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.auth.token_lifetime, std::chrono::seconds(60));
}

TEST_F(ProducerOptionsTest, TheServersLimitsAndTimeoutsComeFromTheirFlags) {
  env_.Set("CONVEYOR_HTTP_MAX_CONNECTIONS", "300");
  auto o = Options({"--http-io-threads", "2", "--http-max-queued", "50", "--http-header-timeout-ms",
                    "1500", "--http-body-timeout-ms", "2500", "--http-idle-timeout-ms", "3500"});
  EXPECT_EQ(o.server.io_threads, 2);
  EXPECT_EQ(o.server.max_connections, 300u);  // the variable
  EXPECT_EQ(o.server.max_queued, 50u);
  EXPECT_EQ(o.server.header_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(o.server.body_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.server.idle_timeout, std::chrono::milliseconds(3500));
}

TEST_F(ProducerOptionsTest, HelpListsEveryFlagWithItsVariableAndExitsZero) {
  auto parsed = Parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<CommandLineExit>(parsed));
  EXPECT_EQ(std::get<CommandLineExit>(parsed).status, 0);
  for (const char* text :
       {"--http-port", "CONVEYOR_HTTP_PORT", "--delivery-timeout-ms", "--auth-cache-seconds",
        "CONVEYOR_AUTH_CACHE_SECONDS", "--pg-connections", "CONVEYOR_PG_CONNECTIONS",
        "create-admin-key", "revoke-admin-key", "--pg-url"})
    EXPECT_NE(out_.str().find(text), std::string::npos) << text << " missing from --help";
}

TEST_F(ProducerOptionsTest, AValueOutOfItsRangeIsRefusedNamingTheFlag) {
  auto parsed = Parse({"--delivery-timeout-ms", "5"});
  ASSERT_TRUE(std::holds_alternative<CommandLineExit>(parsed));
  EXPECT_NE(std::get<CommandLineExit>(parsed).status, 0);
  EXPECT_NE(err_.str().find("--delivery-timeout-ms"), std::string::npos) << err_.str();
}

TEST_F(ProducerOptionsTest, SubcommandsSelectTheCommandAndTakeTheCommonFlags) {
  auto create = Options({"create-admin-key", "--name", "ops", "--pg-url", "postgresql://x/y"});
  EXPECT_EQ(create.command, ProducerOptions::Command::kCreateAdminKey);
  EXPECT_EQ(create.admin_key_name, "ops");
  EXPECT_EQ(create.common.pg_url, "postgresql://x/y");

  auto revoke = Options({"revoke-admin-key", "--id", "6b1f3c2e-0000-4000-8000-00000000a001"});
  EXPECT_EQ(revoke.command, ProducerOptions::Command::kRevokeAdminKey);
  ASSERT_TRUE(FinishProducerOptions(revoke).has_value());
  EXPECT_EQ(revoke.revoke_key_id.ToString(), "6b1f3c2e-0000-4000-8000-00000000a001");

  auto no_id = Parse({"revoke-admin-key"});
  ASSERT_TRUE(std::holds_alternative<CommandLineExit>(no_id));
  EXPECT_NE(std::get<CommandLineExit>(no_id).status, 0);
}

TEST_F(ProducerOptionsTest, RedrivePassesComeEvery30SecondsOrAsSetAndNeverFasterThan100Ms) {
  auto defaults = Options({});
  EXPECT_EQ(defaults.redrive_every, std::chrono::seconds(30));
  auto off = Options({"--redrive-every-ms=0"});
  EXPECT_TRUE(FinishProducerOptions(off).has_value());
  EXPECT_EQ(off.redrive_every.count(), 0);
  auto fast = Options({"--redrive-every-ms=50"});
  auto refused = FinishProducerOptions(fast);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("--redrive-every-ms must be 0"), std::string::npos);
}

TEST_F(ProducerOptionsTest, FinishRefusesAKeyIdThatIsNoUuidAndABadKafkaProperty) {
  auto revoke = Options({"revoke-admin-key", "--id", "not-a-key"});
  auto finished = FinishProducerOptions(revoke);
  ASSERT_FALSE(finished.has_value());
  EXPECT_NE(finished.error().message.find("'not-a-key' is not a key id"), std::string::npos);

  auto bad = Options({"--kafka-property", "no-equals-sign"});
  EXPECT_FALSE(FinishProducerOptions(bad).has_value());
}

TEST_F(ProducerOptionsTest, KafkasLingerIsFiveMillisecondsUnlessAPropertySetsIt) {
  auto defaulted = Options({});
  ASSERT_TRUE(FinishProducerOptions(defaulted).has_value());
  EXPECT_EQ(ProducerKafkaSettings(defaulted).properties["linger.ms"], "5");
  EXPECT_FALSE(defaulted.common.kafka.properties.contains("linger.ms"))
      << "the consumers get no producer property";

  auto given = Options({"--kafka-property", "linger.ms=2"});
  ASSERT_TRUE(FinishProducerOptions(given).has_value());
  EXPECT_EQ(ProducerKafkaSettings(given).properties["linger.ms"], "2");

  env_.Set("CONVEYOR_KAFKA_PROPERTIES", "acks=all;linger.ms=0");
  auto from_environment = Options({});
  ASSERT_TRUE(FinishProducerOptions(from_environment).has_value());
  EXPECT_EQ(ProducerKafkaSettings(from_environment).properties["linger.ms"], "0");
}

TEST_F(ProducerOptionsTest, KafkaHasOneRequestInFlightPerBrokerUnlessAPropertySetsIt) {
  auto defaulted = Options({});
  ASSERT_TRUE(FinishProducerOptions(defaulted).has_value());
  EXPECT_EQ(ProducerKafkaSettings(defaulted).properties["max.in.flight.requests.per.connection"],
            "1");
  auto given = Options({"--kafka-property", "max.in.flight.requests.per.connection=5"});
  ASSERT_TRUE(FinishProducerOptions(given).has_value());
  EXPECT_EQ(ProducerKafkaSettings(given).properties["max.in.flight.requests.per.connection"], "5");
}

TEST_F(ProducerOptionsTest, PublicBaseUrlIsTheListenAddressUnlessGivenAndMustBeAnOrigin) {
  auto defaulted = Options({"--http-host", "127.0.0.2", "--http-port", "9001"});
  ASSERT_TRUE(FinishProducerOptions(defaulted).has_value());
  EXPECT_EQ(defaulted.public_base_url, "http://127.0.0.2:9001");

  env_.Set("CONVEYOR_PUBLIC_BASE_URL", "https://tasks.example.com/");
  auto given = Options({});
  ASSERT_TRUE(FinishProducerOptions(given).has_value());
  EXPECT_EQ(given.public_base_url, "https://tasks.example.com");  // the '/' dropped

  for (const char* bad : {"tasks.example.com", "ftp://x", "https://", "https://x/api",
                          "https://x?y=1", "http://user@x"}) {
    auto o = Options({"--public-base-url", bad});
    auto finished = FinishProducerOptions(o);
    ASSERT_FALSE(finished.has_value()) << bad;
    EXPECT_NE(finished.error().message.find("--public-base-url"), std::string::npos);
  }
}

}  // namespace
}  // namespace conveyor

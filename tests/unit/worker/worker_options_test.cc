// WorkerOptions: conveyor-worker's flags, their environment variables and defaults (README's
// Configuration table), and what FinishWorkerOptions checks.
#include "src/worker_options.h"

#include <gtest/gtest.h>

#include <iterator>
#include <sstream>

#include "support/scoped_environment.h"

namespace conveyor {
namespace {

// The environment variables the worker reads, unset for the test's duration (and restored).
class WorkerOptionsTest : public ::testing::Test {
 protected:
  static constexpr const char* kVariables[] = {
      "CONVEYOR_KAFKA_BROKERS", "CONVEYOR_KAFKA_PROPERTIES", "CONVEYOR_PG_URL",
      "CONVEYOR_LOG_LEVEL",     "CONVEYOR_WORKER_CONFIG",    "CONVEYOR_WORKER_NAME",
      "CONVEYOR_GROUP_ID",      "CONVEYOR_CONCURRENCY",      "CONVEYOR_STATE_TOPIC",
      "CONVEYOR_JOURNAL_TOPIC"};

  std::variant<WorkerOptions, CommandLineExit> Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "conveyor-worker");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return ParseWorkerCommandLine(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }
  WorkerOptions Options(std::vector<std::string> args) {
    auto parsed = Parse(std::move(args));
    if (auto* exit = std::get_if<CommandLineExit>(&parsed)) {
      ADD_FAILURE() << "exit " << exit->status << ": " << err_.str();
      return {};
    }
    return std::get<WorkerOptions>(parsed);
  }

  testing::ScopedEnvironment env_{{std::begin(kVariables), std::end(kVariables)}};
  std::ostringstream out_, err_;
};

TEST_F(WorkerOptionsTest, DefaultsAreTheDocumentedOnes) {
  auto o = Options({});
  EXPECT_EQ(o.common.kafka.brokers, "127.0.0.1:19092");
  EXPECT_EQ(o.common.pg_url, "postgresql://postgres@127.0.0.1:15432/conveyor");
  EXPECT_EQ(o.common.log_level, "info");
  EXPECT_EQ(o.common.commands_topic, "conveyor.commands");
  EXPECT_EQ(o.common.notifications_topic, "conveyor.notifications");
  EXPECT_EQ(o.name.substr(o.name.rfind('-') + 1), std::to_string(getpid()));  // host-pid
  EXPECT_EQ(o.group_id, "conveyor-workers");
  EXPECT_EQ(o.dlq_topic, "conveyor.commands.dlq");
  EXPECT_EQ(o.config_path, "");
  EXPECT_EQ(o.loop.batch_size, 500u);
  EXPECT_EQ(o.loop.max_held, 0u);
  EXPECT_EQ(o.loop.shutdown_grace, std::chrono::milliseconds(20000));
  EXPECT_EQ(o.loop.revoke_grace, std::chrono::milliseconds(10000));
  EXPECT_EQ(o.engine.concurrency, 8u);
  EXPECT_EQ(o.engine.heartbeat_interval, std::chrono::milliseconds(2000));
  EXPECT_EQ(o.engine.stale_after, std::chrono::milliseconds(15000));
  EXPECT_EQ(o.scheduler.batch, 500u);
  EXPECT_EQ(o.retention.finished_tasks, std::chrono::hours(24 * 30));
  EXPECT_EQ(o.retention.inbox, std::chrono::hours(24 * 7));
  EXPECT_TRUE(o.handler_limit_flags.empty());
}

TEST_F(WorkerOptionsTest, FlagsSetEveryOption) {
  auto o = Options({"--kafka-brokers",
                    "k:1",
                    "--kafka-property",
                    "acks=1",
                    "--pg-url",
                    "pg://x",
                    "--log-level",
                    "debug",
                    "--commands-topic",
                    "c",
                    "--notifications-topic",
                    "n",
                    "--config",
                    "/etc/w.json",
                    "--name",
                    "w-1",
                    "--group-id",
                    "g",
                    "--dlq-topic",
                    "d",
                    "--batch-size",
                    "50",
                    "--concurrency",
                    "3",
                    "--handler-limit",
                    "gate=1",
                    "--handler-limit",
                    "x=2",
                    "--max-held",
                    "7",
                    "--heartbeat-ms",
                    "300",
                    "--stale-after-ms",
                    "900",
                    "--shutdown-grace-ms",
                    "0",
                    "--revoke-grace-ms",
                    "5",
                    "--schedule-batch",
                    "2000",
                    "--retention-days",
                    "90",
                    "--inbox-retention-days",
                    "0"});
  EXPECT_EQ(o.common.kafka.brokers, "k:1");
  EXPECT_EQ(o.common.kafka_properties, std::vector<std::string>{"acks=1"});
  EXPECT_EQ(o.common.pg_url, "pg://x");
  EXPECT_EQ(o.common.log_level, "debug");
  EXPECT_EQ(o.common.commands_topic, "c");
  EXPECT_EQ(o.common.notifications_topic, "n");
  EXPECT_EQ(o.config_path, "/etc/w.json");
  EXPECT_EQ(o.name, "w-1");
  EXPECT_EQ(o.group_id, "g");
  EXPECT_EQ(o.dlq_topic, "d");
  EXPECT_EQ(o.loop.batch_size, 50u);
  EXPECT_EQ(o.engine.concurrency, 3u);
  EXPECT_EQ(o.handler_limit_flags, (std::vector<std::string>{"gate=1", "x=2"}));
  EXPECT_EQ(o.loop.max_held, 7u);
  EXPECT_EQ(o.engine.heartbeat_interval, std::chrono::milliseconds(300));
  EXPECT_EQ(o.engine.stale_after, std::chrono::milliseconds(900));
  EXPECT_EQ(o.loop.shutdown_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(o.loop.revoke_grace, std::chrono::milliseconds(5));
  EXPECT_EQ(o.scheduler.batch, 2000u);
  EXPECT_EQ(o.retention.finished_tasks, std::chrono::hours(24 * 90));
  EXPECT_EQ(o.retention.inbox, std::chrono::hours(0));
}

TEST_F(WorkerOptionsTest, EnvironmentVariablesSetTheirOptionsAndAFlagWinsOverItsVariable) {
  env_.Set("CONVEYOR_KAFKA_BROKERS", "env-kafka:9");
  env_.Set("CONVEYOR_KAFKA_PROPERTIES", "a=1;b=2");
  env_.Set("CONVEYOR_PG_URL", "pg://env");
  env_.Set("CONVEYOR_LOG_LEVEL", "warn");
  env_.Set("CONVEYOR_WORKER_CONFIG", "/env/w.json");
  env_.Set("CONVEYOR_WORKER_NAME", "env-worker");
  env_.Set("CONVEYOR_GROUP_ID", "env-group");
  env_.Set("CONVEYOR_CONCURRENCY", "5");
  auto o = Options({});
  EXPECT_EQ(o.common.kafka.brokers, "env-kafka:9");
  EXPECT_EQ(o.common.kafka_properties_env, "a=1;b=2");
  EXPECT_EQ(o.common.pg_url, "pg://env");
  EXPECT_EQ(o.common.log_level, "warn");
  EXPECT_EQ(o.config_path, "/env/w.json");
  EXPECT_EQ(o.name, "env-worker");
  EXPECT_EQ(o.group_id, "env-group");
  EXPECT_EQ(o.engine.concurrency, 5u);
  auto flagged = Options({"--name", "flag-worker", "--concurrency", "2"});
  EXPECT_EQ(flagged.name, "flag-worker");
  EXPECT_EQ(flagged.engine.concurrency, 2u);
  EXPECT_EQ(flagged.group_id, "env-group");
}

TEST_F(WorkerOptionsTest, HelpListsEveryFlagWithItsVariableAndExitsZero) {
  auto parsed = Parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<CommandLineExit>(parsed));
  EXPECT_EQ(std::get<CommandLineExit>(parsed).status, 0);
  for (const char* flag : {"--kafka-brokers",
                           "--kafka-property",
                           "--kafka-properties",
                           "--pg-url",
                           "--log-level",
                           "--commands-topic",
                           "--notifications-topic",
                           "--config",
                           "--name",
                           "--group-id",
                           "--dlq-topic",
                           "--state-topic",
                           "--batch-size",
                           "--concurrency",
                           "--handler-limit",
                           "--max-held",
                           "--heartbeat-ms",
                           "--stale-after-ms",
                           "--shutdown-grace-ms",
                           "--revoke-grace-ms",
                           "--schedule-batch",
                           "--journal-topic",
                           "--rebuild"})
    EXPECT_NE(out_.str().find(flag), std::string::npos) << flag;
  for (const char* variable : kVariables)
    EXPECT_NE(out_.str().find(variable), std::string::npos) << variable;
  EXPECT_NE(out_.str().find("=conveyor-workers"), std::string::npos);  // defaults shown
}

TEST_F(WorkerOptionsTest, ValueOutOfItsRangeIsRefusedNamingTheFlag) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--concurrency", "0"}, {"--batch-size", "100001"}, {"--heartbeat-ms", "99"}}) {
    auto parsed = Parse(args);
    ASSERT_TRUE(std::holds_alternative<CommandLineExit>(parsed)) << args[0];
    EXPECT_NE(std::get<CommandLineExit>(parsed).status, 0);
    EXPECT_NE(err_.str().find(args[0]), std::string::npos) << err_.str();
  }
}

TEST_F(WorkerOptionsTest, AStateTopicThatIsAnotherOfTheWorkersTopicsIsRefusedNamingTheFlag) {
  for (const char* topic : {"cmds", "conveyor.notifications", "conveyor.commands.dlq"}) {
    auto o = Options({"--commands-topic", "cmds", "--state-topic", topic});
    auto finished = FinishWorkerOptions(o);
    ASSERT_FALSE(finished.has_value()) << topic;
    EXPECT_EQ(finished.error().field, "--state-topic");
  }
  auto o = Options({"--state-topic", "conveyor.tasks", "--name", "w-2"});
  ASSERT_TRUE(FinishWorkerOptions(o).has_value());
  EXPECT_EQ(o.state.topic, "conveyor.tasks");
  EXPECT_EQ(o.state.source, "/conveyor/worker/w-2");
}

TEST_F(WorkerOptionsTest, AJournalTopicThatIsAnotherOfTheWorkersTopicsIsRefusedNamingTheFlag) {
  for (const char* topic : {"cmds", "conveyor.notifications", "conveyor.commands.dlq", "states"}) {
    auto o =
        Options({"--commands-topic", "cmds", "--state-topic", "states", "--journal-topic", topic});
    auto finished = FinishWorkerOptions(o);
    ASSERT_FALSE(finished.has_value()) << topic;
    EXPECT_EQ(finished.error().field, "--journal-topic");
  }
  auto o = Options({"--journal-topic", "conveyor.journal"});
  ASSERT_TRUE(FinishWorkerOptions(o).has_value());
  EXPECT_EQ(o.state.journal_topic, "conveyor.journal");
  EXPECT_FALSE(o.rebuild);
}

TEST_F(WorkerOptionsTest, RebuildNeedsTheJournalsTopic) {
  auto without = Options({"--rebuild"});
  auto refused = FinishWorkerOptions(without);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, "--journal-topic");
  auto with = Options({"--rebuild", "--journal-topic", "conveyor.journal"});
  ASSERT_TRUE(FinishWorkerOptions(with).has_value());
  EXPECT_TRUE(with.rebuild);
}

TEST_F(WorkerOptionsTest, FinishDerivesTheEngineAndSchedulerIdentityAndTheHandlerLimits) {
  auto o = Options({"--name", "w-9", "--notifications-topic", "notes", "--handler-limit", "gate=1",
                    "--kafka-property", "linger.ms=9", "--commands-topic", "cmds"});
  ASSERT_TRUE(FinishWorkerOptions(o).has_value());
  EXPECT_EQ(o.engine.worker_name, "w-9");
  EXPECT_EQ(o.engine.source, "/conveyor/worker/w-9");
  EXPECT_EQ(o.engine.notifications_topic, "notes");
  EXPECT_EQ(o.scheduler.worker_name, "w-9");
  EXPECT_EQ(o.scheduler.source, "/conveyor/worker/w-9");
  EXPECT_EQ(o.scheduler.commands_topic, "cmds");
  EXPECT_EQ(o.engine.handler_limits, (std::map<std::string, std::size_t>{{"gate", 1}}));
  EXPECT_EQ(o.common.kafka.properties.at("linger.ms"), "9");
  EXPECT_TRUE(o.config.handlers.empty());
}

TEST_F(WorkerOptionsTest, MetricsAddressDefaultsToLoopbackPort9464AndIsSplitIntoHostAndPort) {
  auto o = Options({});
  ASSERT_TRUE(FinishWorkerOptions(o).has_value());
  EXPECT_EQ(o.metrics_host, "127.0.0.1");
  EXPECT_EQ(o.metrics_port, 9464);
  auto any = Options({"--metrics-address", "0.0.0.0:0"});
  ASSERT_TRUE(FinishWorkerOptions(any).has_value());
  EXPECT_EQ(any.metrics_host, "0.0.0.0");
  EXPECT_EQ(any.metrics_port, 0);
}

TEST_F(WorkerOptionsTest, MetricsAddressThatIsNotHostColonPortIsRefusedNamingTheFlag) {
  for (const char* bad : {"9464", ":9464", "localhost:http", "127.0.0.1:70000"}) {
    auto o = Options({"--metrics-address", bad});
    auto s = FinishWorkerOptions(o);
    ASSERT_FALSE(s.has_value()) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().field, "--metrics-address");
    EXPECT_NE(s.error().message.find(bad), std::string::npos) << s.error().message;
  }
}

TEST_F(WorkerOptionsTest, HandlerLimitThatIsNotHandlerEqualsNIsRefused) {
  for (const char* bad : {"gate", "=3", "gate=many"}) {
    auto o = Options({"--handler-limit", bad});
    auto s = FinishWorkerOptions(o);
    ASSERT_FALSE(s.has_value()) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().Describe(),
              "--handler-limit '" + std::string(bad) + "': expected handler=N");
  }
}

TEST_F(WorkerOptionsTest, KafkaPropertyWithoutAnEqualsSignIsRefused) {
  auto o = Options({"--kafka-property", "acks"});
  auto s = FinishWorkerOptions(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().Describe().find("'acks' is not a librdkafka property"), std::string::npos)
      << s.error().Describe();
}

TEST_F(WorkerOptionsTest, ConfigurationFileIsReadAndABadOneIsRefusedNamingIt) {
  auto o = Options({"--config", std::string(CONVEYOR_SOURCE_DIR) + "/examples/worker-config.json"});
  ASSERT_TRUE(FinishWorkerOptions(o).has_value());
  EXPECT_TRUE(o.config.handlers.contains("count-primes"));
  auto missing = Options({"--config", "/nonexistent/w.json"});
  auto s = FinishWorkerOptions(missing);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().Describe().starts_with(
      "bad configuration file: /nonexistent/w.json: cannot read the configuration file"))
      << s.error().Describe();
}

}  // namespace
}  // namespace conveyor

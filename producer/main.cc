// conveyor-producer: the ingest service. Parses flags, builds the adapters, serves HTTP.
// Subcommands for operators: `create-admin-key` (creates an admin API key in the database and
// prints it once, on stdout) and `revoke-admin-key --id <key id>`.
#include <unistd.h>

#include <iostream>

#include "auth/auth.h"
#include "commands/pg_accepted_writes.h"
#include "commands/pg_catalog.h"
#include "commands/task_commands.h"
#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/pg.h"
#include "conveyor/process.h"
#include "conveyor/task_view.h"
#include "dialects/oracle/routes.h"
#include "dialects/superoffice/routes.h"
#include "dialects/twosms/dialect.h"
#include "http/server.h"

int main(int argc, char** argv) {
  using namespace conveyor;
  BlockStopSignals();

  CLI::App app{"conveyor-producer: accepts task requests and publishes them to Kafka"};
  CommonOptions common;
  http::ServerSettings server;
  int delivery_timeout_ms = 10000;
  int token_lifetime_s = 8 * 3600;
  int auth_cache_s = 30;
  AddCommonOptions(app, common);
  app.fallthrough();  // the subcommands take --pg-url and --log-level too
  app.add_option("--token-lifetime-seconds", token_lifetime_s,
                 "How long a bearer token from POST /Token stays valid")
      ->envname("CONVEYOR_TOKEN_LIFETIME_SECONDS")
      ->check(CLI::Range(1, 30 * 24 * 3600))
      ->capture_default_str();
  app.add_option("--auth-cache-seconds", auth_cache_s,
                 "How long a verified credential is remembered; a revoked key or token stops "
                 "working at most this long after revocation. 0 never remembers (each request "
                 "then pays PBKDF2, about 0.3 s, for Basic and admin keys)")
      ->envname("CONVEYOR_AUTH_CACHE_SECONDS")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  std::string admin_key_name = "admin";
  auto* create_key = app.add_subcommand(
      "create-admin-key", "Create an admin API key in the database and print it once (stdout)");
  create_key->add_option("--name", admin_key_name, "A name to recognise the key by")
      ->capture_default_str();
  std::string revoke_id;
  auto* revoke_key = app.add_subcommand("revoke-admin-key", "Revoke an admin API key");
  revoke_key->add_option("--id", revoke_id, "The key's id (the part before the '.')")->required();
  app.add_option("--http-host", server.host)->envname("CONVEYOR_HTTP_HOST")->capture_default_str();
  app.add_option("--http-port", server.port, "0 picks a free port")
      ->envname("CONVEYOR_HTTP_PORT")
      ->capture_default_str();
  app.add_option("--http-threads", server.threads)->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--delivery-timeout-ms", delivery_timeout_ms,
                 "How long a request waits for Kafka's acknowledgement before answering 503")
      ->check(CLI::Range(100, 300000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  logging::Setup(common.log_level);
  auto log = logging::Get("ingest");
  if (auto s = FinishCommonOptions(common); !s) {
    log->error("{}", s.error().Describe());
    return 2;
  }

  PgPool pool(common.pg_url, static_cast<std::size_t>(server.threads) + 2);
  {
    auto lease = pool.Acquire();
    if (!lease) {
      log->error("{}; is CONVEYOR_PG_URL right?", lease.error().Describe());
      return 1;
    }
    if (auto s = RunMigrations(**lease); !s) {
      log->error("{}", s.error().Describe());
      return 1;
    }
  }
  PgCredentialStore credentials(pool);
  if (create_key->parsed()) {
    auto key = credentials.CreateAdminKey(admin_key_name);
    if (!key) {
      log->error("{}", key.error().Describe());
      return 1;
    }
    log->info("admin key {} '{}' created", key->substr(0, key->find('.')), admin_key_name);
    std::cout << *key << std::endl;
    return 0;
  }
  if (revoke_key->parsed()) {
    auto id = Uuid::Parse(revoke_id);
    if (!id) {
      log->error("--id: '{}' is not a key id (a UUID)", revoke_id);
      return 2;
    }
    if (auto s = credentials.RevokeAdminKey(*id); !s) {
      log->error("{}", s.error().Describe());
      return 1;
    }
    log->info("admin key {} revoked; producers forget it within their --auth-cache-seconds",
              revoke_id);
    return 0;
  }

  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  auto producer = KafkaProducer::Create(common.kafka, "conveyor-producer",
                                        std::chrono::milliseconds(delivery_timeout_ms));
  if (!producer) {
    log->error("{}", producer.error().Describe());
    return 2;
  }

  SystemClock clock;
  PgTaskTypeCatalog catalog(pool);
  PgTaskNumberAllocator numbers(pool);
  PgTaskReader reader(pool);
  PgAcceptedWrites accepted(pool);
  TaskCommandService commands(catalog, numbers, credentials, **producer, accepted, clock,
                              common.commands_topic, std::string("/conveyor/producer/") + host);
  AuthSettings auth_settings;
  auth_settings.token_lifetime = std::chrono::seconds(token_lifetime_s);
  auth_settings.cache_ttl = std::chrono::seconds(auth_cache_s);
  Authenticator authenticator(credentials, clock, auth_settings);
  // The dialects: a broken embedded schema stops the producer here, naming it.
  auto twosms = twosms::TwoSmsDialect::Create(catalog, commands, reader, clock, credentials);
  if (!twosms) {
    log->error("{}", twosms.error().Describe());
    return 1;
  }
  auto superoffice = superoffice::SuperOfficeDialect::Create(catalog, commands, reader);
  if (!superoffice) {
    log->error("{}", superoffice.error().Describe());
    return 1;
  }
  auto oracle = OracleDialect::Create(catalog, commands, reader);
  if (!oracle) {
    log->error("{}", oracle.error().Describe());
    return 1;
  }
  http::HttpServer api(server, {twosms->get(), superoffice->get(), oracle->get()}, **twosms,
                       authenticator);
  if (auto s = api.Start(); !s) {
    log->error("{}", s.error().Describe());
    return 1;
  }
  int sig = WaitForStopSignal();
  log->info("signal {}: stopping", sig);
  api.Stop();
  if (auto s = (*producer)->Flush(std::chrono::seconds(10)); !s) log->warn("{}", s.error().message);
  log->info("stopped");
  return 0;
}

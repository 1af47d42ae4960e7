// conveyor-producer: the ingest service. Reads its options (options.h), opens the database
// (applying the migrations), and either runs one operator command (create-admin-key,
// revoke-admin-key) or builds the adapters and the three dialects and serves HTTP until
// SIGINT or SIGTERM.
#include <unistd.h>

#include <iostream>

#include "auth/credential_listener.h"
#include "commands/create_redrive.h"
#include "commands/grouped_accepted_writes.h"
#include "commands/pg_accepted_writes.h"
#include "commands/pg_catalog.h"
#include "commands/pg_idempotency_store.h"
#include "commands/task_commands.h"
#include "conveyor/dependency_metrics.h"
#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/periodic_thread.h"
#include "conveyor/pg.h"
#include "conveyor/process_metrics.h"
#include "conveyor/readiness.h"
#include "dialects/oracle/routes.h"
#include "dialects/superoffice/routes.h"
#include "dialects/twosms/dialect.h"
#include "options.h"

namespace conveyor {
namespace {

// Exit statuses: 1 a service or the database failed, 2 the options are wrong.
constexpr int kFailed = 1;
constexpr int kBadOptions = 2;
// How long a readiness check waits for PostgreSQL or a broker (/readyz).
constexpr std::chrono::milliseconds kProbeTimeout{2000};

Status Migrate(PgPool& pool) {
  auto lease = pool.Acquire();
  if (!lease)
    return Fail(lease.error().code, lease.error().Describe() + "; is CONVEYOR_PG_URL right?");
  return RunMigrations(**lease);
}

// create-admin-key or revoke-admin-key.
Status RunAdminCommand(const ProducerOptions& o, PgCredentialStore& credentials) {
  auto log = logging::Get("ingest");
  if (o.command == ProducerOptions::Command::kCreateAdminKey) {
    auto key = credentials.CreateAdminKey(o.admin_key_name);
    if (!key) return std::unexpected(key.error());
    log->info("admin key {} '{}' created", key->substr(0, key->find('.')), o.admin_key_name);
    std::cout << *key << std::endl;
    return {};
  }
  if (auto s = credentials.RevokeAdminKey(o.revoke_key_id); !s) return s;
  log->info("admin key {} revoked; every producer listening forgets it at once",
            o.revoke_key_id.ToString());
  return {};
}

std::string Source() {
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  return std::string("/conveyor/producer/") + host;
}

// The dialects on their ports; a broken embedded schema stops the producer, naming it.
struct Dialects {
  std::unique_ptr<twosms::TwoSmsDialect> twosms;
  std::unique_ptr<superoffice::SuperOfficeDialect> superoffice;
  std::unique_ptr<OracleDialect> oracle;
};
Result<Dialects> BuildDialects(TaskTypeCatalog& catalog, TaskCommandService& commands,
                               TaskReader& reader, const Clock& clock, CredentialStore& credentials,
                               CommandQueue& queue, const std::string& public_base_url) {
  auto twosms = twosms::TwoSmsDialect::Create(catalog, commands, reader, clock, credentials, queue);
  if (!twosms) return std::unexpected(twosms.error());
  auto superoffice = superoffice::SuperOfficeDialect::Create(catalog, commands, reader);
  if (!superoffice) return std::unexpected(superoffice.error());
  auto oracle = OracleDialect::Create(catalog, commands, reader, public_base_url);
  if (!oracle) return std::unexpected(oracle.error());
  return Dialects{std::move(*twosms), std::move(*superoffice), std::move(*oracle)};
}

// A pass of the Idempotency-Keys' expiry, which logs what it deleted.
void LogExpiredKeysDropped(PgPool& pool) {
  auto dropped = DropExpiredIdempotencyRows(pool);
  if (!dropped)
    logging::Get("ingest")->warn("{}", dropped.error().Describe());
  else if (dropped->keys > 0 || dropped->numbers > 0)
    logging::Get("ingest")->info("expiry: deleted {} Idempotency-Key(s), {} task number(s)",
                                 dropped->keys, dropped->numbers);
}

// The pass for lost creates: its margin covers a delivery report as late as it can come, and
// the clocks of producers that disagree by up to 10 s.
RedriveSettings RedriveSettingsOf(const ProducerOptions& o) {
  RedriveSettings s;
  s.every = o.redrive_every;
  s.margin = o.delivery_timeout + std::chrono::seconds(10);
  return s;
}

// Serves until a stop signal; then finishes the requests in flight and flushes Kafka.
int Serve(const ProducerOptions& o, PgPool& pool, PgCredentialStore& credentials) {
  auto log = logging::Get("ingest");
  auto producer =
      KafkaProducer::Create(ProducerKafkaSettings(o), "conveyor-producer", o.delivery_timeout);
  if (!producer) {
    log->error("{}", producer.error().Describe());
    return kBadOptions;
  }
  metrics::Registry registry;
  RegisterProcessMetrics(registry);
  RegisterPgPoolMetrics(registry, pool);
  MeteredPublisher publisher(**producer, registry);
  http::RequestMetrics requests(registry);
  SystemClock clock;
  PgTaskTypeCatalog catalog(pool);
  PgTaskNumberAllocator numbers(pool);
  PgTaskReader reader(pool);
  PgAcceptedWrites recorded(pool);
  GroupedAcceptedWrites accepted(recorded);  // concurrent requests' records in one statement
  TaskCommandService commands(catalog, numbers, credentials, publisher, accepted, clock,
                              o.common.commands_topic, Source());
  Authenticator authenticator(credentials, clock, o.auth);
  PgIdempotencyStore stored_keys(pool);
  http::RetriedFinishes idempotency(stored_keys, clock);  // a key's answer kept after an outage
  CredentialListener credential_changes(o.common.pg_url, authenticator);
  credential_changes.Start();
  KafkaCommandQueue queue(o.common.kafka, o.common.commands_topic, o.queue, publisher);
  auto progress = [&] {
    return GroupProgress(o.common.kafka, o.common.commands_topic, o.queue.worker_group,
                         std::chrono::seconds(5));
  };
  CreateRedrive redrive(progress, recorded, commands, clock, RedriveSettingsOf(o), registry);
  auto dialects =
      BuildDialects(catalog, commands, reader, clock, credentials, queue, o.public_base_url);
  if (!dialects) {
    log->error("{}", dialects.error().Describe());
    return kFailed;
  }
  Readiness readiness(clock);
  readiness.Add("postgresql", PgReachable(pool, kProbeTimeout));
  readiness.Add("kafka", [&k = **producer] { return k.CheckBrokers(kProbeTimeout); });
  RegisterReadinessMetric(registry, readiness);
  http::HttpServer api(
      o.server, {dialects->twosms.get(), dialects->superoffice.get(), dialects->oracle.get()},
      *dialects->twosms, authenticator, {&readiness, [&registry] { return registry.Render(); }},
      &requests, &idempotency);
  if (auto s = api.Start(); !s) {
    log->error("{}", s.error().Describe());
    return kFailed;
  }
  redrive.Start();
  PeriodicThread expiry;
  expiry.Start(std::chrono::minutes(1), [&pool] { LogExpiredKeysDropped(pool); });
  log->info("signal {}: stopping", WaitForStopSignal());
  expiry.Stop();
  api.Stop();
  redrive.Stop();  // after the answers: its pass may be waiting for Kafka
  credential_changes.Stop();
  // Every delivery report and record comes before anything it refers to is destroyed.
  if (auto s = (*producer)->Flush(std::chrono::seconds(10)); !s) {
    log->warn("{}; giving the unacknowledged events up", s.error().message);
    (*producer)->Purge();
  }
  accepted.Stop();
  log->info("stopped");
  return 0;
}

int Run(ProducerOptions& o) {
  logging::Setup(o.common.log_level,
                 o.common.log_format == "json" ? logging::Format::kJson : logging::Format::kText);
  auto log = logging::Get("ingest");
  if (auto s = FinishProducerOptions(o); !s) {
    log->error("{}", s.error().Describe());
    return kBadOptions;
  }
  PgPool pool(o.common.pg_url, static_cast<std::size_t>(o.pg_connections));
  if (auto s = Migrate(pool); !s) {
    log->error("{}", s.error().Describe());
    return kFailed;
  }
  PgCredentialStore credentials(pool);
  if (o.command == ProducerOptions::Command::kServe) return Serve(o, pool, credentials);
  if (auto s = RunAdminCommand(o, credentials); !s) {
    log->error("{}", s.error().Describe());
    return kFailed;
  }
  return 0;
}

}  // namespace
}  // namespace conveyor

int main(int argc, char** argv) {
  conveyor::BlockStopSignals();
  conveyor::LimitMallocArenas(2);
  auto parsed = conveyor::ParseProducerCommandLine(argc, argv);
  if (auto* exit = std::get_if<conveyor::CommandLineExit>(&parsed)) return exit->status;
  return conveyor::Run(std::get<conveyor::ProducerOptions>(parsed));
}

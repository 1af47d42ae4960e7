// conveyor-worker: a consumer-group member that applies command events to PostgreSQL, runs
// the tasks on its executor pool, and relays notifications. Reads its options
// (worker_options.h), builds the adapters, wires them and runs the loop.
//
// Exit status: 0 stopped by a signal after every running run finished; 3 stopped by a signal
// but some runs had to be cancelled after the grace period (they were released, and the next
// owner of their partitions starts them again); 1 a fatal error; 2 bad flags or configuration
// (CLI11's own status for a flag it refuses), or a --state-topic or --journal-topic that does
// not exist. With --rebuild: 0 rebuilt, 1 not.
#include <atomic>
#include <limits>
#include <thread>

#include "conveyor/dependency_metrics.h"
#include "conveyor/logging.h"
#include "conveyor/pg.h"
#include "conveyor/process_metrics.h"
#include "conveyor/readiness.h"
#include "conveyor/status_server.h"
#include "src/command_processor.h"
#include "src/configured_handlers.h"
#include "src/consumer_loop.h"
#include "src/handlers.h"
#include "src/journal.h"
#include "src/kafka_event_source.h"
#include "src/outbox_relay.h"
#include "src/pg_outbox_store.h"
#include "src/pg_rebuild_store.h"
#include "src/pg_retention_store.h"
#include "src/pg_schedule_store.h"
#include "src/pg_task_store.h"
#include "src/program_supervisor.h"
#include "src/rebuild.h"
#include "src/run_engine.h"
#include "src/scheduler.h"
#include "src/worker_options.h"

namespace conveyor {
namespace {

// Connects to PostgreSQL and applies the migrations; false (logged) when it cannot.
bool Migrate(PgPool& pool) {
  auto log = logging::Get("worker");
  auto lease = pool.Acquire();
  if (!lease) {
    log->error("{}; is CONVEYOR_PG_URL right?", lease.error().Describe());
    return false;
  }
  if (auto s = RunMigrations(**lease); !s) {
    log->error("{}", s.error().Describe());
    return false;
  }
  return true;
}

// The folders the configuration's export handlers write to.
std::vector<std::string> ExportFolders(const WorkerConfig& config) {
  std::vector<std::string> folders;
  for (const auto& [name, spec] : config.handlers)
    if (const auto* x = std::get_if<ExportHandlerSettings>(&spec.kind))
      folders.push_back(x->folder);
  return folders;
}

// Sets `stop` at SIGTERM or SIGINT.
void StopOnSignal(std::atomic<bool>& stop) {
  std::thread([&stop] {
    int sig = WaitForStopSignal();
    logging::Get("worker")->info(
        "signal {}: no new events; draining running runs, then leaving the group", sig);
    stop = true;
  }).detach();
}

// conveyor_outbox_backlog: notifications written and not yet relayed (a query per scrape on
// the outbox's partial index of unsent rows; NaN while PostgreSQL is away).
void RegisterOutboxMetrics(metrics::Registry& registry, PgOutboxStore& outbox) {
  registry
      .AddCallbackGauge("conveyor_outbox_backlog",
                        "Notifications in the outbox not yet relayed to Kafka")
      .Add({}, [&outbox] {
        auto n = outbox.Backlog();
        return n ? static_cast<double>(*n) : std::numeric_limits<double>::quiet_NaN();
      });
}

// /readyz: PostgreSQL answers, a broker answers, and the member is in its group (with
// partitions, or legitimately without: more members than partitions).
void AddReadinessChecks(Readiness& readiness, PgPool& pool, KafkaProducer& kafka,
                        const ConsumerLoop& loop, const std::string& group) {
  constexpr std::chrono::milliseconds kProbeTimeout{2000};
  readiness.Add("postgresql", PgReachable(pool, kProbeTimeout));
  readiness.Add("kafka", [&kafka] { return kafka.CheckBrokers(kProbeTimeout); });
  readiness.Add("consumer-group", [&loop, group]() -> Status {
    if (loop.group_status().joined) return {};
    return Fail(ErrorCode::kUnavailable,
                "not a member of group " + group + " yet: no partition assignment received");
  });
}

// The PostgreSQL settings of the worker's sessions: the journal's topic, when it writes one.
PgPool::SessionSettings SessionSettingsOf(const WorkerOptions& o) {
  if (o.state.journal_topic.empty()) return {};
  return {{kJournalTopicSetting, o.state.journal_topic}};
}

// Reads `topic` to its end into `each`, logging what it read; false (logged) on an error.
bool ReadAll(const WorkerOptions& o, const std::string& topic,
             const std::function<Status(ConsumedMessage)>& each) {
  auto log = logging::Get("rebuild");
  std::size_t n = 0;
  auto read = ReadTopicToEnd(o.common.kafka, topic, o.name + "-rebuild",
                             [&](ConsumedMessage m) {
                               ++n;
                               return each(std::move(m));
                             },
                             {.from_the_first = true});
  if (!read) {
    log->error("{}", read.error().Describe());
    return false;
  }
  log->info("read {} messages of {}", n, topic);
  return true;
}

// --rebuild: replays the commands topic and the journal into the empty database (rebuild.h).
// Its sessions name no journal topic and nothing publishes: it writes no journal and sends no
// notification, state or dead letter.
int RunRebuild(WorkerOptions& o) {
  auto log = logging::Get("rebuild");
  PgPool pool(o.common.pg_url, 2);
  PgRebuildStore rebuilt(pool);
  if (auto s = rebuilt.CheckEmpty(); !s) {
    log->error("{}", s.error().Describe());
    return 1;
  }
  if (!Migrate(pool)) return 1;
  SystemClock clock;
  PgTaskStore store(pool, {}, &clock);
  UnsentDeadLetters dead_letters;
  auto processor = CommandProcessor::Create({o.dlq_topic}, store, dead_letters);
  if (!processor) {
    log->error("{}", processor.error().Describe());
    return 1;
  }
  Rebuild rebuild(*processor, rebuilt);
  if (!ReadAll(o, o.state.journal_topic, [&](ConsumedMessage m) { return rebuild.AddRecord(m); }) ||
      !ReadAll(o, o.common.commands_topic,
               [&](ConsumedMessage m) { return rebuild.ReplayCommand(std::move(m)); }))
    return 1;
  if (auto s = rebuild.Finish(); !s) {
    log->error("{}", s.error().Describe());
    return 1;
  }
  const auto& r = rebuild.report();
  log->info(
      "rebuilt: {} commands ({} applied, {} already applied, {} refused again), {} journal "
      "records",
      r.commands, r.applied, r.duplicates, r.dead_lettered, r.records);
  return 0;
}

// The topics the outbox relay writes besides the notifications: a missing one would hold up
// every later event of the tasks whose events wait for it (the relay keeps a task's events in
// order), so the worker does not start without them. False (logged) when one does not exist; a
// cluster that does not answer yet is only warned about.
bool OutboxTopicsExist(const WorkerOptions& o, KafkaProducer& kafka) {
  auto log = logging::Get("worker");
  for (const auto& [flag, topic] : {std::pair{"--state-topic", o.state.topic},
                                    std::pair{"--journal-topic", o.state.journal_topic}}) {
    if (topic.empty()) continue;
    auto exists = kafka.CheckTopic(topic, std::chrono::seconds(10));
    if (exists) continue;
    if (exists.error().code != ErrorCode::kNotFound) {
      log->warn("{} {}: {}", flag, topic, exists.error().message);
      continue;
    }
    log->error("{} {}: the topic does not exist; create it first (docs/integrations.md)", flag,
               topic);
    return false;
  }
  return true;
}

// Builds the components on their adapters and runs the consumer loop until a signal.
int Run(WorkerOptions& o) {
  auto log = logging::Get("worker");
  // The loop, the engine, the relay, the scheduler, readiness probes, retention (its lock and
  // its statements), one spare.
  PgPool pool(o.common.pg_url, 8, SessionSettingsOf(o));
  if (!Migrate(pool)) return 1;
  auto producer = KafkaProducer::Create(o.common.kafka, o.name, std::chrono::seconds(30));
  if (!producer) {
    log->error("{}", producer.error().Describe());
    return 2;
  }
  if (!OutboxTopicsExist(o, **producer)) return 2;
  HandlerRegistry handlers = HandlerRegistry::WithBuiltins();
  if (auto s = AddConfiguredHandlers(o.config, o.common.pg_url, handlers, o.engine.handler_limits);
      !s) {
    log->error("bad configuration file: {}: {}", o.config_path, s.error().Describe());
    return 2;
  }
  metrics::Registry registry;
  WorkerMetrics metrics(registry);
  RegisterProcessMetrics(registry);
  RegisterPgPoolMetrics(registry, pool);
  MeteredPublisher publisher(**producer, registry);
  SystemClock clock;
  SteadyClock monotonic;
  PgTaskStore store(pool, o.state, &clock);
  PgOutboxStore outbox(pool, o.engine.source);
  PgScheduleStore schedules(pool, o.state);
  RegisterOutboxMetrics(registry, outbox);
  OutboxRelay relay({}, outbox, publisher, monotonic);
  Scheduler scheduler(o.scheduler, schedules, publisher, clock, &metrics);
  PgRetentionStore retained(pool, o.state);
  Janitor janitor(retained, clock, o.retention, ExportFolders(o.config));
  o.engine.notification_written = [&relay] { relay.Wake(); };
  auto processor = CommandProcessor::Create({o.dlq_topic}, store, publisher);
  if (!processor) {
    log->error("{}", processor.error().Describe());
    return 1;
  }
  RunEngine engine(o.engine, store, handlers, clock, monotonic, &metrics);
  ConsumerLoop loop(o.loop, *processor, engine, o.engine.concurrency, monotonic, &metrics);
  auto source = KafkaEventSource::Create(o.common.kafka, o.group_id, o.name,
                                         {o.common.commands_topic}, &loop);
  if (!source) {
    log->error("{}", source.error().Describe());
    return 2;
  }

  Readiness readiness(clock);
  AddReadinessChecks(readiness, pool, **producer, loop, o.group_id);
  RegisterReadinessMetric(registry, readiness);
  StatusServer status(o.metrics_host, o.metrics_port,
                      {&readiness, [&registry] { return registry.Render(); }});
  if (auto s = status.Start(); !s) {
    log->error("--metrics-address: {}", s.error().Describe());
    return 1;
  }
  log->info("status and metrics on http://{}:{}/metrics", o.metrics_host, status.port());

  std::atomic<bool> stop{false};
  StopOnSignal(stop);
  relay.Start();
  scheduler.Start();
  janitor.Start();
  log->info("worker {} consuming {} in group {} with {} executor threads", o.name,
            o.common.commands_topic, o.group_id, o.engine.concurrency);
  auto result = loop.Run(**source, stop);
  janitor.Stop();
  scheduler.Stop();
  relay.Stop();
  if (auto s = (*producer)->Flush(std::chrono::seconds(10)); !s) log->warn("{}", s.error().message);
  if (!result) {
    log->error("stopped: {}", result.error().Describe());
    return 1;
  }
  const auto& c = engine.counters();
  log->info("stopped: {} started, {} succeeded, {} failed, {} cancelled, {} retried, {} released",
            c.started, c.succeeded, c.failed, c.cancelled, c.retried, c.released);
  return result->drained_cleanly ? 0 : 3;
}

}  // namespace
}  // namespace conveyor

int main(int argc, char** argv) {
  using namespace conveyor;
  BlockStopSignals();
  LimitMallocArenas(2);
  auto parsed = ParseWorkerCommandLine(argc, argv);
  if (auto* exit = std::get_if<CommandLineExit>(&parsed)) return exit->status;
  auto& options = std::get<WorkerOptions>(parsed);
  logging::Setup(options.common.log_level, options.common.log_format == "json"
                                               ? logging::Format::kJson
                                               : logging::Format::kText);
  if (auto s = FinishWorkerOptions(options); !s) {
    logging::Get("worker")->error("{}", s.error().Describe());
    return 2;
  }
  if (auto s = MakeNonDumpable(); !s) logging::Get("worker")->warn("{}", s.error().message);
  return options.rebuild ? RunRebuild(options) : Run(options);
}

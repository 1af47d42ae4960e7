// conveyor-worker: a consumer-group member that applies command events to PostgreSQL, runs
// the tasks on its executor pool, and relays notifications. Parses flags, builds the
// adapters, runs the loop.
//
// Exit status: 0 stopped by a signal after every running run finished; 3 stopped by a signal
// but some runs had to be cancelled after the grace period (they were released, and the next
// owner of their partitions starts them again); 1 a fatal error; 2 bad flags or configuration.
#include <unistd.h>

#include <atomic>
#include <thread>

#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/pg.h"
#include "conveyor/process.h"
#include "src/command_processor.h"
#include "src/configured_handlers.h"
#include "src/consumer_loop.h"
#include "src/handlers.h"
#include "src/kafka_event_source.h"
#include "src/outbox_relay.h"
#include "src/pg_outbox_store.h"
#include "src/pg_schedule_store.h"
#include "src/pg_task_store.h"
#include "src/run_engine.h"
#include "src/scheduler.h"
#include "src/worker_config.h"

int main(int argc, char** argv) {
  using namespace conveyor;
  BlockStopSignals();

  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  CLI::App app{"conveyor-worker: applies task commands, runs tasks, records their state"};
  CommonOptions common;
  std::string name = std::string(host) + "-" + std::to_string(getpid());
  std::string group = "conveyor-workers";
  std::string dlq_topic = "conveyor.commands.dlq";
  ConsumerLoopSettings loop_settings;
  EngineSettings engine_settings;
  std::size_t batch_size = loop_settings.batch_size;
  std::vector<std::string> handler_limits;
  std::string config_path;
  long long heartbeat_ms = engine_settings.heartbeat_interval.count();
  long long stale_ms = engine_settings.stale_after.count();
  long long shutdown_grace_ms = loop_settings.shutdown_grace.count();
  long long revoke_grace_ms = loop_settings.revoke_grace.count();
  AddCommonOptions(app, common);
  app.add_option("--config", config_path,
                 "Configuration file (JSON): the exec, sql and export handlers this worker "
                 "offers (docs/handlers.md)")
      ->envname("CONVEYOR_WORKER_CONFIG");
  app.add_option("--name", name, "Worker name, recorded on the runs it executes")
      ->envname("CONVEYOR_WORKER_NAME")
      ->capture_default_str();
  app.add_option("--group-id", group)->envname("CONVEYOR_GROUP_ID")->capture_default_str();
  app.add_option("--dlq-topic", dlq_topic)->capture_default_str();
  app.add_option("--batch-size", batch_size, "Most events taken per poll")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--concurrency", engine_settings.concurrency, "Runs at once on this worker")
      ->envname("CONVEYOR_CONCURRENCY")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--handler-limit", handler_limits,
                 "handler=N: at most N runs of that handler at once (repeatable)");
  app.add_option("--max-held", loop_settings.max_held,
                 "Runs held (running or waiting) before the partitions pause; 0: 4 x concurrency")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", heartbeat_ms, "How often running runs heartbeat")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--stale-after-ms", stale_ms,
                 "A run whose owner has not heartbeat for this long is started again")
      ->check(CLI::Range(500, 3600000))
      ->capture_default_str();
  app.add_option("--shutdown-grace-ms", shutdown_grace_ms,
                 "On SIGTERM, how long running runs may take before they are cancelled")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--revoke-grace-ms", revoke_grace_ms,
                 "On losing a partition, how long its running runs may take before cancel")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  loop_settings.batch_size = batch_size;
  engine_settings.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
  engine_settings.stale_after = std::chrono::milliseconds(stale_ms);
  loop_settings.shutdown_grace = std::chrono::milliseconds(shutdown_grace_ms);
  loop_settings.revoke_grace = std::chrono::milliseconds(revoke_grace_ms);

  logging::Setup(common.log_level);
  auto log = logging::Get("worker");
  if (auto s = FinishCommonOptions(common); !s) {
    log->error("{}", s.error().Describe());
    return 2;
  }
  WorkerConfig config;
  if (!config_path.empty()) {
    auto loaded = LoadWorkerConfig(config_path);
    if (!loaded) {
      log->error("bad configuration file: {}", loaded.error().message);
      return 2;
    }
    config = std::move(*loaded);
  }

  PgPool pool(common.pg_url, 5);  // the loop, the engine, the relay, the scheduler, one spare
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

  auto producer = KafkaProducer::Create(common.kafka, name, std::chrono::seconds(30));
  if (!producer) {
    log->error("{}", producer.error().Describe());
    return 2;
  }
  SystemClock clock;
  SteadyClock monotonic;
  PgTaskStore store(pool);
  HandlerRegistry handlers = HandlerRegistry::WithBuiltins();
  for (const auto& limit : handler_limits) {
    auto eq = limit.find('=');
    std::size_t n = 0;
    try {
      n = eq == std::string::npos ? 0 : std::stoul(limit.substr(eq + 1));
    } catch (const std::exception&) {
      eq = std::string::npos;
    }
    if (eq == std::string::npos || eq == 0) {
      log->error("--handler-limit '{}': expected handler=N", limit);
      return 2;
    }
    engine_settings.handler_limits[limit.substr(0, eq)] = n;
  }
  if (auto s =
          AddConfiguredHandlers(config, common.pg_url, handlers, engine_settings.handler_limits);
      !s) {
    log->error("bad configuration file: {}: {}", config_path, s.error().Describe());
    return 2;
  }
  PgOutboxStore outbox(pool);
  OutboxRelay relay({}, outbox, **producer, monotonic);
  PgScheduleStore schedules(pool);
  SchedulerSettings scheduler_settings;
  scheduler_settings.worker_name = name;
  scheduler_settings.source = "/conveyor/worker/" + name;
  scheduler_settings.commands_topic = common.commands_topic;
  Scheduler scheduler(scheduler_settings, schedules, **producer, clock);
  engine_settings.worker_name = name;
  engine_settings.source = "/conveyor/worker/" + name;
  engine_settings.notifications_topic = common.notifications_topic;
  engine_settings.notification_written = [&relay] { relay.Wake(); };
  auto processor = CommandProcessor::Create({dlq_topic}, store, **producer);
  if (!processor) {
    log->error("{}", processor.error().Describe());
    return 1;
  }
  RunEngine engine(engine_settings, store, handlers, clock, monotonic);
  ConsumerLoop loop(loop_settings, *processor, engine, engine_settings.concurrency, monotonic);
  auto consumer =
      KafkaEventSource::Create(common.kafka, group, name, {common.commands_topic}, &loop);
  if (!consumer) {
    log->error("{}", consumer.error().Describe());
    return 2;
  }

  std::atomic<bool> stop{false};
  std::thread([&stop, &log] {
    int sig = WaitForStopSignal();
    log->info("signal {}: no new events; draining running runs, then leaving the group", sig);
    stop = true;
  }).detach();

  relay.Start();
  scheduler.Start();
  log->info("worker {} consuming {} in group {} with {} executor threads", name,
            common.commands_topic, group, engine_settings.concurrency);
  auto result = loop.Run(**consumer, stop);
  scheduler.Stop();
  relay.Stop();
  if (auto s = (*producer)->Flush(std::chrono::seconds(10)); !s) log->warn("{}", s.error().message);
  const auto& c = engine.counters();
  if (!result) {
    log->error("stopped: {}", result.error().Describe());
    return 1;
  }
  log->info("stopped: {} started, {} succeeded, {} failed, {} cancelled, {} retried, {} released",
            c.started, c.succeeded, c.failed, c.cancelled, c.retried, c.released);
  return result->drained_cleanly ? 0 : 3;
}

// conveyor-worker: a consumer-group member that applies command events to PostgreSQL, runs
// the tasks, and relays notifications. Parses flags, builds the adapters, runs the loop.
#include <unistd.h>

#include <atomic>
#include <thread>

#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/pg.h"
#include "conveyor/process.h"
#include "src/command_processor.h"
#include "src/consumer_loop.h"
#include "src/handlers.h"
#include "src/outbox_relay.h"
#include "src/pg_task_store.h"

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
  std::size_t batch_size = loop_settings.batch_size;
  AddCommonOptions(app, common);
  app.add_option("--name", name, "Worker name, recorded on the runs it executes")
      ->envname("CONVEYOR_WORKER_NAME")
      ->capture_default_str();
  app.add_option("--group-id", group)->envname("CONVEYOR_GROUP_ID")->capture_default_str();
  app.add_option("--dlq-topic", dlq_topic)->capture_default_str();
  app.add_option("--batch-size", batch_size, "Most events taken per poll")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  loop_settings.batch_size = batch_size;

  logging::Setup(common.log_level);
  auto log = logging::Get("worker");
  if (auto s = FinishCommonOptions(common); !s) {
    log->error("{}", s.error().Describe());
    return 2;
  }

  PgPool pool(common.pg_url, 4);
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
  auto consumer = KafkaConsumer::Create(common.kafka, group, name, {common.commands_topic});
  if (!consumer) {
    log->error("{}", consumer.error().Describe());
    return 2;
  }

  SystemClock clock;
  PgTaskStore store(pool);
  HandlerRegistry handlers = HandlerRegistry::WithBuiltins();
  OutboxRelay relay({}, pool, **producer);
  ProcessorSettings settings{name, "/conveyor/worker/" + name, dlq_topic,
                             common.notifications_topic, [&relay] { relay.Wake(); }};
  auto processor = CommandProcessor::Create(settings, store, handlers, **producer, clock);
  if (!processor) {
    log->error("{}", processor.error().Describe());
    return 1;
  }

  std::atomic<bool> stop{false};
  std::thread([&stop, &log] {
    int sig = WaitForStopSignal();
    log->info("signal {}: finishing the current batch, then leaving the group", sig);
    stop = true;
  }).detach();

  relay.Start();
  log->info("worker {} consuming {} in group {}", name, common.commands_topic, group);
  ConsumerLoop loop(loop_settings, **consumer, *processor);
  auto result = loop.Run(stop);
  relay.Stop();
  if (auto s = (*producer)->Flush(std::chrono::seconds(10)); !s) log->warn("{}", s.error().message);
  if (!result) {
    log->error("stopped: {}", result.error().Describe());
    return 1;
  }
  log->info("stopped");
  return 0;
}

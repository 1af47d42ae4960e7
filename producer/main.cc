// conveyor-producer: the ingest service. Parses flags, builds the adapters, serves HTTP.
#include <unistd.h>

#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/pg.h"
#include "conveyor/process.h"
#include "conveyor/task_view.h"
#include "src/http_api.h"
#include "src/pg_catalog.h"
#include "src/task_commands.h"

int main(int argc, char** argv) {
  using namespace conveyor;
  BlockStopSignals();

  CLI::App app{"conveyor-producer: accepts task requests and publishes them to Kafka"};
  CommonOptions common;
  HttpSettings http;
  int delivery_timeout_ms = 10000;
  AddCommonOptions(app, common);
  app.add_option("--http-host", http.host)->envname("CONVEYOR_HTTP_HOST")->capture_default_str();
  app.add_option("--http-port", http.port, "0 picks a free port")
      ->envname("CONVEYOR_HTTP_PORT")
      ->capture_default_str();
  app.add_option("--http-threads", http.threads)->check(CLI::Range(1, 1024))->capture_default_str();
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

  PgPool pool(common.pg_url, static_cast<std::size_t>(http.threads) + 2);
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

  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  auto producer = KafkaProducer::Create(common.kafka, "conveyor-producer",
                                        std::chrono::milliseconds(delivery_timeout_ms));
  if (!producer) {
    log->error("{}", producer.error().Describe());
    return 2;
  }
  auto decoder = twosms::RequestDecoder::Create();
  if (!decoder) {
    log->error("{}", decoder.error().Describe());
    return 1;
  }

  SystemClock clock;
  PgTaskTypeCatalog catalog(pool);
  PgTaskNumberAllocator numbers(pool);
  PgTaskReader reader(pool);
  TaskCommandService commands(catalog, numbers, **producer, clock, common.commands_topic,
                              std::string("/conveyor/producer/") + host);
  auto type_schema = JsonSchema::Embedded("requests/admin.task-type-register.json");
  if (!type_schema) {
    log->error("{}", type_schema.error().Describe());
    return 1;
  }
  HttpApi api(http, std::move(*decoder), std::move(*type_schema), catalog, commands, reader, clock);
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

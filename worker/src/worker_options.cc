#include "worker_options.h"

#include <unistd.h>

#include <tuple>

#include "conveyor/status_server.h"

namespace conveyor {
namespace {

std::string DefaultWorkerName() {
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

// The durations as the flags take them, in milliseconds.
struct MillisecondFlags {
  long long heartbeat, stale_after, shutdown_grace, revoke_grace;
  long long retention_days, inbox_retention_days;
};

void AddWorkerFlags(CLI::App& app, WorkerOptions& o, MillisecondFlags& ms) {
  AddCommonOptions(app, o.common);
  app.add_option("--config", o.config_path,
                 "Configuration file (JSON): the exec, sql and export handlers this worker "
                 "offers (docs/handlers.md)")
      ->envname("CONVEYOR_WORKER_CONFIG");
  app.add_option("--name", o.name, "Worker name, recorded on the runs it executes")
      ->envname("CONVEYOR_WORKER_NAME")
      ->capture_default_str();
  app.add_option("--group-id", o.group_id)->envname("CONVEYOR_GROUP_ID")->capture_default_str();
  app.add_option("--dlq-topic", o.dlq_topic)->capture_default_str();
  app.add_option("--state-topic", o.state.topic,
                 "Compacted topic of task-state events (create it with cleanup.policy=compact "
                 "first); empty: none are written")
      ->envname("CONVEYOR_STATE_TOPIC")
      ->capture_default_str();
  app.add_option("--journal-topic", o.state.journal_topic,
                 "Topic of the journal, with unlimited retention: what the workers decided that "
                 "no command says, for --rebuild (docs/integrations.md); empty: none is written")
      ->envname("CONVEYOR_JOURNAL_TOPIC")
      ->capture_default_str();
  app.add_flag("--rebuild", o.rebuild,
               "Replay the commands topic and the journal into the empty database "
               "CONVEYOR_PG_URL names, then exit; runs nothing, publishes nothing");
  app.add_option("--metrics-address", o.metrics_address,
                 "host:port of this worker's /metrics, /healthz and /readyz (port 0: any free "
                 "port, logged); every worker on a host needs its own")
      ->envname("CONVEYOR_METRICS_ADDRESS")
      ->capture_default_str();
  app.add_option("--batch-size", o.loop.batch_size, "Most events taken per poll")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--concurrency", o.engine.concurrency, "Runs at once on this worker")
      ->envname("CONVEYOR_CONCURRENCY")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--handler-limit", o.handler_limit_flags,
                 "handler=N: at most N runs of that handler at once (repeatable)");
  app.add_option("--max-held", o.loop.max_held,
                 "Runs held (running or waiting) before the partitions pause; 0: 4 x concurrency")
      ->capture_default_str();
  app.add_option("--schedule-batch", o.scheduler.batch,
                 "Due schedules this worker's scheduler claims and fires per pass")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--heartbeat-ms", ms.heartbeat, "How often running runs heartbeat")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--stale-after-ms", ms.stale_after,
                 "A run whose owner has not heartbeat for this long is started again")
      ->check(CLI::Range(500, 3600000))
      ->capture_default_str();
  app.add_option("--shutdown-grace-ms", ms.shutdown_grace,
                 "On SIGTERM, how long running runs may take before they are cancelled")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--revoke-grace-ms", ms.revoke_grace,
                 "On losing a partition, how long its running runs may take before cancel")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--retention-days", ms.retention_days,
                 "Days a done task (deleted, or run and with nothing due) and its runs, notes "
                 "and export files are kept; 0: forever")
      ->envname("CONVEYOR_RETENTION_DAYS")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
  app.add_option("--inbox-retention-days", ms.inbox_retention_days,
                 "Days the record of each applied command is kept (keep it longer than the "
                 "commands topic's retention); 0: forever")
      ->envname("CONVEYOR_INBOX_RETENTION_DAYS")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
}

// "handler=N" into `limits`.
Status AddHandlerLimit(const std::string& flag, std::map<std::string, std::size_t>& limits) {
  auto eq = flag.find('=');
  std::size_t n = 0;
  try {
    n = eq == std::string::npos ? 0 : std::stoul(flag.substr(eq + 1));
  } catch (const std::exception&) {
    eq = std::string::npos;
  }
  if (eq == std::string::npos || eq == 0)
    return Fail(ErrorCode::kInvalidArgument, "--handler-limit '" + flag + "': expected handler=N");
  limits[flag.substr(0, eq)] = n;
  return {};
}

}  // namespace

std::variant<WorkerOptions, CommandLineExit> ParseWorkerCommandLine(int argc,
                                                                    const char* const* argv,
                                                                    std::ostream& out,
                                                                    std::ostream& err) {
  WorkerOptions o;
  o.name = DefaultWorkerName();
  MillisecondFlags ms{o.engine.heartbeat_interval.count(),     o.engine.stale_after.count(),
                      o.loop.shutdown_grace.count(),           o.loop.revoke_grace.count(),
                      o.retention.finished_tasks.count() / 24, o.retention.inbox.count() / 24};
  CLI::App app{"conveyor-worker: applies task commands, runs tasks, records their state"};
  AddWorkerFlags(app, o, ms);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return CommandLineExit{app.exit(e, out, err)};
  }
  o.engine.heartbeat_interval = std::chrono::milliseconds(ms.heartbeat);
  o.engine.stale_after = std::chrono::milliseconds(ms.stale_after);
  o.loop.shutdown_grace = std::chrono::milliseconds(ms.shutdown_grace);
  o.loop.revoke_grace = std::chrono::milliseconds(ms.revoke_grace);
  o.retention.finished_tasks = std::chrono::hours(24 * ms.retention_days);
  o.retention.inbox = std::chrono::hours(24 * ms.inbox_retention_days);
  return o;
}

Status FinishWorkerOptions(WorkerOptions& o) {
  if (auto s = FinishCommonOptions(o.common); !s) return s;
  for (const auto& flag : o.handler_limit_flags)
    if (auto s = AddHandlerLimit(flag, o.engine.handler_limits); !s) return s;
  auto address = ParseListenAddress(o.metrics_address);
  if (!address)
    return Fail(ErrorCode::kInvalidArgument, address.error().message, "--metrics-address");
  std::tie(o.metrics_host, o.metrics_port) = *address;
  if (o.state.enabled() &&
      (o.state.topic == o.common.commands_topic || o.state.topic == o.common.notifications_topic ||
       o.state.topic == o.dlq_topic))
    return Fail(ErrorCode::kInvalidArgument,
                "the task-state topic must be a compacted topic of its own, not " + o.state.topic,
                "--state-topic");
  const auto& journal = o.state.journal_topic;
  if ((o.rebuild && journal.empty()) ||
      (!journal.empty() &&
       (journal == o.common.commands_topic || journal == o.common.notifications_topic ||
        journal == o.dlq_topic || journal == o.state.topic)))
    return Fail(
        ErrorCode::kInvalidArgument,
        "the journal needs a topic of its own, with unlimited retention, not '" + journal + "'",
        "--journal-topic");
  if (!o.config_path.empty()) {
    auto loaded = LoadWorkerConfig(o.config_path);
    if (!loaded)
      return Fail(ErrorCode::kInvalidArgument, "bad configuration file: " + loaded.error().message);
    o.config = std::move(*loaded);
  }
  o.engine.worker_name = o.name;
  o.engine.source = "/conveyor/worker/" + o.name;
  o.engine.notifications_topic = o.common.notifications_topic;
  o.scheduler.worker_name = o.name;
  o.scheduler.source = o.engine.source;
  o.scheduler.commands_topic = o.common.commands_topic;
  o.state.source = o.engine.source;
  return {};
}

}  // namespace conveyor

// WorkerOptions: everything that configures one conveyor-worker process, in one struct with
// its defaults, read from the command line and the environment in one place.
//
// ParseWorkerCommandLine declares every flag (each with its environment variable where it has
// one: a flag given wins over its variable, which wins over the default) and parses argv;
// --help prints them all with their defaults. FinishWorkerOptions then checks what the flags
// alone cannot (librdkafka properties, --handler-limit values, --metrics-address), reads the
// configuration file
// (--config) and derives the settings the components take. The README's Configuration table
// lists the flags and variables.
#pragma once

#include <iostream>
#include <map>
#include <string>
#include <variant>

#include "consumer_loop.h"
#include "conveyor/process.h"
#include "retention.h"
#include "run_engine.h"
#include "scheduler.h"
#include "task_state.h"
#include "worker_config.h"

namespace conveyor {

struct WorkerOptions {
  // --kafka-brokers, --kafka-property(ies), --pg-url, --log-level, --commands-topic,
  // --notifications-topic (conveyor/process.h).
  CommonOptions common;
  std::string name;                                 // --name; default <host>-<pid>
  std::string group_id = "conveyor-workers";        // --group-id
  std::string dlq_topic = "conveyor.commands.dlq";  // --dlq-topic
  std::string config_path;                          // --config; empty: built-in handlers only
  std::vector<std::string> handler_limit_flags;     // --handler-limit handler=N, as given
  // --metrics-address host:port: /metrics, /healthz and /readyz (conveyor/status_server.h);
  // FinishWorkerOptions splits it into metrics_host and metrics_port (0: any free port).
  std::string metrics_address = "127.0.0.1:9464";
  std::string metrics_host;
  int metrics_port = 0;
  // --batch-size, --max-held, --shutdown-grace-ms, --revoke-grace-ms.
  ConsumerLoopSettings loop;
  // --concurrency, --heartbeat-ms, --stale-after-ms; FinishWorkerOptions fills in the worker's
  // name, its notifications' source and topic, and the --handler-limit values.
  EngineSettings engine;
  // --schedule-batch; FinishWorkerOptions fills in the name, source and commands topic.
  SchedulerSettings scheduler;
  // --retention-days, --inbox-retention-days (retention.h).
  RetentionPolicy retention;
  // --state-topic: the compacted topic of task-state events (docs/events.md, conveyor.tasks);
  // empty: none are written. FinishWorkerOptions fills in their source.
  // --journal-topic (state.journal_topic): the journal's topic (journal.h); empty: no records.
  TaskStateSettings state;
  // --rebuild: replay the commands topic and the journal into the (empty) database, then exit
  // (rebuild.h).
  bool rebuild = false;

  WorkerConfig config;  // the configuration file's handlers (FinishWorkerOptions)
};

// Parses argv and the environment. --help goes to `out`, complaints about flags to `err`; a
// CommandLineExit (conveyor/process.h) when the process is to exit at once.
std::variant<WorkerOptions, CommandLineExit> ParseWorkerCommandLine(int argc,
                                                                    const char* const* argv,
                                                                    std::ostream& out = std::cout,
                                                                    std::ostream& err = std::cerr);

// Checks and completes parsed options: kInvalidArgument for a bad librdkafka property, a
// --handler-limit that is not handler=N, a --metrics-address that is not host:port, or a
// configuration file that cannot be read or is
// not valid ("bad configuration file: <file>: at <pointer>: <problem>").
Status FinishWorkerOptions(WorkerOptions& options);

}  // namespace conveyor

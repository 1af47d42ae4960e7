// What both executables' main() share: the common command-line options (CLI11, with
// environment-variable fallbacks) and waiting for a stop signal.
#pragma once

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "conveyor/kafka.h"

namespace conveyor {

struct CommonOptions {
  KafkaSettings kafka;
  std::vector<std::string> kafka_properties;  // --kafka-property key=value, repeatable
  std::string kafka_properties_env;           // CONVEYOR_KAFKA_PROPERTIES="a=1;b=2"
  std::string pg_url = "postgresql://postgres@127.0.0.1:15432/conveyor";
  std::string log_level = "info";
  std::string log_format = "text";  // --log-format text|json (conveyor/logging.h)
  std::string commands_topic = "conveyor.commands";
  std::string notifications_topic = "conveyor.notifications";
};

inline void AddCommonOptions(CLI::App& app, CommonOptions& o) {
  app.add_option("--kafka-brokers", o.kafka.brokers, "Kafka bootstrap servers")
      ->envname("CONVEYOR_KAFKA_BROKERS")
      ->capture_default_str();
  app.add_option("--kafka-property", o.kafka_properties,
                 "Any librdkafka property as key=value (repeatable); overrides defaults");
  app.add_option("--kafka-properties", o.kafka_properties_env, "librdkafka properties as 'k=v;k=v'")
      ->envname("CONVEYOR_KAFKA_PROPERTIES");
  app.add_option("--pg-url", o.pg_url, "PostgreSQL connection URL (libpq)")
      ->envname("CONVEYOR_PG_URL")
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn or error")
      ->envname("CONVEYOR_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", o.log_format,
                 "text (for people) or json (one object per line, for log pipelines)")
      ->envname("CONVEYOR_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--commands-topic", o.commands_topic)->capture_default_str();
  app.add_option("--notifications-topic", o.notifications_topic)->capture_default_str();
}

// A command line's answer when the process is to exit at once: after --help (status 0), or
// for a flag CLI11 refused (its exit status); the text was written already.
struct CommandLineExit {
  int status = 0;
};

// Folds the pass-through properties into o.kafka; call after parsing.
inline Status FinishCommonOptions(CommonOptions& o) {
  if (auto s = AddKafkaProperties(o.kafka, o.kafka_properties_env); !s) return s;
  for (const auto& kv : o.kafka_properties)
    if (auto s = AddKafkaProperty(o.kafka, kv); !s) return s;
  return {};
}

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts afterwards,
// so that WaitForStopSignal can take them synchronously, and ignores SIGPIPE: a write to a
// socket whose peer has gone raises it, and its default action ends the process, so one
// HTTP client that hangs up before its answer would take the producer, and every other
// client's requests, down with it. Ignored, the write fails with EPIPE. (One of the libraries
// the programs link ignores it today as a side effect; this does not rely on that.) Call
// first thing in main().
inline void BlockStopSignals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Caps glibc's malloc arenas at `arenas` unless MALLOC_ARENA_MAX says otherwise. glibc gives
// each thread that allocates its own arena, up to 8 per core, and an arena keeps what was
// freed in it: the producer's handler threads and a worker's runs each touched one, and the
// resident memory of a producer under bulk load doubled (about 90 MiB against 48 MiB with
// two arenas; bench/README.md, "Memory"). Call first thing in main(), before any thread.
// Only builds on the system's allocator (CONVEYOR_MALLOC=system) use it: in a build that links
// jemalloc (the default) the call reaches glibc's unused allocator, and jemalloc's two arenas
// come from `malloc_conf` (common/src/jemalloc_conf.cc; MALLOC_CONF, not MALLOC_ARENA_MAX,
// changes them). Keep the two counts the same.
inline void LimitMallocArenas(int arenas) {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, arenas);
}

// Returns the signal that arrived.
inline int WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace conveyor

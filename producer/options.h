// ProducerOptions: everything that configures one conveyor-producer process, in one struct
// with its defaults, read from the command line and the environment in one place.
//
// ParseProducerCommandLine declares every flag (each with its environment variable where it
// has one: a flag given wins over its variable, which wins over the default) and the operator
// subcommands, and parses argv; --help prints them all with their defaults.
// FinishProducerOptions then checks what the flags alone cannot (librdkafka properties, the
// key id of revoke-admin-key). The README's Configuration table lists the flags and variables.
#pragma once

#include <chrono>
#include <iostream>
#include <string>
#include <variant>

#include "auth/auth.h"
#include "commands/command_queue.h"
#include "conveyor/process.h"
#include "conveyor/uuid.h"
#include "http/server.h"

namespace conveyor {

// The producer's librdkafka linger.ms unless a --kafka-property sets it: how long an event may
// wait for others to share its produce request. 5 ms put submit -> start at p50 6.3-6.9 ms and
// p99 18.9-22.1 ms at 1,000 requests/s, against 14.1-14.9 and 26.2-28.7 with 20 ms, for about
// 60 us more producer CPU a request; shorter cost more than it gained (bench/README.md,
// "linger.ms 5").
inline constexpr int kProducerLingerMs = 5;
// Its max.in.flight.requests.per.connection unless a --kafka-property sets it.
inline constexpr int kProducerMaxInFlight = 1;

struct ProducerOptions {
  // What the process does: serve HTTP, or one operator command and exit.
  enum class Command {
    kServe,
    kCreateAdminKey,  // create-admin-key [--name]: prints the key once on stdout
    kRevokeAdminKey,  // revoke-admin-key --id
  };

  // --kafka-brokers, --kafka-property(ies), --pg-url, --log-level, --commands-topic,
  // --notifications-topic (conveyor/process.h).
  CommonOptions common;
  http::ServerSettings server;  // --http-*, --tls-cert, --tls-key
  // --delivery-timeout-ms: how long a write waits for Kafka's acknowledgement (then 503).
  std::chrono::milliseconds delivery_timeout{10000};
  // --redrive-every-ms: how often the producer looks for acknowledged creates that the
  // workers passed over (commands/create_redrive.h); 0 never.
  std::chrono::milliseconds redrive_every{30000};
  // --pg-connections: PostgreSQL connections held at most (requests share them; one waits up
  // to 5 s for a free one). Each producer counts against the server's max_connections.
  int pg_connections = 16;
  // --public-base-url: where the links in answers (Oracle's `links`, `Location`) point, as
  // clients reach this producer ("https://tasks.example.com"); never taken from a request's
  // Host. FinishProducerOptions checks it and, when it is unset, makes it
  // http://<--http-host>:<--http-port>.
  std::string public_base_url;
  AuthSettings auth;  // --token-lifetime-seconds, --auth-cache-seconds
  // --worker-group-id and --dlq-topic: what the workers run with (their --group-id and
  // --dlq-topic), for GET /api/v1/admin/queue and the dead-letter routes.
  QueueSettings queue;
  Command command = Command::kServe;
  std::string admin_key_name = "admin";  // create-admin-key --name
  std::string revoke_key_text;           // revoke-admin-key --id, as given
  Uuid revoke_key_id;                    // FinishProducerOptions parses revoke_key_text
};

// Parses argv and the environment. --help goes to `out`, complaints about flags to `err`.
std::variant<ProducerOptions, CommandLineExit> ParseProducerCommandLine(
    int argc, const char* const* argv, std::ostream& out = std::cout,
    std::ostream& err = std::cerr);

// Checks and completes parsed options: kInvalidArgument for a bad librdkafka property, a
// --public-base-url that is not http(s)://authority, or a revoke-admin-key --id that is not a
// key id (a UUID).
Status FinishProducerOptions(ProducerOptions& options);

// The settings of the producer's KafkaProducer (its consumers take o.common.kafka as given):
// linger.ms is kProducerLingerMs and max.in.flight.requests.per.connection kProducerMaxInFlight,
// each unless --kafka-property or CONVEYOR_KAFKA_PROPERTIES sets it.
KafkaSettings ProducerKafkaSettings(const ProducerOptions& o);

}  // namespace conveyor

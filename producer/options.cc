#include "options.h"

namespace conveyor {
namespace {

// The durations as the flags take them.
struct DurationFlags {
  long long delivery_timeout_ms, redrive_every_ms, token_lifetime_s, auth_cache_s;
  long long header_timeout_ms, body_timeout_ms, idle_timeout_ms;
};

void AddServerFlags(CLI::App& app, ProducerOptions& o, DurationFlags& d) {
  app.add_option("--http-host", o.server.host)
      ->envname("CONVEYOR_HTTP_HOST")
      ->capture_default_str();
  app.add_option("--http-port", o.server.port, "0 picks a free port")
      ->envname("CONVEYOR_HTTP_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--tls-cert", o.server.tls_cert,
                 "PEM file of the certificate (and its chain) to serve HTTPS with; needs --tls-key")
      ->envname("CONVEYOR_TLS_CERT");
  app.add_option("--tls-key", o.server.tls_key,
                 "PEM file of the certificate's private key; needs --tls-cert")
      ->envname("CONVEYOR_TLS_KEY");
  app.add_option("--delivery-timeout-ms", d.delivery_timeout_ms,
                 "How long a request waits for Kafka's acknowledgement before answering 503")
      ->check(CLI::Range(100, 300000))
      ->capture_default_str();
  app.add_option("--redrive-every-ms", d.redrive_every_ms,
                 "How often to look for creates Kafka acknowledged that the workers passed over "
                 "without reading them, and publish them again; 0 never")
      ->envname("CONVEYOR_REDRIVE_EVERY_MS")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--public-base-url", o.public_base_url,
                 "Where links in answers point, as clients reach this producer "
                 "(https://tasks.example.com); default http://<http-host>:<http-port>")
      ->envname("CONVEYOR_PUBLIC_BASE_URL");
  app.add_option("--worker-group-id", o.queue.worker_group,
                 "The workers' consumer group (their --group-id), whose lag the queue route shows")
      ->envname("CONVEYOR_GROUP_ID")
      ->capture_default_str();
  app.add_option("--dlq-topic", o.queue.dlq_topic,
                 "The workers' dead-letter topic (their --dlq-topic), listed and replayed by the "
                 "dead-letter routes")
      ->envname("CONVEYOR_DLQ_TOPIC")
      ->capture_default_str();
  app.add_option("--pg-connections", o.pg_connections,
                 "PostgreSQL connections held at most, shared by the requests")
      ->envname("CONVEYOR_PG_CONNECTIONS")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--token-lifetime-seconds", d.token_lifetime_s,
                 "How long a bearer token from POST /Token stays valid")
      ->envname("CONVEYOR_TOKEN_LIFETIME_SECONDS")
      ->check(CLI::Range(1, 30 * 24 * 3600))
      ->capture_default_str();
  app.add_option("--auth-cache-seconds", d.auth_cache_s,
                 "How long a verified credential is remembered (a changed one is forgotten at "
                 "once, as PostgreSQL announces it). 0 never remembers (each request then pays "
                 "PBKDF2, about 0.3 s, for Basic and admin keys)")
      ->envname("CONVEYOR_AUTH_CACHE_SECONDS")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--login-failures-per-id", o.auth.throttle.failures_per_id,
                 "Failed logins for one client id or admin key per minute before further "
                 "attempts are refused with 429 and Retry-After; 0: no limit")
      ->envname("CONVEYOR_LOGIN_FAILURES_PER_ID")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--login-failures-per-address", o.auth.throttle.failures_per_address,
                 "Failed logins from one source address per minute before further attempts "
                 "are refused with 429 and Retry-After; 0: no limit")
      ->envname("CONVEYOR_LOGIN_FAILURES_PER_ADDRESS")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--login-checks-at-once", o.auth.verify_concurrency,
                 "Secret checks (PBKDF2, about 0.3 s of a core each) run at once; a login that "
                 "waits 2 s for its turn is answered 503 with Retry-After")
      ->envname("CONVEYOR_LOGIN_CHECKS_AT_ONCE")
      ->check(CLI::Range(1, static_cast<int>(kMaxVerifyConcurrency)))
      ->capture_default_str();
}

// How the HTTP server shares itself out (http/server.h, http/connections.h).
void AddHttpLimitFlags(CLI::App& app, http::ServerSettings& s, DurationFlags& d) {
  app.add_option("--http-threads", s.threads,
                 "Requests whose routes run at once (a create waiting for Kafka holds none)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--http-io-threads", s.io_threads,
                 "Threads that accept, read and write the connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--http-max-connections", s.max_connections,
                 "Connections open at once; a new one over it is answered 503 with Retry-After")
      ->envname("CONVEYOR_HTTP_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--http-max-queued", s.max_queued,
                 "Requests waiting for or held by a route; one over it is answered 503 with "
                 "Retry-After")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--http-header-timeout-ms", d.header_timeout_ms,
                 "How long a new connection has to send its first request's header (408 after)")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();
  app.add_option("--http-body-timeout-ms", d.body_timeout_ms,
                 "How long a request's body may take after its header (408 after)")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();
  app.add_option("--http-idle-timeout-ms", d.idle_timeout_ms,
                 "How long a kept-alive connection may wait for its next request before it "
                 "is closed")
      ->check(CLI::Range(100, 3'600'000))
      ->capture_default_str();
}

// The operator subcommands; they take --pg-url and --log-level too (fallthrough).
void AddSubcommands(CLI::App& app, ProducerOptions& o) {
  app.fallthrough();
  auto* create = app.add_subcommand(
      "create-admin-key", "Create an admin API key in the database and print it once (stdout)");
  create->add_option("--name", o.admin_key_name, "A name to recognise the key by")
      ->capture_default_str();
  create->callback([&o] { o.command = ProducerOptions::Command::kCreateAdminKey; });
  auto* revoke = app.add_subcommand("revoke-admin-key", "Revoke an admin API key");
  revoke->add_option("--id", o.revoke_key_text, "The key's id (the part before the '.')")
      ->required();
  revoke->callback([&o] { o.command = ProducerOptions::Command::kRevokeAdminKey; });
}

// "http(s)://authority" with no path, query or fragment; a trailing '/' is dropped.
Status CheckPublicBaseUrl(std::string& url) {
  if (!url.empty() && url.back() == '/') url.pop_back();
  auto scheme_end = url.find("://");
  auto scheme = scheme_end == std::string::npos ? std::string() : url.substr(0, scheme_end);
  auto authority = scheme_end == std::string::npos ? std::string() : url.substr(scheme_end + 3);
  bool plain = !authority.empty() && authority.find_first_of("/?#@ \t\r\n") == std::string::npos;
  if ((scheme != "http" && scheme != "https") || !plain)
    return Fail(ErrorCode::kInvalidArgument,
                "--public-base-url: '" + url +
                    "' is not http:// or https:// and a host[:port] with nothing after it");
  return {};
}

}  // namespace

std::variant<ProducerOptions, CommandLineExit> ParseProducerCommandLine(int argc,
                                                                        const char* const* argv,
                                                                        std::ostream& out,
                                                                        std::ostream& err) {
  ProducerOptions o;
  DurationFlags d{o.delivery_timeout.count(),      o.redrive_every.count(),
                  o.auth.token_lifetime.count(),   o.auth.cache_ttl.count(),
                  o.server.header_timeout.count(), o.server.body_timeout.count(),
                  o.server.idle_timeout.count()};
  CLI::App app{"conveyor-producer: accepts task requests and publishes them to Kafka"};
  AddCommonOptions(app, o.common);
  AddServerFlags(app, o, d);
  AddHttpLimitFlags(app, o.server, d);
  AddSubcommands(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return CommandLineExit{app.exit(e, out, err)};
  }
  o.delivery_timeout = std::chrono::milliseconds(d.delivery_timeout_ms);
  o.redrive_every = std::chrono::milliseconds(d.redrive_every_ms);
  o.auth.token_lifetime = std::chrono::seconds(d.token_lifetime_s);
  o.auth.cache_ttl = std::chrono::seconds(d.auth_cache_s);
  o.server.header_timeout = std::chrono::milliseconds(d.header_timeout_ms);
  o.server.body_timeout = std::chrono::milliseconds(d.body_timeout_ms);
  o.server.idle_timeout = std::chrono::milliseconds(d.idle_timeout_ms);
  return o;
}

Status FinishProducerOptions(ProducerOptions& o) {
  if (auto s = FinishCommonOptions(o.common); !s) return s;
  if (o.redrive_every.count() > 0 && o.redrive_every.count() < 100)
    return Fail(ErrorCode::kInvalidArgument,
                "--redrive-every-ms must be 0 (never) or at least 100: each pass asks the brokers "
                "with a client of its own");
  if (o.server.tls_cert.empty() != o.server.tls_key.empty())
    return Fail(ErrorCode::kInvalidArgument, "give both --tls-cert and --tls-key, or neither",
                o.server.tls_cert.empty() ? "--tls-cert" : "--tls-key");
  if (o.public_base_url.empty())
    o.public_base_url = std::string(o.server.tls() ? "https://" : "http://") + o.server.host + ":" +
                        std::to_string(o.server.port);
  if (auto s = CheckPublicBaseUrl(o.public_base_url); !s) return s;
  if (o.command == ProducerOptions::Command::kRevokeAdminKey) {
    auto id = Uuid::Parse(o.revoke_key_text);
    if (!id)
      return Fail(ErrorCode::kInvalidArgument,
                  "--id: '" + o.revoke_key_text + "' is not a key id (a UUID)");
    o.revoke_key_id = *id;
  }
  return {};
}

KafkaSettings ProducerKafkaSettings(const ProducerOptions& o) {
  // The producer publishes an event or a few per request, as requests come: waiting a few
  // milliseconds for more fills each produce request, which librdkafka's broker thread pays
  // for per request, not per event. How long is kProducerLingerMs's choice (options.h).
  auto kafka = o.common.kafka;
  kafka.properties.try_emplace("linger.ms", std::to_string(kProducerLingerMs));
  // One produce request at a time per broker: the idempotent producer then never has to
  // re-sequence requests in flight when a partition's leader fails, the case in which
  // librdkafka 2.0.2 reported two creates acknowledged that the cluster does not hold
  // (docs/faults.md). With a 20 ms linger's full batches it cost nothing measurable
  // (bench/README.md, "One produce request in flight per broker").
  kafka.properties.try_emplace("max.in.flight.requests.per.connection",
                               std::to_string(kProducerMaxInFlight));
  return kafka;
}

}  // namespace conveyor

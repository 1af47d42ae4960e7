// conveyor: the command line of Conveyor. It speaks to a producer's HTTP API with the address
// and credentials of the flags or of the environment that `scripts/stack up` writes to
// .stack/env (CONVEYOR_HTTP_URL, CONVEYOR_ADMIN_KEY); `tail` and `dlq` read Kafka with its
// CONVEYOR_KAFKA_BROKERS and topic names. `source .stack/env` and it reaches the local stack.
//
// Exit status: 0 when everything asked for happened, 1 when something did not (a call failed,
// a watched task did not succeed), 2 for a command line it cannot parse.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "api_client.h"
#include "commands.h"
#include "conveyor/logging.h"
#include "kafka_commands.h"

namespace {

namespace cli = conveyor::cli;

struct Terminal {
  bool is_one = false;
  int width = 80;
};

Terminal StdoutTerminal() {
  Terminal t;
  const char* term = std::getenv("TERM");
  t.is_one = isatty(STDOUT_FILENO) && !(term && std::string_view(term) == "dumb");
  winsize ws{};
  if (t.is_one && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) t.width = ws.ws_col;
  return t;
}

std::atomic<bool> g_stop{false};

// Everything the command line can say, and the subcommand it named.
struct Args {
  cli::ApiSettings api;
  cli::TopicSettings topics;
  bool json = false, plain = false;
  cli::SubmitOptions submit;
  bool submit_watch = false;
  std::vector<std::int64_t> ids;  // of get, watch, stop or retry (one subcommand per run)
  std::string state;
  cli::WatchOptions watch;
  int timeout_s = 0;
  std::vector<std::string> refs;
  std::vector<std::string> kafka_properties;
  cli::TailOptions tail;
  std::string command;  // "submit", "dlq replay", ...
};

void AddApiOptions(CLI::App& app, Args& a) {
  app.add_option("--url", a.api.url, "The producer's address, http[s]://host:port")
      ->envname("CONVEYOR_HTTP_URL")
      ->capture_default_str();
  app.add_option("--admin-key", a.api.admin_key, "An admin API key (sent as Bearer)")
      ->envname("CONVEYOR_ADMIN_KEY");
  app.add_option("--client-id", a.api.client_id, "A client's ID (Basic, with its secret)")
      ->envname("CONVEYOR_CLIENT_ID");
  app.add_option("--client-secret", a.api.client_secret, "The client's secret")
      ->envname("CONVEYOR_CLIENT_SECRET");
  app.add_flag("--json,--output-json", a.json, "Print the API's JSON instead of a table");
  app.add_flag("--plain", a.plain, "Plain lines, never redrawn, even on a terminal");
}

void AddTaskCommands(CLI::App& app, Args& a) {
  auto* submit = app.add_subcommand("submit", "Create tasks; prints each new task's Id");
  auto* type = submit->add_option("type", a.submit.type, "The task type's name (noop, sleep, ...)");
  auto* params = submit->add_option("--parameters,-p", a.submit.parameters,
                                    R"(The handler's parameters, a JSON object: '{"seconds": 2}')");
  submit->add_option("--description", a.submit.description, "Stored with the task");
  auto* count = submit->add_option("--count,-n", a.submit.count, "How many such tasks")
                    ->check(CLI::Range(1, 1000));
  submit
      ->add_option("--file,-f", a.submit.file,
                   R"(A JSON file: a BatchTaskInfo ({"Name": ..., "ParameterObject": {...}}) )"
                   "or a list of them")
      ->check(CLI::ExistingFile)
      ->excludes(type)
      ->excludes(params)
      ->excludes(count);
  submit->add_flag("--watch,-w", a.submit_watch, "Watch them until they are final");
  submit->add_option("--timeout", a.timeout_s, "With --watch: give up after this many seconds")
      ->check(CLI::NonNegativeNumber);
  auto ids = [&](CLI::App* c) { c->add_option("ids", a.ids, "Task Ids")->required(); };
  ids(app.add_subcommand("get", "Show tasks by Id"));
  app.add_subcommand("list", "List the tasks the credentials may see")
      ->add_option("--state", a.state, "Only those in this state")
      ->check(CLI::IsMember(cli::kTaskStates));
  auto* watch = app.add_subcommand(
      "watch", "Progress bars until every task is final; exit status 0 only if all succeeded");
  ids(watch);
  watch->add_option("--timeout", a.timeout_s, "Give up after this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber);
  ids(app.add_subcommand("stop", "Stop tasks' runs (StopBatchJob)"));
  ids(app.add_subcommand("retry", "Run Succeeded or Failed tasks again"));
  app.add_subcommand("types", "The task types the credentials may use");
}

void AddKafkaCommands(CLI::App& app, Args& a) {
  auto brokers = [&](CLI::App* c) {
    c->add_option("--kafka-brokers", a.topics.kafka.brokers, "Kafka's bootstrap servers")
        ->envname("CONVEYOR_KAFKA_BROKERS")
        ->capture_default_str();
    // As the services take them (TLS, SASL): repeated key=value, or a ';' list in the variable.
    c->add_option("--kafka-property", a.kafka_properties, "A librdkafka property, key=value")
        ->envname("CONVEYOR_KAFKA_PROPERTIES")
        ->delimiter(';');
  };
  auto* dlq = app.add_subcommand("dlq", "The dead-letter topic: list, replay");
  dlq->require_subcommand(1);
  dlq->add_option("--dlq-topic", a.topics.dlq, "The dead-letter topic")
      ->envname("CONVEYOR_DLQ_TOPIC")
      ->capture_default_str();
  brokers(dlq);
  dlq->add_subcommand("list", "Every dead-lettered command, with why and where it came from");
  dlq->add_subcommand("replay", "Publish dead-lettered commands again where they came from")
      ->add_option("messages", a.refs, "OFFSET or PARTITION:OFFSET, as dlq list shows them")
      ->required()
      ->check(CLI::Validator(
          [](std::string& ref) {
            auto parsed = cli::ParseMessageRef(ref);
            return parsed ? std::string() : parsed.error().message;
          },
          "OFFSET|PARTITION:OFFSET"));
  auto* tail = app.add_subcommand("tail", "Print notification events as they arrive");
  tail->add_option("--notifications-topic", a.topics.notifications, "The notifications topic")
      ->envname("CONVEYOR_NOTIFICATIONS_TOPIC")
      ->capture_default_str();
  brokers(tail);
  tail->add_flag("--from-beginning", a.tail.from_beginning, "Every event the topic holds");
  tail->add_option("--count,-n", a.tail.count, "Stop after this many events")
      ->check(CLI::NonNegativeNumber);
  tail->add_option("--timeout", a.timeout_s,
                   "With --count: give up after this many seconds (exit status 1)")
      ->check(CLI::NonNegativeNumber);
}

// The subcommand's path, "dlq replay" for a nested one.
std::string CommandOf(const CLI::App& app) {
  std::string path;
  for (const auto* c = &app; !c->get_subcommands().empty();) {
    c = c->get_subcommands().front();
    path += (path.empty() ? "" : " ") + c->get_name();
  }
  return path;
}

int RunApiCommand(const Args& a, cli::Output& io) {
  auto api = cli::ApiClient::Create(a.api);
  if (!api) {
    io.err << "conveyor: " << api.error().Describe() << "\n";
    return 1;
  }
  conveyor::SystemClock clock;
  auto sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  auto& t = **api;
  const auto& c = a.command;
  if (c == "submit") {
    std::vector<std::int64_t> created;
    int status = cli::Submit(t, a.submit, io, &created);
    if (status != 0 || !a.submit_watch) return status;
    return cli::Watch(t, created, a.watch, io, clock, sleep);
  }
  if (c == "get") return cli::Get(t, a.ids, io);
  if (c == "list") return cli::List(t, a.state, io);
  if (c == "watch") return cli::Watch(t, a.ids, a.watch, io, clock, sleep);
  if (c == "stop") return cli::Stop(t, a.ids, io);
  if (c == "retry") return cli::Retry(t, a.ids, io);
  return cli::Types(t, io);
}

int Run(Args& a, const Terminal& terminal) {
  // Only warnings of the libraries' own logs (librdkafka's), on stderr.
  conveyor::logging::Setup("warn");
  cli::Output io{std::cout, std::cerr, terminal.is_one && !a.plain, a.json};
  for (const auto& p : a.kafka_properties)
    if (auto added = conveyor::AddKafkaProperty(a.topics.kafka, p); !added) {
      io.err << "conveyor: --kafka-property: " << added.error().Describe() << "\n";
      return 2;
    }
  a.watch.width = terminal.width;
  a.watch.timeout = a.tail.timeout = std::chrono::seconds(a.timeout_s);
  if (a.command == "dlq list") return cli::DlqList(a.topics, io);
  if (a.command == "dlq replay") return cli::DlqReplay(a.topics, a.refs, io);
  if (a.command == "tail") {
    std::signal(SIGINT, [](int) { g_stop = true; });
    std::signal(SIGTERM, [](int) { g_stop = true; });
    return cli::Tail(a.topics, a.tail, io, g_stop);
  }
  return RunApiCommand(a, io);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"conveyor: submit, list, watch and steer Conveyor tasks"};
  app.require_subcommand(1);
  app.fallthrough();  // the options of the API may also follow the subcommand
  Args a;
  AddApiOptions(app, a);
  AddTaskCommands(app, a);
  AddKafkaCommands(app, a);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "conveyor: " << e.what() << " (conveyor --help)\n";
    return 2;
  }
  a.command = CommandOf(app);
  return Run(a, StdoutTerminal());
}

// conveyor: the command line of Conveyor. It speaks to a producer's HTTP API with the address
// and credentials of the flags or of the environment that `scripts/stack up` writes to
// .stack/env (CONVEYOR_HTTP_URL, CONVEYOR_ADMIN_KEY); `source .stack/env` and it reaches the
// local stack.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "api_client.h"
#include "commands.h"

namespace {

using conveyor::cli::ApiClient;

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"conveyor: submit, list, watch and steer Conveyor tasks through a producer's API"};
  app.require_subcommand(1);
  app.fallthrough();  // the options above may also follow the subcommand
  conveyor::cli::ApiSettings settings;
  bool json = false, plain = false;
  app.add_option("--url", settings.url, "The producer's address, http[s]://host:port")
      ->envname("CONVEYOR_HTTP_URL")
      ->capture_default_str();
  app.add_option("--admin-key", settings.admin_key, "An admin API key (sent as Bearer)")
      ->envname("CONVEYOR_ADMIN_KEY");
  app.add_option("--client-id", settings.client_id, "A client's ID (Basic, with its secret)")
      ->envname("CONVEYOR_CLIENT_ID");
  app.add_option("--client-secret", settings.client_secret, "The client's secret")
      ->envname("CONVEYOR_CLIENT_SECRET");
  app.add_flag("--output-json,--json", json, "Print the API's JSON instead of a table");
  app.add_flag("--plain", plain, "Plain lines, never redrawn, even on a terminal");

  conveyor::cli::SubmitOptions submit;
  bool submit_watch = false;
  auto* submit_cmd = app.add_subcommand("submit", "Create tasks; prints each new task's Id");
  submit_cmd->add_option("type", submit.type, "The task type's name (noop, sleep, ...)");
  submit_cmd->add_option("--parameters,-p", submit.parameters,
                         R"(The handler's parameters, a JSON object: '{"seconds": 2}')");
  submit_cmd->add_option("--description", submit.description, "Stored with the task");
  submit_cmd->add_option("--count,-n", submit.count, "How many such tasks")
      ->check(CLI::Range(1, 1000));
  submit_cmd
      ->add_option("--file,-f", submit.file,
                   "A JSON file: a BatchTaskInfo ({\"Name\": ..., \"ParameterObject\": "
                   "{...}}) or a list of them")
      ->check(CLI::ExistingFile);
  submit_cmd->add_flag("--watch,-w", submit_watch, "Watch them until they are final");

  std::vector<std::int64_t> ids;
  auto* get_cmd = app.add_subcommand("get", "Show tasks by Id");
  get_cmd->add_option("ids", ids, "Task Ids")->required();
  std::string state;
  auto* list_cmd = app.add_subcommand("list", "List the tasks the credentials may see");
  list_cmd->add_option("--state", state,
                       "Only user tasks in this state (New, Started, Failed, ...)");
  conveyor::cli::WatchOptions watch;
  int timeout_s = 0;
  auto* watch_cmd = app.add_subcommand(
      "watch", "Progress bars until every task is final; exit status 0 only if all succeeded");
  watch_cmd->add_option("ids", ids, "Task Ids")->required();
  watch_cmd->add_option("--timeout", timeout_s, "Give up after this many seconds (0: never)");
  auto* stop_cmd = app.add_subcommand("stop", "Stop tasks' runs (StopBatchJob)");
  stop_cmd->add_option("ids", ids, "Task Ids")->required();
  auto* retry_cmd = app.add_subcommand("retry", "Run finished tasks again");
  retry_cmd->add_option("ids", ids, "Task Ids")->required();
  auto* types_cmd = app.add_subcommand("types", "The task types the credentials may use");

  CLI11_PARSE(app, argc, argv);

  auto terminal = StdoutTerminal();
  conveyor::cli::Output io{std::cout, std::cerr, terminal.is_one && !plain, json};
  watch.width = terminal.width;
  watch.timeout = std::chrono::seconds(timeout_s);
  auto api = ApiClient::Create(settings);
  if (!api) {
    std::cerr << "conveyor: " << api.error().Describe() << "\n";
    return 1;
  }
  conveyor::SystemClock clock;
  auto sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  ApiClient& a = **api;
  if (*submit_cmd) {
    std::vector<std::int64_t> created;
    int status = conveyor::cli::Submit(a, submit, io, &created);
    if (status != 0 || !submit_watch) return status;
    return conveyor::cli::Watch(a, created, watch, io, clock, sleep);
  }
  if (*get_cmd) return conveyor::cli::Get(a, ids, io);
  if (*list_cmd) return conveyor::cli::List(a, state, io);
  if (*watch_cmd) return conveyor::cli::Watch(a, ids, watch, io, clock, sleep);
  if (*stop_cmd) return conveyor::cli::Stop(a, ids, io);
  if (*retry_cmd) return conveyor::cli::Retry(a, ids, io);
  if (*types_cmd) return conveyor::cli::Types(a, io);
  return 1;
}

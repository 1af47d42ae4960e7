// The `conveyor` subcommands, each a function of the API client, its options and where to
// write. Each returns the process's exit status: 0 when everything asked for happened (for
// `watch`: every task succeeded), 1 otherwise, with one line on `err` naming the problem.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "api_client.h"
#include "conveyor/clock.h"

namespace conveyor::cli {

struct Output {
  std::ostream& out;
  std::ostream& err;
  bool terminal = false;  // `out` is a terminal: draw progress bars in place
  bool json = false;      // --output json: the API's JSON instead of a table
};

struct SubmitOptions {
  std::string type;        // the task type's name (sleep, noop, a registered type)
  std::string parameters;  // a JSON object, the handler's ParameterObject
  std::string description;
  std::string file;  // a JSON BatchTaskInfo, or an array of them; instead of the flags
  int count = 1;     // how many such tasks
};

struct WatchOptions {
  std::chrono::milliseconds interval{250};
  std::chrono::seconds timeout{0};  // 0: until every task is final
  int width = 80;
};

// Sleeps between two reads of `watch`; tests pass one that moves a FakeClock.
using Sleeper = std::function<void(std::chrono::milliseconds)>;

// Prints each new task's Id, one per line; `created` receives them (for `submit --watch`).
int Submit(ApiClient& api, const SubmitOptions& o, Output& io, std::vector<std::int64_t>* created);
int Get(ApiClient& api, const std::vector<std::int64_t>& ids, Output& io);
int List(ApiClient& api, const std::string& state, Output& io);
int Watch(ApiClient& api, const std::vector<std::int64_t>& ids, const WatchOptions& o, Output& io,
          const Clock& clock, const Sleeper& sleep);
int Stop(ApiClient& api, const std::vector<std::int64_t>& ids, Output& io);
int Retry(ApiClient& api, const std::vector<std::int64_t>& ids, Output& io);
int Types(ApiClient& api, Output& io);

// The table `get` and `list` print: Id, type, state, progress, start count, result.
std::string TaskTable(const std::vector<nlohmann::json>& infos);

}  // namespace conveyor::cli

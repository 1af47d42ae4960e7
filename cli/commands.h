// The `conveyor` subcommands that speak to the producer's API, each a function of the API, its
// options and where to write. Each returns the process's exit status: 0 when everything asked
// for happened, 1 otherwise. A call that failed writes one line on `err` naming the problem;
// `watch` of a task that did not succeed and `stop` of a run already over say it on `out`.
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
  bool json = false;      // --json: the API's JSON instead of a table
};

// Writes `e` as the one line "conveyor: <what failed>" on io.err; returns exit status 1.
int Failed(Output& io, const Error& e);

struct SubmitOptions {
  std::string type;        // the task type's name (sleep, noop, a registered type)
  std::string parameters;  // a JSON object, the handler's ParameterObject
  std::string description;
  std::string file;  // a JSON BatchTaskInfo, or an array of them; instead of the flags
  int count = 1;     // how many such tasks
};

struct WatchOptions {
  std::chrono::milliseconds interval{250};
  std::chrono::seconds timeout{0};  // 0: until every task is final (exit status 1 when it passed)
  int width = 80;
};

// Sleeps between two reads of `watch` (the unit tests move a FakeClock instead).
using Sleeper = std::function<void(std::chrono::milliseconds)>;

// The states `list --state` takes (SuperOffice's BatchTaskState names).
inline const std::vector<std::string> kTaskStates = {
    "New", "Aquired", "Started", "Succeeded", "Failed", "SucceededManualCleanup", "Unknown"};

// Prints each new task's Id, one per line; `created` receives them (for `submit --watch`).
int Submit(TaskApi& api, const SubmitOptions& o, Output& io, std::vector<std::int64_t>* created);
// With --json, a list of BatchTaskInfos however many Ids were asked for.
int Get(TaskApi& api, const std::vector<std::int64_t>& ids, Output& io);
// Every task the credentials may see (the producer refuses more than 1,000, naming the limit);
// `state`, when not empty, keeps those in it.
int List(TaskApi& api, const std::string& state, Output& io);
int Watch(TaskApi& api, const std::vector<std::int64_t>& ids, const WatchOptions& o, Output& io,
          const Clock& clock, const Sleeper& sleep);
int Stop(TaskApi& api, const std::vector<std::int64_t>& ids, Output& io);
int Retry(TaskApi& api, const std::vector<std::int64_t>& ids, Output& io);
int Types(TaskApi& api, Output& io);

// The table `get` and `list` print: Id, type, state, progress, start count, result.
std::string TaskTable(const std::vector<nlohmann::json>& infos);

}  // namespace conveyor::cli

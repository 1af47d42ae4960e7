// The operator's description of the handlers a worker offers, as read from the worker's
// configuration file (worker_config.h). Task types name a handler; API callers can never name
// a program, a statement or a query, only a task type whose handler the operator configured.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace conveyor {

// Resource limits on a program (setrlimit, soft and hard alike); an unset one is the worker's.
struct ProgramLimits {
  std::optional<std::uint64_t> cpu_seconds;   // RLIMIT_CPU
  std::optional<std::uint64_t> memory_bytes;  // RLIMIT_AS
  std::optional<std::uint64_t> open_files;    // RLIMIT_NOFILE
  std::optional<std::uint64_t> processes;     // RLIMIT_NPROC (counted per user)
};

// Runs an external program (exec_handler.h; protocol in docs/handlers.md).
struct ExecHandlerSettings {
  std::vector<std::string> command;                // argv; command[0] is an absolute path
  std::map<std::string, std::string> environment;  // added to a minimal environment
  std::string working_directory;                   // empty: the worker's own
  std::chrono::milliseconds grace{10000};          // SIGTERM → SIGKILL on cancel or timeout
  std::size_t log_limit_bytes = 64 * 1024;         // stderr kept on the run, at most this much
  std::string user;                                // empty: the worker's own
  ProgramLimits limits;
  std::chrono::milliseconds timeout{3600000};  // when the task type sets none
};

// Runs one named SQL statement with the task's Parameters bound as $1, $2, ... in the order of
// `parameters` (the names of the Parameters' fields); records the affected row count.
struct SqlHandlerSettings {
  std::string statement;
  std::vector<std::string> parameters;
  std::string pg_url;  // empty: the worker's own database (from the file's pg_url_env)
};

// Writes the rows of one named query to a CSV file in `folder`, reporting progress by rows;
// records the file's name on the run.
struct ExportHandlerSettings {
  std::string query;
  std::vector<std::string> parameters;
  std::string folder;  // absolute
  std::string pg_url;  // empty: the worker's own database (from the file's pg_url_env)
};

using HandlerKind = std::variant<ExecHandlerSettings, SqlHandlerSettings, ExportHandlerSettings>;

struct HandlerSpec {
  HandlerKind kind;
  std::size_t concurrency = 0;  // most runs of this handler at once on one worker; 0 = no limit
};

}  // namespace conveyor

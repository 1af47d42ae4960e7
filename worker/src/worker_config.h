// The worker's configuration file (conveyor-worker --config FILE): the handlers the operator
// offers besides the built-in ones. JSON, checked against schemas/config/worker-config.json
// (compiled in) and then for what a schema cannot say (absolute paths, reserved names).
// Format and examples: docs/handlers.md.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "conveyor/result.h"
#include "handler_settings.h"

namespace conveyor {

struct WorkerConfig {
  std::map<std::string, HandlerSpec> handlers;  // by handler name (task_types.handler)
};

// Parses the text of a configuration file; `origin` (the file's path) starts every error
// message. Errors are kInvalidArgument with `field` the JSON pointer of the offending value
// ("/handlers/resize/command/0") and a message "<origin>: at <pointer>: <what is wrong>".
// Reads the environment for `pg_url_env`; an unset variable is an error naming the field.
Result<WorkerConfig> ParseWorkerConfig(std::string_view text, const std::string& origin);

// Reads and parses the file at `path`; a file that cannot be read is kInvalidArgument too.
Result<WorkerConfig> LoadWorkerConfig(const std::string& path);

}  // namespace conveyor

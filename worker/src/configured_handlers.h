// Turns the handlers of a WorkerConfig into Handler objects in a HandlerRegistry, at start.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "conveyor/result.h"
#include "handlers.h"
#include "worker_config.h"

namespace conveyor {

// Adds each configured handler to `registry` (exec_handler.h, sql_handler.h,
// export_handler.h); sql and export handlers without a pg_url use `worker_pg_url`. Puts each
// handler's concurrency (when not 0) into `limits` unless `limits` has that handler already
// (--handler-limit wins). Creates missing export folders. kInvalidArgument naming the field
// ("/handlers/report/folder") when an export folder cannot be created or written. A program
// that is not executable now is only logged: it may be installed later, and its runs fail
// with a clear message until it is.
Status AddConfiguredHandlers(const WorkerConfig& config, const std::string& worker_pg_url,
                             HandlerRegistry& registry, std::map<std::string, std::size_t>& limits);

}  // namespace conveyor

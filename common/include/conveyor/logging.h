// Named spdlog loggers, one per subsystem: "ingest", "worker", "kafka", "db", "relay".
// Lines about a task carry task=<id> and event=<id>. Levels: error = a person must act;
// warn = degraded or retrying; info = lifecycle; debug = per message.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace conveyor::logging {

// Sets the level of every logger ("trace", "debug", "info", "warn", "error") and the line
// pattern. Safe to call more than once; call before starting threads.
void Setup(const std::string& level);

// The logger of that name, created on first use (thread-safe).
std::shared_ptr<spdlog::logger> Get(const std::string& name);

}  // namespace conveyor::logging

// Named spdlog loggers, one per subsystem: "ingest", "worker", "kafka", "db", "relay".
// Lines about a task carry task=<id> and event=<id>. Levels: error = a person must act;
// warn = degraded or retrying; info = lifecycle; debug = per message.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace conveyor::logging {

// How lines are written: kText for people ("2026-12-05T07:00:00.123+0000 info  [worker] ..."),
// kJson for log pipelines (JsonFormatter below).
enum class Format { kText, kJson };

// Sets the level of every logger ("trace", "debug", "info", "warn", "error") and the line
// format. Safe to call more than once; call before starting threads.
void Setup(const std::string& level, Format format = Format::kText);

// One JSON object per line: "time" (UTC, RFC 3339, microseconds), "level", "component" (the
// logger's name), "message", and "task", "run", "event" and "trace" when the message carries
// task=<id>, run=<id>, event=<id> or trace=<id> (the convention every line about a task
// follows). Bytes that are not UTF-8 are replaced, so every line parses.
std::unique_ptr<spdlog::formatter> JsonFormatter();

// The logger of that name, created on first use (thread-safe).
std::shared_ptr<spdlog::logger> Get(const std::string& name);

}  // namespace conveyor::logging

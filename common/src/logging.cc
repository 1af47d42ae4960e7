#include "conveyor/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace conveyor::logging {
namespace {
std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;
}  // namespace

void Setup(const std::string& level) {
  std::lock_guard lock(g_mutex);
  g_level = spdlog::level::from_str(level);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v");
  spdlog::set_level(g_level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

std::shared_ptr<spdlog::logger> Get(const std::string& name) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  // Logs go to stderr so that stdout stays free for a program's own output.
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_level(g_level);
  return logger;
}

}  // namespace conveyor::logging

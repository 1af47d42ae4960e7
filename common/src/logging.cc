#include "conveyor/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "conveyor/time_format.h"

namespace conveyor::logging {
namespace {
std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;

// The value of `key`=<value> in `message` (up to a space, comma, semicolon or closing
// parenthesis), or "" when the message has no such token.
std::string_view TokenValue(std::string_view message, std::string_view key) {
  for (std::size_t at = message.find(key); at != std::string_view::npos;
       at = message.find(key, at + 1)) {
    bool starts_word = at == 0 || message[at - 1] == ' ' || message[at - 1] == '(';
    if (!starts_word) continue;
    auto value = message.substr(at + key.size());
    return value.substr(0, value.find_first_of(" ,;:)"));
  }
  return {};
}

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view message(msg.payload.data(), msg.payload.size());
    auto since_epoch =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    auto level = spdlog::level::to_string_view(msg.level);
    nlohmann::json line = {
        {"time", FormatRfc3339(Timestamp(since_epoch))},
        {"level", std::string_view(level.data(), level.size())},
        {"component", std::string_view(msg.logger_name.data(), msg.logger_name.size())},
        {"message", message}};
    for (std::string_view key : {"task", "run", "event", "trace"})
      if (auto v = TokenValue(message, std::string(key) + "="); !v.empty()) line[key] = v;
    auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> JsonFormatter() { return std::make_unique<JsonLineFormatter>(); }

void Setup(const std::string& level, Format format) {
  std::lock_guard lock(g_mutex);
  g_level = spdlog::level::from_str(level);
  if (format == Format::kJson)
    spdlog::set_formatter(JsonFormatter());
  else
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

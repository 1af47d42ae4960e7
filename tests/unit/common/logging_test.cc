#include "conveyor/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace conveyor::logging {
namespace {

using nlohmann::json;

// What `write` logs through a logger named "worker" with the JSON formatter, parsed.
json JsonLineOf(const std::function<void(spdlog::logger&)>& write) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("worker", sink);
  logger.set_formatter(JsonFormatter());
  write(logger);
  auto text = out.str();
  EXPECT_TRUE(text.ends_with("\n")) << text;
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
  return json::parse(text);
}

TEST(JsonFormatter, WritesTimeLevelComponentAndMessage) {
  auto line = JsonLineOf([](spdlog::logger& l) { l.warn("batch of {} not applied", 3); });
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["component"], "worker");
  EXPECT_EQ(line["message"], "batch of 3 not applied");
  EXPECT_TRUE(line["time"].get<std::string>().ends_with("Z")) << line;
  EXPECT_FALSE(line.contains("task"));
}

TEST(JsonFormatter, LiftsTaskRunEventAndTraceTokensIntoFields) {
  auto line = JsonLineOf([](spdlog::logger& l) {
    l.info("task=0192 run=01a2 succeeded (start 1, attempt 1): ok; event=e9, trace=4bf9");
  });
  EXPECT_EQ(line["task"], "0192");
  EXPECT_EQ(line["run"], "01a2");
  EXPECT_EQ(line["event"], "e9");
  EXPECT_EQ(line["trace"], "4bf9");
}

TEST(JsonFormatter, TokenInsideAWordIsNotAField) {
  auto line = JsonLineOf([](spdlog::logger& l) { l.info("subtask=1 rerun=2"); });
  EXPECT_FALSE(line.contains("task")) << line;
  EXPECT_FALSE(line.contains("run")) << line;
}

TEST(JsonFormatter, QuotesAndBytesThatAreNotUtf8StillMakeOneParsableLine) {
  auto line = JsonLineOf([](spdlog::logger& l) { l.error("bad body \"{}\"\n\xff\xfe end", "x"); });
  EXPECT_EQ(line["level"], "error");
  EXPECT_TRUE(line["message"].get<std::string>().starts_with("bad body \"x\"\n")) << line;
}

}  // namespace
}  // namespace conveyor::logging

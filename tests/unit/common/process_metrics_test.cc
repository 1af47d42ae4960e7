#include "conveyor/process_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

namespace conveyor::metrics {
namespace {

// The value of the sample line "<name> <value>" in `exposition`; NaN when there is none.
double SampleValue(const std::string& exposition, const std::string& name) {
  std::size_t at = exposition.find("\n" + name + " ");
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::stod(exposition.substr(at + name.size() + 2));
}

// A stat line whose command name holds spaces and parentheses; utime 250 and stime 150 ticks,
// starttime 9000 ticks, vsize 123 MB, rss 4096 pages.
constexpr const char* kStatLine =
    "4242 (odd (name) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 150 0 0 20 0 9 0 9000 "
    "123000000 4096 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 1 0 0 0 0 0\n";

TEST(ParseProcessStat, ReadsTheFieldsAfterACommandNameWithParentheses) {
  auto stat = ParseProcessStat(kStatLine);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->cpu_ticks, 400);
  EXPECT_EQ(stat->start_ticks_after_boot, 9000);
  EXPECT_EQ(stat->virtual_memory_bytes, 123000000);
  EXPECT_EQ(stat->resident_pages, 4096);
}

TEST(ParseProcessStat, AShortOrGarbledLineIsNotAStat) {
  EXPECT_FALSE(ParseProcessStat("").has_value());
  EXPECT_FALSE(ParseProcessStat("4242 (name) S 1 2 3").has_value());
  std::string garbled = kStatLine;
  garbled.replace(garbled.find(" 250 "), 5, " 2x0 ");
  EXPECT_FALSE(ParseProcessStat(garbled).has_value());
}

TEST(ParseBootTime, ReadsTheBtimeLine) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 99\n"), 1700000000);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\nprocesses 99\n").has_value());
}

TEST(ParseMaxOpenFiles, ReadsTheSoftLimitOrInfinityWhenUnlimited) {
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max processes             63482                63482                processes \n"
      "Max open files            1024                 1048576              files     \n";
  EXPECT_EQ(ParseMaxOpenFiles(limits), 1024);
  EXPECT_EQ(
      ParseMaxOpenFiles("Max open files            unlimited            unlimited     files\n"),
      std::numeric_limits<double>::infinity());
  EXPECT_FALSE(ParseMaxOpenFiles("Max processes 1 1 processes\n").has_value());
}

TEST(RegisterProcessMetrics, ReportsPlausibleValuesForThisProcess) {
  Registry registry;
  RegisterProcessMetrics(registry);
  const std::string exposition = registry.Render();

  EXPECT_GT(SampleValue(exposition, "process_resident_memory_bytes"), 0) << exposition;
  EXPECT_GE(SampleValue(exposition, "process_virtual_memory_bytes"),
            SampleValue(exposition, "process_resident_memory_bytes"));
  EXPECT_GE(SampleValue(exposition, "process_open_fds"), 3);
  EXPECT_GE(SampleValue(exposition, "process_max_fds"),
            SampleValue(exposition, "process_open_fds"));
  EXPECT_GE(SampleValue(exposition, "process_cpu_seconds_total"), 0);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = SampleValue(exposition, "process_start_time_seconds");
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 24 * 3600);
}

TEST(RegisterProcessMetrics, NamesEachFamilyAsTheOfficialClientsDo) {
  Registry registry;
  RegisterProcessMetrics(registry);
  const std::string exposition = registry.Render();
  for (const char* type_line :
       {"# TYPE process_cpu_seconds_total counter\n", "# TYPE process_open_fds gauge\n",
        "# TYPE process_max_fds gauge\n", "# TYPE process_virtual_memory_bytes gauge\n",
        "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_start_time_seconds gauge\n"})
    EXPECT_NE(exposition.find(type_line), std::string::npos) << type_line;
}

}  // namespace
}  // namespace conveyor::metrics

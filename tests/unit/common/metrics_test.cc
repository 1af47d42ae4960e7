#include "conveyor/metrics.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/process_metrics.h"
#include "support/promtool.h"

namespace conveyor::metrics {
namespace {

// Expects `call` to throw std::invalid_argument whose message names `name`.
void ExpectInvalidArgumentNaming(const std::function<void()>& call, const std::string& name) {
  try {
    call();
    ADD_FAILURE() << "no std::invalid_argument for " << name;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(MetricsRegistry, CountersRenderWithHelpTypeAndLabelsSortedByLabelValues) {
  Registry registry;
  auto& requests = registry.AddCounter("conveyor_http_requests_total", "HTTP requests answered.",
                                       {"dialect", "operation", "code"});
  requests.With({"twosms", "create", "200"}).Inc();
  requests.With({"oracle", "get", "404"}).Add(2);
  requests.With({"twosms", "create", "200"}).Inc();
  auto& retries = registry.AddCounter("conveyor_retries_total", "Runs retried.");
  retries.With({}).Add(1.5);

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_http_requests_total HTTP requests answered.\n"
            "# TYPE conveyor_http_requests_total counter\n"
            "conveyor_http_requests_total{dialect=\"oracle\",operation=\"get\",code=\"404\"} 2\n"
            "conveyor_http_requests_total{dialect=\"twosms\",operation=\"create\",code=\"200\"} 2\n"
            "# HELP conveyor_retries_total Runs retried.\n"
            "# TYPE conveyor_retries_total counter\n"
            "conveyor_retries_total 1.5\n");
}

TEST(MetricsRegistry, GaugesGoUpAndDownAndAnUnlabelledOneRendersBeforeItsFirstUpdate) {
  Registry registry;
  auto& in_use = registry.AddGauge("conveyor_pg_connections", "Connections in use.", {"pool"});
  in_use.With({"writes"}).Set(5);
  in_use.With({"writes"}).Dec();
  in_use.With({"reads"}).Inc();
  in_use.With({"reads"}).Add(-3.25);
  registry.AddGauge("conveyor_queue_depth", "Commands waiting.");

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_pg_connections Connections in use.\n"
            "# TYPE conveyor_pg_connections gauge\n"
            "conveyor_pg_connections{pool=\"reads\"} -2.25\n"
            "conveyor_pg_connections{pool=\"writes\"} 4\n"
            "# HELP conveyor_queue_depth Commands waiting.\n"
            "# TYPE conveyor_queue_depth gauge\n"
            "conveyor_queue_depth 0\n");
}

TEST(MetricsRegistry, HistogramsRenderCumulativeBucketsWithInfSumAndCount) {
  Registry registry;
  auto& durations = registry.AddHistogram("conveyor_run_duration_seconds", "Run durations.",
                                          {0.25, 0.5, 1}, {"handler"});
  Histogram& sleep = durations.With({"sleep"});
  for (double seconds : {0.125, 0.25, 0.375, 2.0}) sleep.Observe(seconds);
  durations.With({"noop"}).Observe(0.3);

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_run_duration_seconds Run durations.\n"
            "# TYPE conveyor_run_duration_seconds histogram\n"
            "conveyor_run_duration_seconds_bucket{handler=\"noop\",le=\"0.25\"} 0\n"
            "conveyor_run_duration_seconds_bucket{handler=\"noop\",le=\"0.5\"} 1\n"
            "conveyor_run_duration_seconds_bucket{handler=\"noop\",le=\"1\"} 1\n"
            "conveyor_run_duration_seconds_bucket{handler=\"noop\",le=\"+Inf\"} 1\n"
            "conveyor_run_duration_seconds_sum{handler=\"noop\"} 0.3\n"
            "conveyor_run_duration_seconds_count{handler=\"noop\"} 1\n"
            "conveyor_run_duration_seconds_bucket{handler=\"sleep\",le=\"0.25\"} 2\n"
            "conveyor_run_duration_seconds_bucket{handler=\"sleep\",le=\"0.5\"} 3\n"
            "conveyor_run_duration_seconds_bucket{handler=\"sleep\",le=\"1\"} 3\n"
            "conveyor_run_duration_seconds_bucket{handler=\"sleep\",le=\"+Inf\"} 4\n"
            "conveyor_run_duration_seconds_sum{handler=\"sleep\"} 2.75\n"
            "conveyor_run_duration_seconds_count{handler=\"sleep\"} 4\n");
}

TEST(MetricsRegistry, AnUnlabelledHistogramRendersEmptyBucketsBeforeItsFirstObservation) {
  Registry registry;
  registry.AddHistogram("conveyor_body_bytes", "Body sizes.", {1024});

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_body_bytes Body sizes.\n"
            "# TYPE conveyor_body_bytes histogram\n"
            "conveyor_body_bytes_bucket{le=\"1024\"} 0\n"
            "conveyor_body_bytes_bucket{le=\"+Inf\"} 0\n"
            "conveyor_body_bytes_sum 0\n"
            "conveyor_body_bytes_count 0\n");
}

TEST(MetricsRegistry, ALabelledFamilyWithoutChildrenRendersOnlyHelpAndType) {
  Registry registry;
  registry.AddCounter("conveyor_fires_total", "Fires.", {"schedule_kind"});

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_fires_total Fires.\n"
            "# TYPE conveyor_fires_total counter\n");
}

TEST(MetricsRegistry,
     LabelValuesEscapeBackslashQuoteAndLineFeedAndHelpEscapesBackslashAndLineFeed) {
  Registry registry;
  auto& family =
      registry.AddGauge("conveyor_escapes", "A \\ and \"quotes\"\non two lines.", {"value"});
  family.With({"a\\b \"c\"\nd"}).Set(1);

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_escapes A \\\\ and \"quotes\"\\non two lines.\n"
            "# TYPE conveyor_escapes gauge\n"
            "conveyor_escapes{value=\"a\\\\b \\\"c\\\"\\nd\"} 1\n");
}

TEST(MetricsRegistry, SpecialValuesRenderAsPrometheusSpellsThem) {
  Registry registry;
  auto& family = registry.AddGauge("conveyor_specials", "Specials.", {"which"});
  family.With({"inf"}).Set(std::numeric_limits<double>::infinity());
  family.With({"minus_inf"}).Set(-std::numeric_limits<double>::infinity());
  family.With({"nan"}).Set(std::numeric_limits<double>::quiet_NaN());
  family.With({"small"}).Set(1e-7);
  family.With({"large"}).Set(123456789012.0);

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_specials Specials.\n"
            "# TYPE conveyor_specials gauge\n"
            "conveyor_specials{which=\"inf\"} +Inf\n"
            "conveyor_specials{which=\"large\"} 123456789012\n"
            "conveyor_specials{which=\"minus_inf\"} -Inf\n"
            "conveyor_specials{which=\"nan\"} NaN\n"
            "conveyor_specials{which=\"small\"} 1e-07\n");
}

TEST(MetricsFamily, TheSameLabelValuesGiveTheSameChild) {
  Registry registry;
  auto& counters = registry.AddCounter("conveyor_a_total", "A.", {"x", "y"});
  Counter& first = counters.With({"1", "2"});
  EXPECT_EQ(&counters.With({"1", "2"}), &first);
  EXPECT_NE(&counters.With({"2", "1"}), &first);
  auto& histograms = registry.AddHistogram("conveyor_b_seconds", "B.", {1}, {"x"});
  EXPECT_EQ(&histograms.With({"1"}), &histograms.With({"1"}));
}

TEST(MetricsFamily, AWrongNumberOfLabelValuesThrowsNamingTheMetric) {
  Registry registry;
  auto& counters = registry.AddCounter("conveyor_a_total", "A.", {"x", "y"});
  ExpectInvalidArgumentNaming([&] { counters.With({"1"}); }, "conveyor_a_total");
  auto& gauges = registry.AddGauge("conveyor_b", "B.");
  ExpectInvalidArgumentNaming([&] { gauges.With({"1"}); }, "conveyor_b");
}

TEST(MetricsCounter, ANegativeOrNaNAmountIsIgnored) {
  Registry registry;
  Counter& counter = registry.AddCounter("conveyor_a_total", "A.").With({});
  counter.Add(3);
  counter.Add(-1);
  counter.Add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(counter.Value(), 3);
}

TEST(MetricsCounter, ThreadsIncrementingOneCachedChildEndWithTheExactSum) {
  Registry registry;
  Counter& counter = registry.AddCounter("conveyor_a_total", "A.", {"x"}).With({"1"});
  Gauge& gauge = registry.AddGauge("conveyor_b", "B.").With({});
  Histogram& histogram = registry.AddHistogram("conveyor_c_seconds", "C.", {0.5}).With({});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.Inc();
        counter.Add(2);
        gauge.Add(1);
        histogram.Observe(1);
      }
    });
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(counter.Value(), 3.0 * kThreads * kPerThread);
  EXPECT_EQ(gauge.Value(), 1.0 * kThreads * kPerThread);
  Histogram::Snapshot s = histogram.Read();
  EXPECT_EQ(s.count, std::uint64_t{kThreads * kPerThread});
  EXPECT_EQ(s.cumulative_counts, (std::vector<std::uint64_t>{0, kThreads * kPerThread}));
  EXPECT_EQ(s.sum, 1.0 * kThreads * kPerThread);
}

// Scrapes overlap updates and new children; each render sees some state of every child, and
// the last one, after the updates, sees them all.
TEST(MetricsRegistry, RenderingWhileOtherThreadsUpdateAndAddChildrenSeesTheFinalCounts) {
  Registry registry;
  auto& counters = registry.AddCounter("conveyor_a_total", "A.", {"thread"});
  auto& histograms = registry.AddHistogram("conveyor_b_seconds", "B.", {1}, {"thread"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        counters.With({std::to_string(t)}).Inc();
        histograms.With({std::to_string(t)}).Observe(0.5);
      }
    });
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(registry.Render().empty());
  for (auto& thread : threads) thread.join();

  const std::string exposition = registry.Render();
  for (int t = 0; t < 3; ++t) {
    const std::string labels = "{thread=\"" + std::to_string(t) + "\"}";
    EXPECT_NE(exposition.find("conveyor_a_total" + labels + " 1000\n"), std::string::npos);
    EXPECT_NE(exposition.find("conveyor_b_seconds_count" + labels + " 1000\n"), std::string::npos);
  }
}

TEST(MetricsHistogram, AValueOnABoundCountsInThatBucketAndNaNInInfs) {
  Registry registry;
  Histogram& histogram = registry.AddHistogram("conveyor_a_seconds", "A.", {1, 2}).With({});
  histogram.Observe(1);
  histogram.Observe(2);
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.Read().cumulative_counts, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(MetricsHistogram, ExponentialBucketsMultiplyFromTheStart) {
  EXPECT_EQ(ExponentialBuckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
  EXPECT_EQ(ExponentialBuckets(100, 10, 3), (std::vector<double>{100, 1000, 10000}));
  EXPECT_THROW(ExponentialBuckets(0, 2, 4), std::invalid_argument);
  EXPECT_THROW(ExponentialBuckets(1, 1, 4), std::invalid_argument);
  EXPECT_THROW(ExponentialBuckets(1, 2, 0), std::invalid_argument);
}

TEST(MetricsHistogram, BoundsMustIncreaseAndATrailingInfIsTheImplicitBucket) {
  Registry registry;
  ExpectInvalidArgumentNaming(
      [&] {
        registry.AddHistogram("conveyor_a_seconds", "A.", {1, 1});
      },
      "conveyor_a_seconds");
  ExpectInvalidArgumentNaming(
      [&] {
        registry.AddHistogram("conveyor_b_seconds", "B.", {2, 1});
      },
      "conveyor_b_seconds");
  auto& family = registry.AddHistogram("conveyor_c_seconds", "C.",
                                       {1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(family.upper_bounds(), (std::vector<double>{1}));
}

TEST(MetricsRegistry, InvalidMetricNamesThrowNamingTheName) {
  Registry registry;
  for (std::string name : {"", "1st_metric", "with-dash", "with space", "ünïcode"})
    ExpectInvalidArgumentNaming([&] { registry.AddGauge(name, "H."); }, "\"" + name + "\"");
  registry.AddGauge("colons:are_allowed", "H.");
}

TEST(MetricsRegistry, InvalidLabelNamesThrowNamingTheLabel) {
  Registry registry;
  for (std::string label : {"", "__reserved", "9lives", "with-dash", "a:b"})
    ExpectInvalidArgumentNaming([&] { registry.AddGauge("conveyor_a", "H.", {label}); },
                                "\"" + label + "\"");
  ExpectInvalidArgumentNaming([&] { registry.AddGauge("conveyor_b", "H.", {"x", "x"}); }, "\"x\"");
  ExpectInvalidArgumentNaming([&] { registry.AddHistogram("conveyor_c", "H.", {1}, {"le"}); },
                              "conveyor_c");
}

TEST(MetricsRegistry, ACounterNameWithoutTotalThrows) {
  Registry registry;
  ExpectInvalidArgumentNaming([&] { registry.AddCounter("conveyor_requests", "H."); },
                              "conveyor_requests");
  ExpectInvalidArgumentNaming([&] { registry.AddCallbackCounter("conveyor_cpu_seconds", "H."); },
                              "conveyor_cpu_seconds");
}

TEST(MetricsRegistry, ANameInUseThrowsIncludingAHistogramsSampleNames) {
  Registry registry;
  registry.AddGauge("conveyor_a", "A.");
  ExpectInvalidArgumentNaming([&] { registry.AddCallbackGauge("conveyor_a", "A."); }, "conveyor_a");
  registry.AddHistogram("conveyor_b_seconds", "B.", {1});
  ExpectInvalidArgumentNaming([&] { registry.AddGauge("conveyor_b_seconds_count", "C."); },
                              "conveyor_b_seconds_count");
  registry.AddGauge("conveyor_c_sum", "C.");
  ExpectInvalidArgumentNaming([&] { registry.AddHistogram("conveyor_c", "C.", {1}); },
                              "conveyor_c_sum");
}

TEST(MetricsCallbackFamily, ValuesAreReadWhenRendered) {
  Registry registry;
  double depth = 3;
  registry.AddCallbackGauge("conveyor_queue_depth", "Waiting.", {"queue"}).Add({"commands"}, [&] {
    return depth;
  });
  registry.AddCallbackCounter("conveyor_polls_total", "Polls.").Add({}, [] { return 7.0; });
  depth = 4;

  EXPECT_EQ(registry.Render(),
            "# HELP conveyor_queue_depth Waiting.\n"
            "# TYPE conveyor_queue_depth gauge\n"
            "conveyor_queue_depth{queue=\"commands\"} 4\n"
            "# HELP conveyor_polls_total Polls.\n"
            "# TYPE conveyor_polls_total counter\n"
            "conveyor_polls_total 7\n");
}

TEST(MetricsCallbackFamily, ACallbackThatThrowsRendersNaN) {
  Registry registry;
  registry.AddCallbackGauge("conveyor_a", "A.").Add({}, []() -> double {
    throw std::runtime_error("gone");
  });
  EXPECT_NE(registry.Render().find("\nconveyor_a NaN\n"), std::string::npos);
}

TEST(MetricsCallbackFamily, ASecondCallbackForTheSameLabelsThrows) {
  Registry registry;
  auto& family = registry.AddCallbackGauge("conveyor_a", "A.", {"pool"});
  family.Add({"reads"}, [] { return 1.0; });
  ExpectInvalidArgumentNaming([&] { family.Add({"reads"}, [] { return 2.0; }); }, "conveyor_a");
  ExpectInvalidArgumentNaming([&] { family.Add({}, [] { return 2.0; }); }, "conveyor_a");
}

// --- Prometheus' own linter -----------------------------------------------------------------

Registry& EveryKindOfMetric(Registry& registry) {
  auto& requests = registry.AddCounter("conveyor_http_requests_total", "HTTP requests answered.",
                                       {"dialect", "operation", "code"});
  requests.With({"twosms", "create", "200"}).Inc();
  requests.With({"superoffice", "say \"hi\"\\\n", "500"}).Add(0.5);
  registry.AddGauge("conveyor_runs_in_flight", "Runs started and not final.").With({}).Set(3);
  auto& durations =
      registry.AddHistogram("conveyor_run_duration_seconds", "Run durations, in seconds.",
                            ExponentialBuckets(0.001, 4, 8), {"handler"});
  durations.With({"sleep"}).Observe(0.02);
  durations.With({"exec"}).Observe(12);
  registry.AddCallbackGauge("conveyor_pg_pool_connections", "Connections of a pool.", {"state"})
      .Add({"in_use"}, [] { return 2.0; });
  registry.AddCallbackCounter("conveyor_kafka_polls_total", "Consumer polls.").Add({}, [] {
    return 42.0;
  });
  RegisterProcessMetrics(registry);
  return registry;
}

TEST(MetricsExposition, PromtoolCheckMetricsFindsNoProblemWithEveryKindOfMetric) {
  ASSERT_TRUE(testing::PromtoolFound())
      << "promtool not found (" << CONVEYOR_PROMTOOL
      << "): scripts/install-deps installs it (Debian's package prometheus); then configure again";
  Registry registry;
  const std::string exposition = EveryKindOfMetric(registry).Render();

  testing::PromtoolOutcome outcome = testing::CheckMetricsWithPromtool(exposition);

  EXPECT_EQ(outcome.exit_status, 0) << outcome.output;
  EXPECT_EQ(outcome.output, "") << exposition;
}

TEST(MetricsExposition, PromtoolCheckMetricsReportsACounterWithoutHelp) {
  ASSERT_TRUE(testing::PromtoolFound()) << "promtool not found: " << CONVEYOR_PROMTOOL;
  Registry registry;
  registry.AddCounter("conveyor_silent_total", "");

  testing::PromtoolOutcome outcome = testing::CheckMetricsWithPromtool(registry.Render());

  EXPECT_NE(outcome.exit_status, 0);
  EXPECT_NE(outcome.output.find("conveyor_silent_total"), std::string::npos) << outcome.output;
}

}  // namespace
}  // namespace conveyor::metrics

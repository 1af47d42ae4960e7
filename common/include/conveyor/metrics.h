// Prometheus metrics: a Registry of metric families, rendered for a scrape in the text
// exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// A Registry owns its families — counters, gauges, histograms, and callback families whose
// values are read when the registry is rendered — and every family owns its children, one
// time series per set of label values. Families are registered once, at start-up; the
// references that registration and With() return stay valid as long as the Registry, so a
// caller looks a child up once and keeps the reference for its hot path.
//
// Names are checked when a family is registered: a metric or label name that breaks
// Prometheus' rules, a counter whose name does not end in `_total`, or a name registered twice
// is a programming error and throws std::invalid_argument naming it. Put the unit in the name,
// in base units (`_seconds`, `_bytes`), as Prometheus' naming conventions ask.
//
// Label values must come from a small set the caller bounds: dialect, operation, status code,
// handler name. Every distinct set of values is a time series that lives as long as this
// process, and in Prometheus; task ids, event ids, client ids, URLs or error messages as label
// values would grow both without limit.
//
// Thread safety: everything here may be used from any thread. Inc, Add, Set and Observe on a
// child are lock-free (relaxed atomics); With(), callback registration and Render() take a
// mutex. Performance: a cached Counter::Inc is one relaxed atomic add on a 64-bit integer,
// a few nanoseconds when uncontended (more when many cores hit the same child at once);
// Counter::Add, the Gauge updates and Histogram::Observe add a double with a compare-and-swap
// loop, which costs about the same without contention. Looking a child up with With() takes a
// mutex and a map search, so do it once, not per event.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conveyor::metrics {

// One value per label name of the family, in the order the names were registered.
using LabelValues = std::vector<std::string>;

// A monotonically increasing count (requests served, bytes sent).
class Counter {
 public:
  void Inc() { whole_.fetch_add(1, std::memory_order_relaxed); }
  // `amount` must be >= 0; a negative or NaN amount would break the counter's contract with
  // Prometheus and is ignored.
  void Add(double amount);
  double Value() const;

 private:
  std::atomic<std::uint64_t> whole_{0};          // what Inc() counted
  std::atomic<std::uint64_t> fraction_bits_{0};  // what Add() added: a double, bit for bit
};

// A value that goes up and down (queue depth, connections open).
class Gauge {
 public:
  void Set(double value);
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  void Add(double amount);
  double Value() const;

 private:
  std::atomic<std::uint64_t> bits_{0};  // a double, bit for bit
};

// Observations counted into buckets (request durations, body sizes), with their sum.
// Made by HistogramFamily::With; `upper_bounds` (sorted, without +Inf) must outlive it.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& upper_bounds);

  // Counts `value` in the first bucket whose upper bound is >= value (NaN: in +Inf's).
  void Observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative_counts;  // one per upper bound, then +Inf's
    double sum = 0;
    std::uint64_t count = 0;  // the +Inf bucket's count
  };
  // Read while others observe, the sum may already include an observation the counts do not
  // (or the other way round); the counts are always consistent with one another.
  Snapshot Read() const;

 private:
  const std::vector<double>& upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;  // not cumulative; +Inf's last
  std::atomic<std::uint64_t> sum_bits_{0};                       // a double, bit for bit
};

// `count` upper bounds: start, start*factor, start*factor^2, ...; for HistogramFamily.
// Throws std::invalid_argument unless start > 0, factor > 1 and count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

namespace internal {

// A family's children by label values, created on first lookup and kept for the family's life.
// Sorted by label values, which is the order of the samples in the exposition.
template <typename Child>
class Children {
 public:
  template <typename... Args>
  Child& FindOrCreate(const LabelValues& label_values, const Args&... child_args) {
    std::lock_guard lock(mu_);
    return children_.try_emplace(label_values, child_args...).first->second;
  }

  template <typename Visit>
  void ForEach(Visit visit) const {
    std::lock_guard lock(mu_);
    for (const auto& [label_values, child] : children_) visit(label_values, child);
  }

 private:
  mutable std::mutex mu_;
  std::map<LabelValues, Child> children_;
};

}  // namespace internal

// What every family has: a name, a help text, a type and a fixed list of label names.
// Families are made by a Registry, which owns them.
class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  // Throws std::invalid_argument for an invalid metric or label name.
  Family(std::string name, std::string help, std::vector<std::string> label_names);

  // Throws std::invalid_argument unless there is one value per label name.
  void CheckLabelValues(const LabelValues& label_values) const;

 private:
  friend class Registry;
  virtual std::string_view type() const = 0;
  // Appends the family's sample lines (the Registry writes # HELP and # TYPE).
  virtual void AppendSamples(std::string& out) const = 0;
  // The sample names the family writes besides its own name (a histogram's _bucket, ...).
  virtual std::vector<std::string> ExtraSampleNames() const { return {}; }

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

class CounterFamily final : public Family {
 public:
  // The child for these label values, created at zero on first lookup.
  // Throws std::invalid_argument unless there is one value per label name.
  Counter& With(const LabelValues& label_values);

 private:
  friend class Registry;
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  std::string_view type() const override { return "counter"; }
  void AppendSamples(std::string& out) const override;

  internal::Children<Counter> children_;
};

class GaugeFamily final : public Family {
 public:
  // The child for these label values, created at zero on first lookup.
  // Throws std::invalid_argument unless there is one value per label name.
  Gauge& With(const LabelValues& label_values);

 private:
  friend class Registry;
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);
  std::string_view type() const override { return "gauge"; }
  void AppendSamples(std::string& out) const override;

  internal::Children<Gauge> children_;
};

class HistogramFamily final : public Family {
 public:
  // The child for these label values, created empty on first lookup.
  // Throws std::invalid_argument unless there is one value per label name.
  Histogram& With(const LabelValues& label_values);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  friend class Registry;
  HistogramFamily(std::string name, std::string help, std::vector<double> upper_bounds,
                  std::vector<std::string> label_names);
  std::string_view type() const override { return "histogram"; }
  void AppendSamples(std::string& out) const override;
  std::vector<std::string> ExtraSampleNames() const override;

  std::vector<double> upper_bounds_;
  internal::Children<Histogram> children_;
};

// A counter or gauge family whose values are read at scrape time: one callback per set of
// label values (queue depth, connections in use, resident memory). Render() calls each
// callback on the scraping thread with the family's mutex held, so a callback must be safe to
// call from that thread and must not use the Registry; one that throws renders as NaN.
class CallbackFamily final : public Family {
 public:
  // Throws std::invalid_argument unless there is one value per label name, or when these
  // label values have a callback already.
  void Add(const LabelValues& label_values, std::function<double()> read);

 private:
  friend class Registry;
  CallbackFamily(std::string name, std::string help, std::vector<std::string> label_names,
                 std::string_view type);
  std::string_view type() const override { return type_; }
  void AppendSamples(std::string& out) const override;

  std::string_view type_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::function<double()>> callbacks_;
};

class Registry {
 public:
  // What an HTTP answer carrying Render()'s text says it is.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each throws std::invalid_argument for an invalid name, a name in use, or a counter name
  // without the `_total` suffix. A family without label names starts with its one child (at
  // zero), so it is rendered before its first update.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  // `upper_bounds` must be increasing (a last +Inf may be given; the +Inf bucket is always
  // there); `le` may not be a label name.
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<double> upper_bounds,
                                std::vector<std::string> label_names = {});
  CallbackFamily& AddCallbackCounter(std::string name, std::string help,
                                     std::vector<std::string> label_names = {});
  CallbackFamily& AddCallbackGauge(std::string name, std::string help,
                                   std::vector<std::string> label_names = {});

  // Every family in the order registered: # HELP, # TYPE, then its samples sorted by label
  // values. A labelled family none of whose children was looked up yet has no samples.
  std::string Render() const;

 private:
  template <typename F>
  F& Adopt(std::unique_ptr<F> family);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
  std::set<std::string> sample_names_;  // every name a family writes, to refuse clashes
};

}  // namespace conveyor::metrics

#include "conveyor/metrics.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace conveyor::metrics {
namespace {

double FromBits(std::uint64_t bits) { return std::bit_cast<double>(bits); }
std::uint64_t ToBits(double value) { return std::bit_cast<std::uint64_t>(value); }

double LoadDouble(const std::atomic<std::uint64_t>& bits) {
  return FromBits(bits.load(std::memory_order_relaxed));
}

// A lock-free `+=` on a double kept as its bits.
void AddToDouble(std::atomic<std::uint64_t>& bits, double amount) {
  std::uint64_t seen = bits.load(std::memory_order_relaxed);
  while (!bits.compare_exchange_weak(seen, ToBits(FromBits(seen) + amount),
                                     std::memory_order_relaxed)) {
  }
}

// --- Names (https://prometheus.io/docs/concepts/data_model/) -----------------------------

bool IsLetterOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name) {
  if (name.empty() || IsDigit(name.front())) return false;
  return std::ranges::all_of(
      name, [](char c) { return IsLetterOrUnderscore(c) || IsDigit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are Prometheus' own.
bool IsValidLabelName(std::string_view name) {
  if (name.empty() || IsDigit(name.front()) || name.starts_with("__")) return false;
  return std::ranges::all_of(name, [](char c) { return IsLetterOrUnderscore(c) || IsDigit(c); });
}

void CheckNames(const std::string& name, const std::vector<std::string>& label_names) {
  if (!IsValidMetricName(name)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!IsValidLabelName(label))
      throw std::invalid_argument("invalid label name \"" + label + "\" of metric " + name);
    if (std::find(label_names.begin() + static_cast<std::ptrdiff_t>(i) + 1, label_names.end(),
                  label) != label_names.end())
      throw std::invalid_argument("label name \"" + label + "\" given twice for metric " + name);
  }
}

void CheckCounterName(const std::string& name) {
  if (!name.ends_with("_total") || name == "_total")
    throw std::invalid_argument("counter name \"" + name + "\" does not end in _total");
}

// Increasing and without NaN; a last +Inf is dropped (the +Inf bucket is always there).
std::vector<double> CheckedUpperBounds(const std::string& name, std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity())
    bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i])))
      throw std::invalid_argument("bucket upper bounds of histogram " + name +
                                  " are not increasing");
  }
  return bounds;
}

// --- The text format's pieces -------------------------------------------------------------

// A sample value or an `le` bound: the shortest text that reads back as the same double.
void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
  }
}

// Help text escapes `\` and line feeds.
void AppendEscapedHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// Label values escape `\`, `"` and line feeds.
void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// `{a="x",b="y"}`, with `le="..."` last when `le` is given; nothing without labels.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const LabelValues& values, const double* le = nullptr) {
  if (names.empty() && le == nullptr) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscapedLabelValue(out, values[i]);
    out += '"';
  }
  if (le != nullptr) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    AppendNumber(out, *le);
    out += '"';
  }
  out += '}';
}

void AppendSample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const LabelValues& values, double value, const double* le = nullptr) {
  out += name;
  AppendLabels(out, names, values, le);
  out += ' ';
  AppendNumber(out, value);
  out += '\n';
}

}  // namespace

// --- Children -----------------------------------------------------------------------------

void Counter::Add(double amount) {
  if (!(amount >= 0)) return;
  AddToDouble(fraction_bits_, amount);
}

double Counter::Value() const {
  return static_cast<double>(whole_.load(std::memory_order_relaxed)) + LoadDouble(fraction_bits_);
}

void Gauge::Set(double value) { bits_.store(ToBits(value), std::memory_order_relaxed); }

void Gauge::Add(double amount) { AddToDouble(bits_, amount); }

double Gauge::Value() const { return LoadDouble(bits_); }

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : upper_bounds_(upper_bounds),
      bucket_counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {}

void Histogram::Observe(double value) {
  std::size_t bucket = upper_bounds_.size();
  if (!std::isnan(value))
    bucket = static_cast<std::size_t>(
        std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
        upper_bounds_.begin());
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  AddToDouble(sum_bits_, value);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative_counts.reserve(upper_bounds_.size() + 1);
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    s.count += bucket_counts_[i].load(std::memory_order_relaxed);
    s.cumulative_counts.push_back(s.count);
  }
  s.sum = LoadDouble(sum_bits_);
  return s;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1)
    throw std::invalid_argument("exponential buckets need start > 0, factor > 1, count >= 1");
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  for (double bound = start; static_cast<int>(bounds.size()) < count; bound *= factor)
    bounds.push_back(bound);
  return bounds;
}

// --- Families -----------------------------------------------------------------------------

Family::Family(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  CheckNames(name_, label_names_);
}

void Family::CheckLabelValues(const LabelValues& label_values) const {
  if (label_values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + " has " + std::to_string(label_names_.size()) +
                                " label names, given " + std::to_string(label_values.size()) +
                                " values");
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)) {
  CheckCounterName(this->name());
  if (this->label_names().empty()) With({});
}

Counter& CounterFamily::With(const LabelValues& label_values) {
  CheckLabelValues(label_values);
  return children_.FindOrCreate(label_values);
}

void CounterFamily::AppendSamples(std::string& out) const {
  children_.ForEach([&](const LabelValues& values, const Counter& counter) {
    AppendSample(out, name(), label_names(), values, counter.Value());
  });
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)) {
  if (this->label_names().empty()) With({});
}

Gauge& GaugeFamily::With(const LabelValues& label_values) {
  CheckLabelValues(label_values);
  return children_.FindOrCreate(label_values);
}

void GaugeFamily::AppendSamples(std::string& out) const {
  children_.ForEach([&](const LabelValues& values, const Gauge& gauge) {
    AppendSample(out, name(), label_names(), values, gauge.Value());
  });
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<double> upper_bounds,
                                 std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names)),
      upper_bounds_(CheckedUpperBounds(this->name(), std::move(upper_bounds))) {
  if (std::ranges::find(this->label_names(), "le") != this->label_names().end())
    throw std::invalid_argument("histogram " + this->name() + " may not have a label named le");
  if (this->label_names().empty()) With({});
}

Histogram& HistogramFamily::With(const LabelValues& label_values) {
  CheckLabelValues(label_values);
  return children_.FindOrCreate(label_values, upper_bounds_);
}

std::vector<std::string> HistogramFamily::ExtraSampleNames() const {
  return {name() + "_bucket", name() + "_sum", name() + "_count"};
}

void HistogramFamily::AppendSamples(std::string& out) const {
  const std::string bucket_name = name() + "_bucket";
  const double infinity = std::numeric_limits<double>::infinity();
  children_.ForEach([&](const LabelValues& values, const Histogram& histogram) {
    Histogram::Snapshot s = histogram.Read();
    for (std::size_t i = 0; i < upper_bounds_.size(); ++i)
      AppendSample(out, bucket_name, label_names(), values,
                   static_cast<double>(s.cumulative_counts[i]), &upper_bounds_[i]);
    AppendSample(out, bucket_name, label_names(), values, static_cast<double>(s.count), &infinity);
    AppendSample(out, name() + "_sum", label_names(), values, s.sum);
    AppendSample(out, name() + "_count", label_names(), values, static_cast<double>(s.count));
  });
}

CallbackFamily::CallbackFamily(std::string name, std::string help,
                               std::vector<std::string> label_names, std::string_view type)
    : Family(std::move(name), std::move(help), std::move(label_names)), type_(type) {
  if (type_ == "counter") CheckCounterName(this->name());
}

void CallbackFamily::Add(const LabelValues& label_values, std::function<double()> read) {
  CheckLabelValues(label_values);
  std::lock_guard lock(mu_);
  if (!callbacks_.try_emplace(label_values, std::move(read)).second)
    throw std::invalid_argument("metric " + name() + " has a callback for these labels already");
}

void CallbackFamily::AppendSamples(std::string& out) const {
  std::lock_guard lock(mu_);
  for (const auto& [values, read] : callbacks_) {
    double value = std::numeric_limits<double>::quiet_NaN();
    try {
      value = read();
    } catch (...) {  // a scrape must not fail for one value; NaN says it could not be read
    }
    AppendSample(out, name(), label_names(), values, value);
  }
}

// --- Registry -----------------------------------------------------------------------------

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename F>
F& Registry::Adopt(std::unique_ptr<F> family) {
  std::vector<std::string> names = family->ExtraSampleNames();
  names.push_back(family->name());
  std::lock_guard lock(mu_);
  for (const auto& n : names)
    if (sample_names_.contains(n))
      throw std::invalid_argument("metric name " + n + " is registered already");
  sample_names_.insert(names.begin(), names.end());
  F& adopted = *family;
  families_.push_back(std::move(family));
  return adopted;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  return Adopt(std::unique_ptr<CounterFamily>(
      new CounterFamily(std::move(name), std::move(help), std::move(label_names))));
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names) {
  return Adopt(std::unique_ptr<GaugeFamily>(
      new GaugeFamily(std::move(name), std::move(help), std::move(label_names))));
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<double> upper_bounds,
                                        std::vector<std::string> label_names) {
  return Adopt(std::unique_ptr<HistogramFamily>(new HistogramFamily(
      std::move(name), std::move(help), std::move(upper_bounds), std::move(label_names))));
}

CallbackFamily& Registry::AddCallbackCounter(std::string name, std::string help,
                                             std::vector<std::string> label_names) {
  return Adopt(std::unique_ptr<CallbackFamily>(
      new CallbackFamily(std::move(name), std::move(help), std::move(label_names), "counter")));
}

CallbackFamily& Registry::AddCallbackGauge(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  return Adopt(std::unique_ptr<CallbackFamily>(
      new CallbackFamily(std::move(name), std::move(help), std::move(label_names), "gauge")));
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& family : families_) {
    out += "# HELP ";
    out += family->name();
    out += ' ';
    AppendEscapedHelp(out, family->help_);
    out += "\n# TYPE ";
    out += family->name();
    out += ' ';
    out += family->type();
    out += '\n';
    family->AppendSamples(out);
  }
  return out;
}

}  // namespace conveyor::metrics

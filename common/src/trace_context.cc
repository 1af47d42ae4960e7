#include "conveyor/trace_context.h"

#include <openssl/rand.h>

#include <algorithm>

namespace conveyor {
namespace {

thread_local const TraceContext* g_current = nullptr;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool AllZeros(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

std::string RandomHex(std::size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  unsigned char raw[16] = {};
  std::string out;
  do {
    RAND_bytes(raw, static_cast<int>(bytes));
    out.clear();
    for (std::size_t i = 0; i < bytes; ++i) {
      out += kDigits[raw[i] >> 4];
      out += kDigits[raw[i] & 0xf];
    }
  } while (AllZeros(out));
  return out;
}

}  // namespace

std::string TraceContext::ToTraceparent() const {
  return "00-" + trace_id + "-" + parent_id + "-" + flags;
}

std::optional<TraceContext> ParseTraceparent(std::string_view h) {
  // version 00 is 55 characters; a later version may append fields after a '-'.
  if (h.size() < 55 || (h.size() > 55 && h[55] != '-')) return std::nullopt;
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  auto version = h.substr(0, 2), trace = h.substr(3, 32), parent = h.substr(36, 16),
       flags = h.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || (version == "00" && h.size() != 55))
    return std::nullopt;
  if (!IsLowerHex(trace) || !IsLowerHex(parent) || !IsLowerHex(flags)) return std::nullopt;
  if (AllZeros(trace) || AllZeros(parent)) return std::nullopt;
  return TraceContext{std::string(trace), std::string(parent), std::string(flags)};
}

TraceContext NewTrace() { return {RandomHex(16), RandomHex(8), "01"}; }

TraceContext NextHop(const TraceContext& received) {
  return {received.trace_id, RandomHex(8), received.flags};
}

std::string_view TraceIdOf(std::string_view traceparent) {
  return traceparent.size() >= 35 ? traceparent.substr(3, 32) : std::string_view();
}

const TraceContext* CurrentTrace() { return g_current; }

ScopedTrace::ScopedTrace(TraceContext trace) : trace_(std::move(trace)), previous_(g_current) {
  g_current = &trace_;
}

ScopedTrace::~ScopedTrace() { g_current = previous_; }

}  // namespace conveyor

// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` that follows one
// request through Conveyor — from the HTTP request into its command event (the CloudEvents
// distributed-tracing extension attribute `traceparent`), the run it makes, the run's
// notification event and every log line about them (as trace=<trace id>).
//
// A traceparent is "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>", lower case, neither
// id all zeros. Conveyor keeps the trace id of what it receives and names itself as the parent
// of what it sends (a span id of its own), as a tracing system expects of a hop.
//
// ScopedTrace makes a trace the current one of the calling thread for its lifetime (the
// producer sets it around each request's handler); CurrentTrace reads it. Values only; every
// function is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace conveyor {

struct TraceContext {
  std::string trace_id;   // 32 lower-case hex digits
  std::string parent_id;  // 16 lower-case hex digits
  std::string flags = "01";

  std::string ToTraceparent() const;  // "00-<trace id>-<parent id>-<flags>"
};

// The context a traceparent header names; std::nullopt when it is not a valid one (a caller
// then starts a new trace rather than refusing the request).
std::optional<TraceContext> ParseTraceparent(std::string_view header);

// A new trace: random trace and parent ids, sampled.
TraceContext NewTrace();

// The same trace with a new parent id: what a hop sends on.
TraceContext NextHop(const TraceContext& received);

// The trace id of a traceparent ("" when it is too short to hold one): what log lines carry as
// trace=<id>.
std::string_view TraceIdOf(std::string_view traceparent);

// The calling thread's current trace, or nullptr outside any ScopedTrace.
const TraceContext* CurrentTrace();

class ScopedTrace {
 public:
  explicit ScopedTrace(TraceContext trace);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

 private:
  TraceContext trace_;
  const TraceContext* previous_;
};

}  // namespace conveyor

#include "handlers.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "conveyor/json_text.h"

namespace conveyor {

std::string_view CancelReasonName(CancelReason r) {
  switch (r) {
    case CancelReason::kNone:
      return "none";
    case CancelReason::kStopRequested:
      return "stop requested";
    case CancelReason::kTimedOut:
      return "timed out";
    case CancelReason::kShutdown:
      return "worker shutting down";
  }
  return "unknown";
}

void CancellationToken::Cancel(CancelReason reason) {
  {
    std::lock_guard lock(mu_);
    auto expected = CancelReason::kNone;
    reason_.compare_exchange_strong(expected, reason);
  }
  cv_.notify_all();
}

bool CancellationToken::WaitFor(std::chrono::steady_clock::duration d) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return cancelled(); });
}

HandlerResult SleepHandler::Run(const HandlerContext& context) {
  double seconds = 1;
  int steps = 10;
  auto parsed = ParseJson(context.task.parameters, "");
  nlohmann::json p = parsed ? std::move(*parsed) : nlohmann::json();
  if (p.is_object()) {
    if (p.contains("seconds") && p["seconds"].is_number()) seconds = p["seconds"].get<double>();
    if (p.contains("steps") && p["steps"].is_number_integer()) steps = p["steps"].get<int>();
  }
  if (seconds < 0 || seconds > 7 * 24 * 3600)
    return std::unexpected(HandlerFailure{"sleep: seconds must be within 0..604800", false, {}});
  steps = std::clamp(steps, 1, 10000);
  auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds / steps));
  for (int i = 1; i <= steps; ++i) {
    if (context.cancel.WaitFor(step))
      return std::unexpected(HandlerFailure{
          "sleep: stopped at step " + std::to_string(i) + " of " + std::to_string(steps) + " (" +
              std::string(CancelReasonName(context.cancel.reason())) + ")",
          false,
          {}});
    context.progress.Report(i * 100 / steps,
                            "step " + std::to_string(i) + " of " + std::to_string(steps));
  }
  return HandlerOutput{fmt::format("slept {:g} s", seconds), {}, {}};
}

HandlerRegistry HandlerRegistry::WithBuiltins() {
  HandlerRegistry r;
  r.Register("noop", std::make_shared<NoopHandler>());
  r.Register("sleep", std::make_shared<SleepHandler>());
  return r;
}

void HandlerRegistry::Register(std::string name, std::shared_ptr<Handler> handler) {
  handlers_[std::move(name)] = std::move(handler);
}

Handler* HandlerRegistry::Find(const std::string& name) const {
  auto it = handlers_.find(name);
  return it == handlers_.end() ? nullptr : it->second.get();
}

}  // namespace conveyor

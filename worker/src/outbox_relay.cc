#include "outbox_relay.h"

#include "conveyor/logging.h"

namespace conveyor {

OutboxRelay::OutboxRelay(OutboxRelaySettings settings, OutboxStore& store,
                         EventPublisher& publisher, const MonotonicClock& clock)
    : settings_(settings), store_(store), publisher_(publisher), clock_(clock) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void OutboxRelay::Loop() {
  auto log = logging::Get("relay");
  auto last_cleanup = clock_.Now();
  std::chrono::milliseconds backoff = settings_.idle_poll;
  while (true) {
    auto relayed = RelayOnce();
    if (!relayed) {
      log->warn("{}", relayed.error().Describe());
      backoff = std::min(backoff * 2, settings_.max_backoff);
    } else {
      backoff = settings_.idle_poll;
    }
    if (clock_.Now() - last_cleanup > settings_.cleanup_interval) {
      last_cleanup = clock_.Now();
      if (auto s = store_.DeleteSentBefore(settings_.keep_sent); !s)
        log->warn("{}", s.error().message);
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    // A full batch means more is waiting: go again at once.
    if (relayed && *relayed == settings_.batch_size) continue;
    clock_.WaitFor(wake_, lock, backoff, [this] { return woken_ || stopping_; });
    woken_ = false;
    if (stopping_) return;
  }
}

Result<std::size_t> OutboxRelay::RelayOnce() {
  std::size_t sent_count = 0;
  std::string first_error;
  auto claimed = store_.ClaimUnsent(settings_.batch_size, [&](const std::vector<OutboxRow>& rows) {
    // Published together (the publisher keeps them in flight at once), in id order.
    std::vector<OutgoingMessage> messages;
    messages.reserve(rows.size());
    for (const auto& r : rows) messages.push_back(r.message);
    auto deliveries = publisher_.PublishAll(messages);
    std::vector<std::int64_t> sent;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (deliveries[i])
        sent.push_back(rows[i].id);
      else if (first_error.empty())
        first_error = deliveries[i].error().message;
    }
    sent_count = sent.size();
    return sent;
  });
  if (!claimed) return std::unexpected(claimed.error());
  if (!first_error.empty())
    return Fail(ErrorCode::kUnavailable, "relaying notifications: " + first_error);
  return sent_count;
}

}  // namespace conveyor

#include "outbox_relay.h"

#include "conveyor/logging.h"

namespace conveyor {

OutboxRelay::OutboxRelay(OutboxRelaySettings settings, PgPool& pool, KafkaProducer& producer)
    : settings_(settings), pool_(pool), producer_(producer) {}

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
  auto last_cleanup = std::chrono::steady_clock::now();
  std::chrono::milliseconds backoff = settings_.idle_poll;
  while (true) {
    auto relayed = RelayOnce();
    if (!relayed) {
      log->warn("{}", relayed.error().Describe());
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    } else {
      backoff = settings_.idle_poll;
    }
    if (std::chrono::steady_clock::now() - last_cleanup > std::chrono::minutes(1)) {
      last_cleanup = std::chrono::steady_clock::now();
      if (auto lease = pool_.Acquire()) {
        try {
          pqxx::nontransaction tx(**lease);
          tx.exec_params("DELETE FROM outbox WHERE sent_at < now() - $1::interval",
                         std::to_string(settings_.keep_sent.count()) + " seconds");
        } catch (const std::exception& e) {
          log->warn("{}", PgError(e, "cleaning the outbox").message);
        }
      }
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    // A full batch means more is waiting: go again at once.
    if (relayed && *relayed == settings_.batch_size) continue;
    wake_.wait_for(lock, backoff, [this] { return woken_ || stopping_; });
    woken_ = false;
    if (stopping_) return;
  }
}

Result<std::size_t> OutboxRelay::RelayOnce() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        R"(SELECT id, topic, key, payload FROM outbox WHERE sent_at IS NULL
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)",
        static_cast<long long>(settings_.batch_size));
    if (rows.empty()) return std::size_t{0};

    // Publish the whole batch, then wait for every acknowledgement.
    struct Pending {
      std::mutex mutex;
      std::condition_variable done;
      std::size_t outstanding = 0;
      std::vector<long long> sent;
      std::string first_error;
    };
    auto pending = std::make_shared<Pending>();
    for (const auto& row : rows) {
      long long id = row[0].as<long long>();
      OutgoingMessage m{row[1].c_str(), row[2].c_str(), row[3].c_str(), {}};
      {
        std::lock_guard lock(pending->mutex);
        ++pending->outstanding;
      }
      auto queued = producer_.PublishAsync(m, [pending, id](const Result<Delivery>& s) {
        std::lock_guard lock(pending->mutex);
        if (s)
          pending->sent.push_back(id);
        else if (pending->first_error.empty())
          pending->first_error = s.error().message;
        if (--pending->outstanding == 0) pending->done.notify_all();
      });
      if (!queued) {
        std::lock_guard lock(pending->mutex);
        --pending->outstanding;
        if (pending->first_error.empty()) pending->first_error = queued.error().message;
        break;
      }
    }
    std::vector<long long> sent;
    std::string error;
    {
      std::unique_lock lock(pending->mutex);
      pending->done.wait(lock, [&] { return pending->outstanding == 0; });
      sent = pending->sent;
      error = pending->first_error;
    }
    if (!sent.empty()) {
      std::string ids = "{";
      for (std::size_t i = 0; i < sent.size(); ++i) ids += (i ? "," : "") + std::to_string(sent[i]);
      ids += "}";
      tx.exec_params("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", ids);
    }
    tx.commit();
    if (!error.empty()) return Fail(ErrorCode::kUnavailable, "relaying notifications: " + error);
    return sent.size();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "relaying the outbox"));
  }
}

}  // namespace conveyor

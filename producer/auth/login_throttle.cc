#include "auth/login_throttle.h"

#include <algorithm>
#include <cmath>

namespace conveyor {

LoginThrottle::LoginThrottle(const Clock& clock, LoginThrottleSettings settings)
    : clock_(clock), settings_(settings) {}

double LoginThrottle::LevelNow(Bucket& bucket, double limit, Timestamp now) const {
  std::chrono::duration<double> since = now - bucket.at;
  double drained = since.count() * limit / static_cast<double>(settings_.window.count());
  bucket.level = std::max(0.0, bucket.level - std::max(0.0, drained));
  bucket.at = now;
  return bucket.level;
}

std::chrono::seconds LoginThrottle::WaitUntilBelow(double level, double limit) const {
  double per_second = limit / static_cast<double>(settings_.window.count());
  return std::chrono::seconds(
      std::max<long long>(1, static_cast<long long>(std::ceil((level - limit + 1) / per_second))));
}

Status LoginThrottle::Check(std::string_view id, std::string_view address) {
  auto now = clock_.Now();
  std::lock_guard lock(mutex_);
  struct Limit {
    std::string key;
    double limit;
    const char* what;
  };
  for (const Limit& l :
       {Limit{"id:" + std::string(id), settings_.failures_per_id, "client id"},
        Limit{"addr:" + std::string(address), settings_.failures_per_address, "source address"}}) {
    auto it = buckets_.find(l.key);
    if (l.limit <= 0 || it == buckets_.end()) continue;
    double level = LevelNow(it->second, l.limit, now);
    if (level <= l.limit - 1) continue;  // room for one more failure
    auto wait = WaitUntilBelow(level, l.limit);
    Error e = MakeError(ErrorCode::kRateLimited,
                        "too many failed logins for this " + std::string(l.what) +
                            " (the limit is " + std::to_string(static_cast<long long>(l.limit)) +
                            " per " + std::to_string(settings_.window.count()) +
                            " s); try again in " + std::to_string(wait.count()) + " s");
    e.retry_after = wait;
    return std::unexpected(std::move(e));
  }
  return {};
}

void LoginThrottle::Failed(std::string_view id, std::string_view address) {
  auto now = clock_.Now();
  std::lock_guard lock(mutex_);
  if (settings_.failures_per_id > 0) Add("id:" + std::string(id), settings_.failures_per_id, now);
  if (settings_.failures_per_address > 0)
    Add("addr:" + std::string(address), settings_.failures_per_address, now);
}

std::size_t LoginThrottle::tracked() {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

void LoginThrottle::Add(const std::string& key, double limit, Timestamp now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    MakeRoom(now);
    it = buckets_.emplace(key, Bucket{0, now}).first;
  }
  LevelNow(it->second, limit, now);
  it->second.level += 1;
}

void LoginThrottle::MakeRoom(Timestamp now) {
  if (buckets_.size() < settings_.capacity) return;
  // Drained buckets first. When every bucket still holds failures, half of them are forgotten,
  // addresses before ids (in the map's order, which is arbitrary): a flood of addresses can
  // weaken the limit for some of them, it cannot take the producer's memory.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double limit =
        it->first.starts_with("id:") ? settings_.failures_per_id : settings_.failures_per_address;
    it = LevelNow(it->second, limit, now) <= 0 ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < settings_.capacity) return;
  std::size_t drop = buckets_.size() / 2;
  for (const char* kind : {"addr:", "id:"})
    for (auto it = buckets_.begin(); it != buckets_.end() && drop > 0;)
      if (it->first.starts_with(kind)) {
        it = buckets_.erase(it);
        --drop;
      } else {
        ++it;
      }
}

}  // namespace conveyor

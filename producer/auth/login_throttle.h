// Failed logins, throttled: after too many failed credential checks lately for one client id
// or from one source address, further attempts for it are refused at once, without the PBKDF2
// work (a 429 with Retry-After), until enough time has passed.
//
// Each id and each address has a leaky bucket: a failure adds one; the bucket drains
// `limit` per `window`; while it has no room for one more, attempts are refused. So a client that
// mistyped its secret a few times is not held up, a guesser gets one try per window / limit
// (6 s by default for an id) and is told how long to wait. Successful logins add nothing.
//
// The counts are this producer's own, in memory: with N producers behind a load balancer a
// guesser gets up to N times the rate. At most `capacity` buckets are kept (the drained ones
// are dropped first), so a flood of addresses cannot take the producer's memory. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "conveyor/clock.h"
#include "conveyor/result.h"

namespace conveyor {

struct LoginThrottleSettings {
  double failures_per_id = 10;       // 0 turns the limit per client id off
  double failures_per_address = 30;  // 0 turns the limit per source address off
  std::chrono::seconds window{60};
  std::size_t capacity = 100000;
};

class LoginThrottle {
 public:
  LoginThrottle(const Clock& clock, LoginThrottleSettings settings);

  // kRateLimited, naming the limit and with retry_after, when `id` or `address` failed too
  // often lately.
  Status Check(std::string_view id, std::string_view address);
  // Counts a failed check of `id`'s credentials from `address`.
  void Failed(std::string_view id, std::string_view address);
  // How many ids and addresses are counted now.
  std::size_t tracked();

 private:
  struct Bucket {
    double level = 0;
    Timestamp at;
  };
  // The bucket's level now, drained since it was last touched.
  double LevelNow(Bucket& bucket, double limit, Timestamp now) const;
  std::chrono::seconds WaitUntilBelow(double level, double limit) const;
  void Add(const std::string& key, double limit, Timestamp now);
  void MakeRoom(Timestamp now);

  const Clock& clock_;
  LoginThrottleSettings settings_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;  // "id:<id>" or "addr:<address>"
};

}  // namespace conveyor

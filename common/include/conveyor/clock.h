// Time for domain code, injected so that tests control it.
//
// Timestamps are UTC with microsecond precision, the precision PostgreSQL keeps. Clock is
// an interface: production code uses SystemClock; tests use FakeClock and move time by hand,
// so no test sleeps. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace conveyor {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(start.time_since_epoch().count()) {}
  Timestamp Now() const override { return Timestamp(std::chrono::microseconds(now_.load())); }
  void Advance(std::chrono::microseconds by) { now_ += by.count(); }

 private:
  std::atomic<long long> now_;
};

}  // namespace conveyor

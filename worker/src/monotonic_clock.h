// Monotonic time for the worker's loops (heartbeats, backoffs, timeouts, grace periods),
// injected so that tests control it, as envoy's TimeSource and abseil's Clock are. Wall-clock
// time, the time recorded in the database, is conveyor::Clock (conveyor/clock.h).
//
// SteadyClock is std::chrono::steady_clock. FakeMonotonicClock stands still until a test
// moves it (Advance) or a component sleeps or waits on it; so a test can step a RunEngine
// past a backoff or a timeout without sleeping. Implementations are thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace conveyor {

using MonotonicTime = std::chrono::steady_clock::time_point;

class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual MonotonicTime Now() const = 0;
  // Blocks the calling thread until `d` of this clock's time passed.
  virtual void SleepFor(std::chrono::milliseconds d) const = 0;
  // As std::condition_variable::wait_for with a predicate: `lock` (of the mutex that guards
  // what `ready` reads) is held on entry and on return; returns as soon as `ready` holds once
  // `cv` is notified, or when `d` of this clock's time passed; returns ready().
  virtual bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                       std::chrono::milliseconds d, const std::function<bool()>& ready) const = 0;
};

class SteadyClock final : public MonotonicClock {
 public:
  MonotonicTime Now() const override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::milliseconds d) const override { std::this_thread::sleep_for(d); }
  bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               std::chrono::milliseconds d, const std::function<bool()>& ready) const override {
    return cv.wait_for(lock, d, ready);
  }
};

// Starts at an hour past the steady clock's epoch (so that "an interval ago" is a valid
// time). SleepFor moves it by the duration at once. WaitFor gives the other threads (a
// handler on the pool, say) up to kRealWait of real time to make `ready` hold; if they do not,
// it moves the clock by the whole duration: a grace period passes as soon as it is clear
// that nothing is going to happen within a moment.
class FakeMonotonicClock final : public MonotonicClock {
 public:
  static constexpr std::chrono::milliseconds kRealWait{50};

  FakeMonotonicClock() = default;
  MonotonicTime Now() const override {
    return MonotonicTime(std::chrono::nanoseconds(now_.load()));
  }
  void Advance(std::chrono::nanoseconds by) { now_ += by.count(); }
  void SleepFor(std::chrono::milliseconds d) const override { now_ += Nanos(d); }
  bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               std::chrono::milliseconds d, const std::function<bool()>& ready) const override {
    if (cv.wait_for(lock, std::min(d, kRealWait), ready)) return true;
    now_ += Nanos(d);
    return ready();
  }

 private:
  static long long Nanos(std::chrono::nanoseconds d) { return d.count(); }
  mutable std::atomic<long long> now_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

}  // namespace conveyor

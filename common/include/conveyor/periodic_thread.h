// A pass that runs on a thread of its own, the first at once and then every `every`, until
// Stop(): the workers' retention (Janitor), the producer's search for lost creates
// (CreateRedrive) and its expiry of Idempotency-Keys. Stop() wakes the thread from its wait; a pass
// in progress is finished first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace conveyor {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  ~PeriodicThread() { Stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts the passes; call once.
  void Start(std::chrono::milliseconds every, std::function<void()> pass);
  // Waits for a pass in progress, and ends the thread. Idempotent.
  void Stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conveyor

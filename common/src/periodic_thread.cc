#include "conveyor/periodic_thread.h"

namespace conveyor {

void PeriodicThread::Start(std::chrono::milliseconds every, std::function<void()> pass) {
  thread_ = std::thread([this, every, pass = std::move(pass)] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      pass();
      lock.lock();
      wake_.wait_for(lock, every, [this] { return stopping_; });
    }
  });
}

void PeriodicThread::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace conveyor

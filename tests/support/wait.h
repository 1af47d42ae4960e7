// Synchronizing tests with what happens elsewhere: poll a condition with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace conveyor::testing {

// Calls `check` until it returns true or `deadline` passes; returns the last result.
inline bool PollUntil(const std::function<bool()>& check, std::chrono::milliseconds deadline,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace conveyor::testing

// The fault suite's client: it sends numbered creates, each with an Idempotency-Key of its own,
// from several threads, and records every answer, so that after a fault the test knows which
// tasks it was told exist, and can ask again, with the same key, about each one it was not.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace conveyor::testing {

using LoadClock = std::chrono::steady_clock;

struct Answer {
  int status = 0;  // 0: no answer (refused, reset or timed out)
  std::string task_id;
  LoadClock::time_point sent_at;
  LoadClock::time_point answered_at;
  bool ok() const { return status >= 200 && status < 300; }
};

struct LoadTarget {
  int port = 0;
  std::string authorization;  // the Authorization header every request sends
  std::string path;           // the create route, e.g. /api/v2/admin/tasks/account
  std::string key_prefix;     // request i sends Idempotency-Key <key_prefix>-<i>
  // The body of request i, and where its answer names the task (a JSON pointer).
  std::function<nlohmann::json(int)> body;
  std::string id_pointer = "/ResponseData/Detail/ID";
};

class LoadClient {
 public:
  // At most `capacity` creates: all of them, or as many as were sent before StopSending().
  LoadClient(LoadTarget target, int capacity) : target_(std::move(target)), answers_(capacity) {}
  ~LoadClient() { Join(); }

  // Sends the creates from `threads` threads, each request at most every `pace` per thread.
  void Start(int threads, std::chrono::milliseconds pace = std::chrono::milliseconds(0));
  // Sends no further create (a load that lasts as long as its fault, not a number of creates).
  void StopSending() { stop_ = true; }
  void Join();
  int answered() const { return answered_; }
  // How many creates were sent (all of them once Join returned).
  int count() const { return std::min(next_.load(), static_cast<int>(answers_.size())); }

  // Sends again, with its key, every create whose last answer was not 2xx, from as many
  // threads as Start had, round after round, until each is or the deadline passes; true when
  // all are.
  bool Settle(std::chrono::milliseconds deadline);

  // The answers so far: first() as each request was first answered, last() after Settle.
  std::vector<Answer> first() const;
  std::vector<Answer> last() const;

 private:
  std::unique_ptr<httplib::Client> Http() const;
  Answer Send(httplib::Client& http, int i) const;
  void Run(std::chrono::milliseconds pace);
  void Resend(const std::vector<int>& which);

  LoadTarget target_;
  mutable std::mutex mu_;
  std::vector<Answer> answers_;                // the last answer to request i
  std::vector<std::optional<Answer>> firsts_;  // the first, kept once a request was resent
  std::atomic<int> next_{0};
  std::atomic<int> answered_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::size_t threads_count_ = 1;
};

}  // namespace conveyor::testing

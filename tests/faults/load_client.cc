#include "faults/load_client.h"

#include <algorithm>

namespace conveyor::testing {

void LoadClient::Start(int threads, std::chrono::milliseconds pace) {
  firsts_.assign(answers_.size(), std::nullopt);
  threads_count_ = static_cast<std::size_t>(threads);
  for (int t = 0; t < threads; ++t) threads_.emplace_back([this, pace] { Run(pace); });
}

void LoadClient::Join() {
  for (auto& t : threads_) t.join();
  threads_.clear();
}

// A client of the producer for one sending thread: a connection kept alive, a 2 s connect and a
// 15 s answer timeout (a request that gets neither is recorded unanswered).
std::unique_ptr<httplib::Client> LoadClient::Http() const {
  auto http = std::make_unique<httplib::Client>("127.0.0.1", target_.port);
  http->set_connection_timeout(2, 0);
  http->set_read_timeout(15, 0);
  http->set_keep_alive(true);
  return http;
}

void LoadClient::Run(std::chrono::milliseconds pace) {
  auto http = Http();
  const int capacity = static_cast<int>(answers_.size());
  while (!stop_) {
    int i = next_++;
    if (i >= capacity) break;
    auto due = LoadClock::now() + pace;
    Answer a = Send(*http, i);
    {
      std::lock_guard lock(mu_);
      answers_[i] = a;
    }
    ++answered_;
    std::this_thread::sleep_until(due);
  }
}

Answer LoadClient::Send(httplib::Client& http, int i) const {
  Answer a;
  a.sent_at = LoadClock::now();
  httplib::Headers headers = {{"Authorization", target_.authorization},
                              {"Idempotency-Key", target_.key_prefix + "-" + std::to_string(i)}};
  auto r = http.Post(target_.path, headers, target_.body(i).dump(), "application/json");
  a.answered_at = LoadClock::now();
  if (!r) return a;
  a.status = r->status;
  if (a.ok()) {
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    auto pointer = nlohmann::json::json_pointer(target_.id_pointer);
    if (j.contains(pointer)) a.task_id = j.at(pointer).get<std::string>();
  }
  return a;
}

bool LoadClient::Settle(std::chrono::milliseconds deadline) {
  auto until = LoadClock::now() + deadline;
  for (int round = 0;; ++round) {
    std::vector<int> open;
    {
      std::lock_guard lock(mu_);
      for (int i = 0; i < count(); ++i) {
        if (answers_[i].ok()) continue;
        if (!firsts_[i]) firsts_[i] = answers_[i];
        open.push_back(i);
      }
    }
    if (open.empty()) return true;
    if (LoadClock::now() >= until) return false;
    // A pause between rounds, for a service that is still coming back.
    if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Resend(open);
  }
}

void LoadClient::Resend(const std::vector<int>& which) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> senders;
  for (std::size_t t = 0; t < std::max<std::size_t>(threads_count_, 1); ++t)
    senders.emplace_back([&] {
      auto http = Http();
      for (auto k = next++; k < which.size(); k = next++) {
        Answer a = Send(*http, which[k]);
        std::lock_guard lock(mu_);
        answers_[which[k]] = a;
      }
    });
  for (auto& t : senders) t.join();
}

std::vector<Answer> LoadClient::first() const {
  std::lock_guard lock(mu_);
  std::vector<Answer> out(answers_.begin(), answers_.begin() + count());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (i < firsts_.size() && firsts_[i]) out[i] = *firsts_[i];
  return out;
}

std::vector<Answer> LoadClient::last() const {
  std::lock_guard lock(mu_);
  return {answers_.begin(), answers_.begin() + count()};
}

}  // namespace conveyor::testing

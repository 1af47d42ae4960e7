#include "faults/load_client.h"

namespace conveyor::testing {

void LoadClient::Start(int threads, std::chrono::milliseconds pace) {
  firsts_.assign(answers_.size(), std::nullopt);
  for (int t = 0; t < threads; ++t) threads_.emplace_back([this, pace] { Run(pace); });
}

void LoadClient::Join() {
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void LoadClient::Run(std::chrono::milliseconds pace) {
  httplib::Client http("127.0.0.1", target_.port);
  http.set_connection_timeout(2, 0);
  http.set_read_timeout(15, 0);
  http.set_keep_alive(true);
  for (int i = next_++; i < count(); i = next_++) {
    auto due = LoadClock::now() + pace;
    Answer a = Send(http, i);
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
  httplib::Client http("127.0.0.1", target_.port);
  http.set_connection_timeout(2, 0);
  http.set_read_timeout(15, 0);
  auto until = LoadClock::now() + deadline;
  while (true) {
    int open = 0;
    for (int i = 0; i < count(); ++i) {
      {
        std::lock_guard lock(mu_);
        if (answers_[i].ok()) continue;
        if (!firsts_[i]) firsts_[i] = answers_[i];
      }
      Answer a = Send(http, i);
      std::lock_guard lock(mu_);
      answers_[i] = a;
      if (!a.ok()) ++open;
    }
    if (open == 0) return true;
    if (LoadClock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::vector<Answer> LoadClient::first() const {
  std::lock_guard lock(mu_);
  std::vector<Answer> out = answers_;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (i < firsts_.size() && firsts_[i]) out[i] = *firsts_[i];
  return out;
}

std::vector<Answer> LoadClient::last() const {
  std::lock_guard lock(mu_);
  return answers_;
}

}  // namespace conveyor::testing

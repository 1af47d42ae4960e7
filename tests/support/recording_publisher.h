// An EventPublisher that keeps what it is given instead of sending it to Kafka, for the unit
// tests of both programs and the fuzz targets.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "conveyor/event_publisher.h"

namespace conveyor::testing {

class RecordingPublisher final : public EventPublisher {
 public:
  // Offsets count the messages sent so far, as one partition's would.
  Result<Delivery> Publish(const OutgoingMessage& m) override {
    std::lock_guard lock(mutex);
    if (fail_next) {
      fail_next = false;
      return Fail(ErrorCode::kUnavailable, "broker away (fake)");
    }
    if (refuse && refuse(m)) return Fail(ErrorCode::kUnavailable, "not acknowledged (fake)");
    sent.push_back(m);
    return Delivery{0, static_cast<std::int64_t>(sent.size()) - 1};
  }
  // The answers come at once, or, while `hold` is set, at Release(): Kafka acknowledging
  // later, on another thread.
  void PublishThen(const OutgoingMessage& m, DeliveryDone done) override {
    Answer([d = Publish(m), done = std::move(done)] { done(d); });
  }
  void PublishAllThen(const std::vector<OutgoingMessage>& ms, DeliveriesDone done) override {
    Answer([d = PublishAll(ms), done = std::move(done)] { done(d); });
  }
  // Gives the answers held so far, and those that come after, at once.
  void Release() {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard lock(mutex);
      hold = false;
      answers.swap(held);
    }
    for (auto& a : answers) a();
  }
  std::vector<OutgoingMessage> On(const std::string& topic) const {
    std::vector<OutgoingMessage> out;
    for (const auto& m : sent)
      if (m.topic == topic) out.push_back(m);
    return out;
  }
  std::mutex mutex;
  std::vector<OutgoingMessage> sent;
  bool fail_next = false;
  // When set, the messages it picks are not acknowledged (and not recorded).
  std::function<bool(const OutgoingMessage&)> refuse;
  bool hold = false;

 private:
  void Answer(std::function<void()> answer) {
    {
      std::lock_guard lock(mutex);
      if (hold) return held.push_back(std::move(answer));
    }
    answer();
  }
  std::vector<std::function<void()>> held;
};

}  // namespace conveyor::testing

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
};

}  // namespace conveyor::testing

// In-memory fakes of the worker's and producer's ports, for unit tests without I/O. The
// worker's TaskStore fake is in fake_task_store.h (included here), its other ports' in
// worker_fakes.h.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "conveyor/event_publisher.h"
#include "src/accepted_writes.h"
#include "support/fake_task_store.h"

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

// Keeps what the producer recorded of accepted commands, by task id, with PgAcceptedWrites's
// rule: a task recorded at a higher offset is not replaced by one at a lower offset.
class RecordingAcceptedWrites final : public AcceptedWrites {
 public:
  Status Record(const std::vector<AcceptedTask>& recorded,
                const std::vector<AcceptedNote>& recorded_notes) override {
    std::lock_guard lock(mutex);
    if (fail_next) {
      fail_next = false;
      return Fail(ErrorCode::kUnavailable, "database away (fake)");
    }
    for (const auto& t : recorded) {
      auto [it, fresh] = tasks.try_emplace(t.task.id, t);
      if (!fresh && it->second.offset < t.offset) it->second = t;
    }
    notes.insert(notes.end(), recorded_notes.begin(), recorded_notes.end());
    return {};
  }
  std::mutex mutex;
  std::map<Uuid, AcceptedTask> tasks;
  std::vector<AcceptedNote> notes;
  bool fail_next = false;
};

}  // namespace conveyor::testing

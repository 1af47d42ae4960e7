// In-memory fakes of the worker's and producer's ports, for unit tests without I/O.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "conveyor/event_publisher.h"
#include "src/task_store.h"

namespace conveyor::testing {

class RecordingPublisher final : public EventPublisher {
 public:
  Status Publish(const OutgoingMessage& m) override {
    std::lock_guard lock(mutex);
    if (fail_next) {
      fail_next = false;
      return Fail(ErrorCode::kUnavailable, "broker away (fake)");
    }
    sent.push_back(m);
    return {};
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
};

// Keeps tasks, runs, the inbox and the outbox in maps, with the same rules as PgTaskStore.
class FakeTaskStore final : public TaskStore {
 public:
  struct Run {
    Uuid task_id;
    RunState state = RunState::kQueued;
    int start_count = 0;
    std::string result;
  };

  Result<std::vector<ApplyResult>> ApplyBatch(const std::vector<IncomingCommand>& cs) override {
    std::vector<ApplyResult> out;
    for (const auto& c : cs) {
      if (!inbox.insert(c.event.id).second) {
        out.push_back({ApplyOutcome::kDuplicate, {}});
        continue;
      }
      if (!known_types.contains(c.task.task_type_id)) {
        inbox.erase(c.event.id);
        out.push_back({ApplyOutcome::kRejected, "task type is not registered"});
        continue;
      }
      tasks[c.task.id] = c.task;
      if (c.task.enabled) runs[c.event.id] = Run{c.task.id, RunState::kQueued, 0, {}};
      out.push_back({ApplyOutcome::kApplied, {}});
    }
    return out;
  }
  Result<std::vector<PendingRun>> FindPendingRuns(const std::vector<Uuid>& ids) override {
    std::vector<PendingRun> out;
    for (const auto& id : ids) {
      auto it = runs.find(id);
      if (it == runs.end() || IsFinal(it->second.state)) continue;
      out.push_back(PendingRun{id, tasks[it->second.task_id], "noop", it->second.state,
                               it->second.start_count});
    }
    return out;
  }
  Result<std::optional<StartedRun>> StartRun(const PendingRun& p, const std::string&,
                                             Timestamp now) override {
    auto& r = runs.at(p.run_id);
    if (IsFinal(r.state)) return std::optional<StartedRun>();
    r.state = RunState::kStarted;
    ++r.start_count;
    return std::optional<StartedRun>(StartedRun{p, r.start_count, now});
  }
  Status FinishRun(const StartedRun& s, const RunOutcome& o,
                   const std::optional<OutgoingMessage>& n) override {
    auto& r = runs.at(s.run.run_id);
    if (r.state != RunState::kStarted || r.start_count != s.start_count) return {};
    r.state = o.state;
    r.result = o.result;
    if (n) outbox.push_back(*n);
    return {};
  }

  std::set<Uuid> known_types;
  std::set<Uuid> inbox;
  std::map<Uuid, Task> tasks;
  std::map<Uuid, Run> runs;
  std::vector<OutgoingMessage> outbox;
};

}  // namespace conveyor::testing

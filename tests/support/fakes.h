// In-memory fakes of the worker's and producer's ports, for unit tests without I/O.
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
#include "src/task_store.h"

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

// Keeps tasks, runs, the inbox and the outbox in maps, with the same rules as PgTaskStore.
// Called from one thread (the engine's loop thread), like the real one in the worker.
class FakeTaskStore final : public TaskStore {
 public:
  struct Run {
    Uuid task_id;
    RunState state = RunState::kQueued;
    int start_count = 0;
    int attempt = 1;
    std::string worker;
    std::optional<Timestamp> heartbeat_at;
    std::optional<Timestamp> not_before;
    bool cancel_requested = false;
    std::string result;
    int progress = 0;
  };

  using TaskStore::ApplyBatch;
  Result<std::vector<ApplyResult>> ApplyBatch(const std::vector<IncomingCommand>& cs,
                                              const StartOffer& offer) override {
    if (unavailable || (apply_failures > 0 && apply_failures-- > 0))
      return Fail(ErrorCode::kUnavailable, "database away (fake)");
    std::set<Uuid> named_by_others;
    for (const auto& c : cs)
      if (c.kind != CommandKind::kCreate) named_by_others.insert(c.task.id);
    std::size_t room = offer.room;
    std::vector<ApplyResult> out;
    for (const auto& c : cs) {
      if ((c.kind == CommandKind::kCreate && !known_types.contains(c.task.task_type_id)) ||
          (c.kind == CommandKind::kUpdate && !known_types.contains(c.update.task_type_id))) {
        out.push_back({ApplyOutcome::kRejected, "task type is not registered", std::nullopt});
        continue;
      }
      if (!inbox.insert(c.event.id).second) {
        out.push_back({ApplyOutcome::kDuplicate, {}, std::nullopt});
        continue;
      }
      auto cancel_runs = [&] {
        for (auto& [id, r] : runs)
          if (r.task_id == c.task.id && !IsFinal(r.state)) r.cancel_requested = true;
      };
      auto live = tasks.find(c.task.id);
      if (live != tasks.end() && deleted.contains(c.task.id)) live = tasks.end();
      if (c.kind == CommandKind::kCancel) {
        cancel_runs();
      } else if (c.kind == CommandKind::kDelete) {
        if (live != tasks.end()) {
          deleted.insert(c.task.id);
          cancel_runs();
        }
      } else if (c.kind == CommandKind::kAddNote) {
        notes.push_back(c.note);
      } else if (c.kind == CommandKind::kUpdate) {
        if (live != tasks.end()) {
          bool was_enabled = live->second.enabled;
          live->second = ApplyUpdate(live->second, c.update);
          if (c.update.enabled == false) cancel_runs();
          bool blocked = false;  // a run that succeeded, failed, or is live and not cancelling
          for (const auto& [id, r] : runs)
            if (r.task_id == c.task.id &&
                (r.state == RunState::kSucceeded || r.state == RunState::kFailed ||
                 (r.state != RunState::kCancelled && !r.cancel_requested)))
              blocked = true;
          if (c.update.enabled == true && !was_enabled && !blocked) {
            Run r;
            r.task_id = c.task.id;
            runs[c.event.id] = r;
          }
        }
      } else if (c.kind == CommandKind::kBatchUpdate) {
        if (live != tasks.end()) {
          const auto& u = c.batch_update;
          if (u.description) live->second.description = *u.description;
          if (u.request) live->second.request = *u.request;
          if (u.response) live->second.response = *u.response;
          if (u.run_change == BatchTaskUpdate::RunChange::kStop) cancel_runs();
          bool has_live_run = false;
          for (const auto& [id, r] : runs)
            if (r.task_id == c.task.id && !IsFinal(r.state)) has_live_run = true;
          if (u.run_change == BatchTaskUpdate::RunChange::kRunAgain && !has_live_run) {
            if (!u.response) live->second.response.reset();
            Run r;
            r.task_id = c.task.id;
            runs[c.event.id] = r;
          }
        }
      } else {
        tasks[c.task.id] = c.task;
        if (c.task.enabled) {
          Run r;
          r.task_id = c.task.id;
          auto handler = HandlerOf(c.task.task_type_id);
          bool held_back = std::find(offer.held_back.begin(), offer.held_back.end(), handler) !=
                           offer.held_back.end();
          if (room > 0 && !held_back && !named_by_others.contains(c.task.id)) {
            --room;
            r.state = RunState::kStarted;
            r.start_count = 1;
            r.worker = offer.worker;
            r.heartbeat_at = offer.at;
            ++started_as_queued;
          }
          runs[c.event.id] = r;
          if (r.state == RunState::kStarted) {
            out.push_back(
                {ApplyOutcome::kApplied, {}, *FindPendingRuns({c.event.id})->begin(), true});
            continue;
          }
        }
      }
      out.push_back({ApplyOutcome::kApplied, {}, std::nullopt});
    }
    return out;
  }
  Result<std::vector<PendingRun>> FindPendingRuns(const std::vector<Uuid>& ids) override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
    std::vector<PendingRun> out;
    for (const auto& id : ids) {
      auto it = runs.find(id);
      if (it == runs.end() || IsFinal(it->second.state)) continue;
      const Run& r = it->second;
      PendingRun p;
      p.run_id = id;
      p.task = tasks[r.task_id];
      p.handler = HandlerOf(p.task.task_type_id);
      p.policy = policy;
      p.state = r.state;
      p.start_count = r.start_count;
      p.attempt = r.attempt;
      p.worker = r.worker;
      p.heartbeat_at = r.heartbeat_at;
      p.not_before = r.not_before;
      p.cancel_requested = r.cancel_requested;
      out.push_back(std::move(p));
    }
    return out;
  }
  Result<std::vector<PendingRun>> FindPendingRunsOfTasks(const std::vector<Uuid>& ids) override {
    std::vector<Uuid> run_ids;
    for (const auto& [id, r] : runs)
      for (const auto& t : ids)
        if (r.task_id == t) run_ids.push_back(id);
    return FindPendingRuns(run_ids);
  }
  Result<std::vector<std::optional<StartedRun>>> StartRuns(
      const std::vector<PendingRun>& ps, const std::string& worker, Timestamp now,
      std::chrono::milliseconds stale_after) override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
    std::vector<std::optional<StartedRun>> out;
    for (const auto& p : ps) {
      auto& r = runs.at(p.run_id);
      bool owner_gone =
          r.worker == worker || !r.heartbeat_at || *r.heartbeat_at < now - stale_after;
      bool may = r.start_count == p.start_count && !r.cancel_requested &&
                 (r.state == RunState::kQueued || r.state == RunState::kRetryWait ||
                  (r.state == RunState::kStarted && owner_gone));
      if (!may) {
        out.emplace_back();
        continue;
      }
      r.state = RunState::kStarted;
      ++r.start_count;
      r.worker = worker;
      r.heartbeat_at = now;
      r.not_before.reset();
      ++starts;
      out.push_back(StartedRun{p, r.start_count, now});
    }
    return out;
  }
  Status FinishRuns(const std::vector<FinishedRun>& fs) override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
    for (const auto& f : fs) {
      auto& r = runs.at(f.run.run.run_id);
      if (IsFinal(r.state) || r.start_count != f.run.start_count) continue;
      r.state = f.outcome.state;
      r.result = f.outcome.result;
      r.heartbeat_at.reset();
      if (f.notification) outbox.push_back(*f.notification);
    }
    return {};
  }
  Status RetryRuns(const std::vector<RetryingRun>& rs) override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
    for (const auto& x : rs) {
      auto& r = runs.at(x.run.run.run_id);
      if (r.state != RunState::kStarted || r.start_count != x.run.start_count) continue;
      r.state = RunState::kRetryWait;
      ++r.attempt;
      r.result = x.error;
      r.not_before = x.not_before;
      r.heartbeat_at.reset();
    }
    return {};
  }
  Status Heartbeat(const std::vector<RunHeartbeat>& hs, Timestamp now,
                   const std::vector<OutgoingMessage>& notes) override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
    for (const auto& h : hs) {
      auto& r = runs.at(h.run_id);
      if (r.state != RunState::kStarted || r.start_count != h.start_count) continue;
      r.heartbeat_at = now;
      if (h.percent) r.progress = *h.percent;
    }
    outbox.insert(outbox.end(), notes.begin(), notes.end());
    return {};
  }
  Status ReleaseRuns(const std::vector<StartedRun>& rs) override {
    for (const auto& x : rs) {
      auto& r = runs.at(x.run.run_id);
      if (r.state == RunState::kStarted && r.start_count == x.start_count) r.heartbeat_at.reset();
    }
    return {};
  }

  std::string HandlerOf(const Uuid& type) const {
    auto it = handler_of.find(type);
    return it == handler_of.end() ? "noop" : it->second;
  }

  std::set<Uuid> known_types;
  std::map<Uuid, std::string> handler_of;  // task type → handler (default noop)
  RunPolicy policy;
  bool unavailable = false;
  int apply_failures = 0;     // the next ApplyBatch calls to fail as if the database were away
  int starts = 0;             // by StartRuns
  int started_as_queued = 0;  // by ApplyBatch, as a StartOffer allowed
  std::set<Uuid> inbox;
  std::map<Uuid, Task> tasks;
  std::set<Uuid> deleted;
  std::vector<TaskNote> notes;
  std::map<Uuid, Run> runs;
  std::vector<OutgoingMessage> outbox;
};

}  // namespace conveyor::testing

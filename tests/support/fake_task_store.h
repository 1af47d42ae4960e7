// FakeTaskStore: the worker's TaskStore in memory, for unit tests without I/O.
//
// It keeps the data PgTaskStore keeps (tasks, runs, the inbox, notes, the outbox), and takes
// every decision about runs from run_rules.h, the functions PgTaskStore's SQL is tested
// against (tests/integration/worker/run_rules_sql_test.cc): which run may start (MayStart,
// Started), which start's writes still count (MayRecordOutcome, HoldsStart), which runs a stop
// reaches (StopReaches), when enabling or running a task again queues a run, which runs of a
// batch start as they are queued (StartAsQueued), and what a fired due time does (DecideFire).
// Lenient where the database is strict: a note on a task that does not exist is kept.
// Called from one thread (the engine's loop thread), like the real one in the worker.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "conveyor/scheduling.h"
#include "src/run_rules.h"
#include "src/task_store.h"

namespace conveyor::testing {

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
    std::optional<Uuid> after_run;  // queued behind this run (BUFFER_ONE)
    std::uint64_t seq = 0;          // queue order
  };

  using TaskStore::ApplyBatch;
  Result<std::vector<ApplyResult>> ApplyBatch(const std::vector<IncomingCommand>& cs,
                                              const StartOffer& offer) override {
    if (unavailable || (apply_failures > 0 && apply_failures-- > 0))
      return Fail(ErrorCode::kUnavailable, "database away (fake)");
    std::set<Uuid> named_by_others;
    for (const auto& c : cs)
      if (c.kind != CommandKind::kCreate) named_by_others.insert(c.task.id);
    std::vector<ApplyResult> out;
    std::vector<std::size_t> queued_at;  // the results of fresh creates that queued a run
    std::vector<QueuedRun> queued;
    for (const auto& c : cs) {
      if (!KnownType(c)) {
        out.push_back({ApplyOutcome::kRejected, "task type is not registered", std::nullopt});
        continue;
      }
      if (!inbox.insert(c.event.id).second) {
        out.push_back({ApplyOutcome::kDuplicate, {}, std::nullopt});
        continue;
      }
      out.push_back({ApplyOutcome::kApplied, {}, std::nullopt});
      if (Apply(c) && c.kind == CommandKind::kCreate) {
        queued_at.push_back(out.size() - 1);
        queued.push_back({HandlerOf(c.task.task_type_id), named_by_others.contains(c.task.id)});
      }
    }
    auto start = StartAsQueued(queued, offer);
    for (std::size_t i = 0; i < queued.size(); ++i) {
      auto& result = out[queued_at[i]];
      const Uuid& run_id = cs[queued_at[i]].event.id;
      if (start[i]) {
        Put(runs.at(run_id), Started(Facts(runs.at(run_id)), offer.worker, offer.at));
        ++started_as_queued;
        result.started = true;
      }
      // As PgTaskStore: a queued run comes with the result unless another command names it.
      if (!queued[i].named_by_others) result.queued_run = *FindPendingRuns({run_id})->begin();
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
      if (std::find(ids.begin(), ids.end(), r.task_id) != ids.end()) run_ids.push_back(id);
    return FindPendingRuns(run_ids);
  }

  Result<std::vector<std::optional<StartedRun>>> StartRuns(
      const std::vector<PendingRun>& ps, const std::string& worker, Timestamp now,
      std::chrono::milliseconds stale_after) override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
    std::vector<std::optional<StartedRun>> out;
    for (const auto& p : ps) {
      auto& r = runs.at(p.run_id);
      if (!MayStart(Facts(r), p.start_count, worker, now, stale_after)) {
        out.emplace_back();
        continue;
      }
      Put(r, Started(Facts(r), worker, now));
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
      if (!MayRecordOutcome(Facts(r), f.run.start_count)) continue;
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
      if (!HoldsStart(Facts(r), x.run.start_count)) continue;
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
      if (!HoldsStart(Facts(r), h.start_count)) continue;
      r.heartbeat_at = now;
      if (h.percent) r.progress = *h.percent;
    }
    outbox.insert(outbox.end(), notes.begin(), notes.end());
    return {};
  }

  Status ReleaseRuns(const std::vector<StartedRun>& rs) override {
    for (const auto& x : rs) {
      auto& r = runs.at(x.run.run_id);
      if (HoldsStart(Facts(r), x.start_count)) r.heartbeat_at.reset();
    }
    return {};
  }

  std::string HandlerOf(const Uuid& type) const {
    auto it = handler_of.find(type);
    return it == handler_of.end() ? "noop" : it->second;
  }

  // The run as the rules see it.
  RunFacts Facts(const Run& r) const {
    bool waits = false;
    if (r.after_run)
      if (auto p = runs.find(*r.after_run); p != runs.end()) waits = !IsFinal(p->second.state);
    return {r.state, r.start_count, r.worker, r.heartbeat_at, r.cancel_requested, waits};
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

 private:
  bool KnownType(const IncomingCommand& c) const {
    if (c.kind == CommandKind::kCreate) return known_types.contains(c.task.task_type_id);
    if (c.kind == CommandKind::kUpdate) return known_types.contains(c.update.task_type_id);
    return true;
  }

  // Applies one command new to the inbox; true when it queued a run.
  bool Apply(const IncomingCommand& c) {
    auto task = tasks.find(c.task.id);
    bool exists = task != tasks.end() && !deleted.contains(c.task.id);
    switch (c.kind) {
      case CommandKind::kCreate:
        tasks[c.task.id] = c.task;
        // A task that waits for its schedule has no run yet.
        return c.task.enabled && !c.next_due_at && Queue(c.event.id, c.task.id);
      case CommandKind::kCancel:
        Stop(c.task.id);
        return false;
      case CommandKind::kDelete:
        if (!exists) return false;
        deleted.insert(c.task.id);
        Stop(c.task.id);
        return false;
      case CommandKind::kAddNote:
        notes.push_back(c.note);
        return false;
      case CommandKind::kUpdate:
        return exists && ApplyUpdate(c, task->second);
      case CommandKind::kBatchUpdate:
        return exists && ApplyBatchUpdate(c, task->second);
      case CommandKind::kFire:
        return exists && task->second.enabled && Fire(c, task->second);
    }
    return false;
  }

  bool ApplyUpdate(const IncomingCommand& c, Task& task) {
    bool was_enabled = task.enabled;
    task = conveyor::ApplyUpdate(task, c.update);
    if (c.update.enabled == false) Stop(c.task.id);
    return c.update.enabled == true && !was_enabled && !c.next_due_at &&
           EnablingQueuesARun(FactsOfTask(c.task.id)) && Queue(c.event.id, c.task.id);
  }

  bool ApplyBatchUpdate(const IncomingCommand& c, Task& task) {
    const auto& u = c.batch_update;
    bool run_again = u.run_change == BatchTaskUpdate::RunChange::kRunAgain;
    if (u.description) task.description = *u.description;
    if (u.request) task.request = *u.request;
    if (u.response)
      task.response = *u.response;
    else if (run_again)
      task.response.reset();
    if (u.run_change == BatchTaskUpdate::RunChange::kStop) Stop(c.task.id);
    return run_again && RunAgainQueuesARun(FactsOfTask(c.task.id)) && Queue(c.event.id, c.task.id);
  }

  // One run for a fired due time, as DecideFire says, given the task's latest unfinished run
  // and whether a run is queued behind it already.
  bool Fire(const IncomingCommand& c, const Task& task) {
    const Run* live = nullptr;
    std::optional<Uuid> live_id;
    bool buffered = false;
    for (const auto& [id, r] : runs) {
      if (r.task_id != c.task.id || IsFinal(r.state)) continue;
      if (r.after_run && r.state == RunState::kQueued) buffered = true;
      if (!live || r.seq > live->seq) {
        live = &r;
        live_id = id;
      }
    }
    auto action = DecideFire(c.fire, task.schedule.overlap, live != nullptr, buffered);
    if (runs.contains(c.event.id)) return false;
    Queue(c.event.id, c.task.id);
    Run& run = runs.at(c.event.id);
    if (action == FireAction::kQueueAfter) run.after_run = live_id;
    if (action == FireAction::kSkip) {
      run.state = RunState::kSkipped;
      run.result = "skipped: run " + live_id->ToString() + " was still running";
    }
    return false;
  }

  bool Queue(const Uuid& run_id, const Uuid& task_id) {
    Run r;
    r.task_id = task_id;
    r.seq = next_seq_++;
    return runs.emplace(run_id, r).second;
  }

  // Marks the runs a stop of the task reaches.
  void Stop(const Uuid& task_id) {
    for (auto& [id, r] : runs)
      if (r.task_id == task_id && StopReaches(Facts(r))) r.cancel_requested = true;
  }

  std::vector<RunFacts> FactsOfTask(const Uuid& task_id) const {
    std::vector<RunFacts> out;
    for (const auto& [id, r] : runs)
      if (r.task_id == task_id) out.push_back(Facts(r));
    return out;
  }

  static void Put(Run& r, const RunFacts& f) {
    r.state = f.state;
    r.start_count = f.start_count;
    r.worker = f.worker;
    r.heartbeat_at = f.heartbeat_at;
    r.cancel_requested = f.cancel_requested;
  }

  std::uint64_t next_seq_ = 0;
};

}  // namespace conveyor::testing

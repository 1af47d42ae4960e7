#include "run_engine.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "conveyor/cloud_event.h"
#include "conveyor/logging.h"
#include "conveyor/time_format.h"
#include "conveyor/trace_context.h"

namespace conveyor {

// The latest progress a handler reported, and what of it was recorded. Report is called on
// the executor thread; the rest on the loop thread.
class RunEngine::Progress final : public ProgressReporter {
 public:
  void Report(int percent, std::string description) override {
    std::lock_guard lock(mu_);
    percent_ = std::clamp(percent, 0, 100);
    description_ = std::move(description);
    changed_ = true;
  }

  // The progress to record now, if it changed and the throttle allows: at most once per
  // `interval`, unless it moved by `step` points or more.
  std::optional<std::pair<int, std::string>> TakeIfDue(MonotonicTime now,
                                                       std::chrono::milliseconds interval,
                                                       int step) {
    std::lock_guard lock(mu_);
    if (!changed_) return std::nullopt;
    bool big = std::abs(percent_ - recorded_percent_) >= step;
    if (!big && recorded_at_ && now - *recorded_at_ < interval) return std::nullopt;
    changed_ = false;
    recorded_percent_ = percent_;
    recorded_at_ = now;
    return std::pair{percent_, description_};
  }

 private:
  std::mutex mu_;
  int percent_ = 0;
  std::string description_;
  bool changed_ = false;
  int recorded_percent_ = 0;
  std::optional<MonotonicTime> recorded_at_;
};

struct RunEngine::Job {
  PendingRun run;
  std::vector<RunOrigin> origins;
  std::uint64_t seq = 0;  // admission order: runs start first come, first served
  Place place = Place::kWaiting;
  MonotonicTime due{};                // watching / retrying: when to look again
  std::optional<StartedRun> started;  // while running
  std::shared_ptr<CancellationToken> token;
  std::shared_ptr<Progress> progress;
  MonotonicTime deadline = MonotonicTime::max();
};

MonotonicTime RunEngine::MonotonicAt(Timestamp at) const {
  return monotonic_.Now() + std::chrono::duration_cast<MonotonicTime::duration>(at - clock_.Now());
}

RunEngine::RunEngine(EngineSettings settings, TaskStore& store, const HandlerRegistry& handlers,
                     const Clock& clock, const MonotonicClock& monotonic, WorkerMetrics* metrics)
    : settings_(std::move(settings)),
      store_(store),
      handlers_(handlers),
      clock_(clock),
      monotonic_(monotonic),
      metrics_(metrics) {
  settings_.concurrency = std::max<std::size_t>(1, settings_.concurrency);
  threads_.reserve(settings_.concurrency);  // WakeOneLocked's emplace_back never reallocates
}

RunEngine::~RunEngine() {
  for (auto& [id, job] : jobs_)
    if (job->token) job->token->Cancel(CancelReason::kShutdown);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void RunEngine::Worker() {
  std::unique_lock lock(mu_);
  if (wakes_pending_ > 0) --wakes_pending_;  // WakeOneLocked started it for queued work
  while (true) {
    while (!stopping_ && queue_.empty()) {
      ++idle_;
      work_cv_.wait(lock);
      --idle_;
      if (wakes_pending_ > 0) --wakes_pending_;
    }
    if (queue_.empty()) return;  // stopping, nothing left
    auto work = std::move(queue_.front());
    queue_.pop_front();
    // More is waiting: one more thread, so that runs that block each get a thread in turn,
    // while a burst of short runs is drained by the threads already awake.
    if (!queue_.empty()) WakeOneLocked();
    lock.unlock();
    Completion done = work();
    work = nullptr;  // what the run's closure owns is freed outside the lock
    lock.lock();
    // Published as the thread turns to the queue, under one lock: a run launched once this
    // completion is seen finds the thread idle or about to take it (no thread started for it).
    completions_.push_back(std::move(done));
    done_cv_.notify_all();
  }
}

// At most one thread is woken and not yet running at a time: waking a thread per queued
// run cost more in context switches than short runs cost to execute (a quarter of the
// worker's CPU with noop runs, `perf` in bench/README.md). With no thread idle, a new one is
// started, up to the concurrency: a pool of short runs keeps the few threads they need, and
// each thread's stack and thread-local storage (about 32 KiB) is paid only for those.
void RunEngine::WakeOneLocked() {
  if (wakes_pending_ > 0 || stopping_) return;
  if (idle_ > 0) {
    ++wakes_pending_;
    work_cv_.notify_one();
    return;
  }
  if (threads_.size() >= settings_.concurrency) return;
  ++wakes_pending_;
  try {
    threads_.emplace_back([this] { Worker(); });
    if (metrics_) metrics_->RunThreads(threads_.size());
  } catch (const std::system_error& e) {
    --wakes_pending_;  // the threads there are drain the queue; the next Tick tries again
    logging::Get("worker")->warn("could not start a run thread beyond its {}: {}", threads_.size(),
                                 e.what());
  }
}

void RunEngine::Admit(PendingRun run, RunOrigin origin) {
  auto id = run.run_id.ToString();
  if (auto it = jobs_.find(id); it != jobs_.end()) {
    it->second->origins.push_back(std::move(origin));
    return;
  }
  auto admission = conveyor::Admit(run, settings_.worker_name, clock_.Now(), settings_.stale_after);
  if (admission == Admission::kDone) {
    done_.push_back(std::move(origin));
    return;
  }
  auto job = std::make_unique<Job>();
  job->origins.push_back(std::move(origin));
  job->seq = next_seq_++;
  switch (admission) {
    case Admission::kCancel:
      cancel_waiting_.push_back(id);
      break;
    case Admission::kRetry:
      job->place = Place::kRetrying;
      job->due = MonotonicAt(*run.not_before);
      break;
    case Admission::kWatch:
      // Its owner is alive (a rebalance moved the partition while it runs): wait for it.
      job->place = Place::kWatching;
      job->due = monotonic_.Now() + settings_.heartbeat_interval;
      break;
    default:
      break;
  }
  job->run = std::move(run);
  jobs_.emplace(id, std::move(job));
}

void RunEngine::AdmitStarted(StartedRun run, RunOrigin origin) {
  auto id = run.run.run_id.ToString();
  if (auto it = jobs_.find(id); it != jobs_.end()) {  // cannot be: the store just queued it
    it->second->origins.push_back(std::move(origin));
    return;
  }
  auto job = std::make_unique<Job>();
  job->origins.push_back(std::move(origin));
  job->seq = next_seq_++;
  job->run = run.run;
  Launch(*jobs_.emplace(id, std::move(job)).first->second, std::move(run));
}

StartOffer RunEngine::Offer() {
  StartOffer offer{settings_.worker_name, clock_.Now(), 0, {}};
  // Runs on the pool (a run whose handler returned frees its thread before Tick records it),
  // and runs waiting to start: they come first.
  std::size_t busy = running_;
  {
    std::lock_guard lock(mu_);
    busy -= std::min(busy, completions_.size());
  }
  for (const auto& [id, job] : jobs_)
    if (job->place == Place::kWaiting && !job->run.cancel_requested) ++busy;
  offer.room = settings_.concurrency > busy ? settings_.concurrency - busy : 0;
  for (const auto& [handler, limit] : settings_.handler_limits)
    if (limit > 0) offer.held_back.push_back(handler);
  return offer;
}

void RunEngine::Cancel(const Uuid& task_id) {
  for (auto& [id, job] : jobs_) {
    if (job->run.task.id != task_id) continue;
    job->run.cancel_requested = true;
    if (job->place == Place::kRunning)
      job->token->Cancel(CancelReason::kStopRequested);
    else
      cancel_waiting_.push_back(id);
  }
}

bool RunEngine::HasCompletions() {
  std::lock_guard lock(mu_);
  return !completions_.empty();
}

std::size_t RunEngine::Threads() {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void RunEngine::WaitForCompletion(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  monotonic_.WaitFor(done_cv_, lock, d, [this] { return !completions_.empty(); });
}

std::vector<RunOrigin> RunEngine::TakeDone() { return std::exchange(done_, {}); }

void RunEngine::Complete(const std::string& run_id) {
  auto it = jobs_.find(run_id);
  if (it == jobs_.end()) return;
  for (auto& o : it->second->origins) done_.push_back(std::move(o));
  jobs_.erase(it);
}

std::optional<OutgoingMessage> RunEngine::Notification(const StartedRun& run,
                                                       const RunOutcome& outcome) const {
  const Task& task = run.run.task;
  bool succeeded = outcome.state == RunState::kSucceeded;
  if (succeeded ? !NotifiesOnSuccess(task.notification) : !NotifiesOnFailure(task.notification))
    return std::nullopt;
  CloudEvent e;
  e.id = Uuid::TimeOrdered();
  e.source = settings_.source;
  e.type = succeeded                               ? kRunSucceededEvent
           : outcome.state == RunState::kCancelled ? kRunCancelledEvent
                                                   : kRunFailedEvent;
  e.subject = task.id.ToString();
  e.time = outcome.finished_at;
  e.data = {
      {"task_id", task.id.ToString()},
      {"task_number", task.number},
      {"run_id", run.run.run_id.ToString()},
      {"task_type_id", task.task_type_id.ToString()},
      {"client_id", task.client_id ? nlohmann::json(task.client_id->ToString()) : nlohmann::json()},
      {"state", RunStateName(outcome.state)},
      {"start_count", run.start_count},
      {"attempt", run.run.attempt},
      {"started_at",
       run.start_count > 0 ? nlohmann::json(FormatRfc3339(run.started_at)) : nlohmann::json()},
      {"finished_at", FormatRfc3339(outcome.finished_at)},
      {"result", outcome.result},
      {"worker", settings_.worker_name},
  };
  if (outcome.file_name) e.data["file_name"] = *outcome.file_name;
  if (auto trace = ParseTraceparent(run.run.traceparent))
    e.traceparent = NextHop(*trace).ToTraceparent();
  return OutgoingMessage{settings_.notifications_topic,
                         e.subject,
                         e.Serialize(),
                         {{"ce_type", e.type}, {"ce_id", e.id.ToString()}}};
}

OutgoingMessage RunEngine::ProgressNotification(const StartedRun& run, int percent,
                                                const std::string& description) const {
  const Task& task = run.run.task;
  CloudEvent e;
  e.id = Uuid::TimeOrdered();
  e.source = settings_.source;
  e.type = kRunProgressEvent;
  e.subject = task.id.ToString();
  e.time = clock_.Now();
  e.data = {{"task_id", task.id.ToString()},       {"task_number", task.number},
            {"run_id", run.run.run_id.ToString()}, {"start_count", run.start_count},
            {"attempt", run.run.attempt},          {"percent", percent},
            {"description", description},          {"worker", settings_.worker_name}};
  if (auto trace = ParseTraceparent(run.run.traceparent))
    e.traceparent = NextHop(*trace).ToTraceparent();
  return OutgoingMessage{settings_.notifications_topic,
                         e.subject,
                         e.Serialize(),
                         {{"ce_type", e.type}, {"ce_id", e.id.ToString()}}};
}

void RunEngine::Finish(Job& job, RunState state, std::string result,
                       std::optional<std::string> file, std::string log,
                       std::vector<FinishedRun>* out) {
  StartedRun run = job.started ? *job.started : StartedRun{job.run, job.run.start_count, {}};
  RunOutcome outcome{state, std::move(result), clock_.Now(), std::move(file), std::move(log)};
  auto note = Notification(run, outcome);
  out->push_back(FinishedRun{std::move(run), std::move(outcome), std::move(note)});
}

std::chrono::milliseconds RunEngine::Backoff(const Job& job) {
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  return RetryBackoff(job.run.policy, job.run.attempt, settings_.max_retry_backoff,
                      jitter(random_));
}

Status RunEngine::RecordCompletions() {
  std::vector<Completion> completions;
  {
    std::lock_guard lock(mu_);
    completions.swap(completions_);
  }
  if (completions.empty()) return {};
  Recording recording;
  for (const auto& c : completions) Classify(c, recording);
  Status s = store_.FinishRuns(recording.finished);
  if (s) s = store_.RetryRuns(recording.retrying);
  if (s) s = store_.ReleaseRuns(recording.released);
  if (!s) {
    // Nothing is lost: the same completions are recorded at the next Tick (each write is
    // guarded by the run's start count, so recording one twice changes nothing).
    std::lock_guard lock(mu_);
    completions_.insert(completions_.begin(), std::make_move_iterator(completions.begin()),
                        std::make_move_iterator(completions.end()));
    return s;
  }
  Report(recording);
  for (const auto& n : recording.next) Settle(n);
  bool notified = std::any_of(recording.finished.begin(), recording.finished.end(),
                              [](const FinishedRun& f) { return f.notification.has_value(); });
  if (notified && settings_.notification_written) settings_.notification_written();
  return {};
}

void RunEngine::Classify(const Completion& c, Recording& recording) {
  auto it = jobs_.find(c.run_id);
  if (it == jobs_.end() || !it->second->started ||
      it->second->started->start_count != c.start_count) {
    // An abandoned handler returned at last (the run may be held again, started anew): its
    // thread is free, its outcome is not recorded.
    if (auto a = abandoned_.find({c.run_id, c.start_count}); a != abandoned_.end()) {
      --running_;
      --running_by_handler_[a->second];
      abandoned_.erase(a);
    }
    return;
  }
  Job& job = *it->second;
  if (metrics_ && c.cancel_reason == CancelReason::kTimedOut)
    metrics_->RunTimedOut(job.run.handler);
  std::string log = c.result ? c.result->log : c.result.error().log;
  auto decision = DecideCompletion(job.run, c.result, c.cancel_reason);
  std::chrono::milliseconds delay{};
  switch (decision.kind) {
    case CompletionDecision::Kind::kRelease:
      recording.released.push_back(*job.started);
      break;
    case CompletionDecision::Kind::kRetry:
      delay = Backoff(job);
      recording.retrying.push_back(RetryingRun{*job.started, std::move(decision.result),
                                               clock_.Now() + delay, std::move(log)});
      break;
    default:
      Finish(job, decision.state, std::move(decision.result),
             c.result ? c.result->file_name : std::nullopt, std::move(log), &recording.finished);
  }
  recording.next.push_back({c.run_id, decision.kind, delay});
}

void RunEngine::Count(const Recording& recording, WorkerMetrics& metrics) {
  for (const auto& f : recording.finished) {
    std::chrono::duration<double> took = f.outcome.finished_at - f.run.started_at;
    metrics.RunFinished(f.run.run.handler, RunStateName(f.outcome.state), took.count());
  }
  for (const auto& r : recording.retrying) metrics.RunRetried(r.run.run.handler);
  for (const auto& r : recording.released) metrics.RunReleased(r.run.handler);
}

void RunEngine::Report(const Recording& recording) {
  auto log = logging::Get("worker");
  for (const auto& f : recording.finished) {
    log->info("task={} run={} trace={} {} (start {}, attempt {}): {}", f.run.run.task.id.ToString(),
              f.run.run.run_id.ToString(), TraceIdOf(f.run.run.traceparent),
              RunStateName(f.outcome.state), f.run.start_count, f.run.run.attempt,
              f.outcome.result);
    switch (f.outcome.state) {
      case RunState::kSucceeded:
        ++counters_.succeeded;
        break;
      case RunState::kCancelled:
        ++counters_.cancelled;
        break;
      default:
        ++counters_.failed;
    }
  }
  for (const auto& r : recording.retrying)
    log->warn(
        "task={} run={} trace={} {}; next attempt in {} ms", r.run.run.task.id.ToString(),
        r.run.run.run_id.ToString(), TraceIdOf(r.run.run.traceparent), r.error,
        std::chrono::duration_cast<std::chrono::milliseconds>(r.not_before - clock_.Now()).count());
  counters_.retried += recording.retrying.size();
  counters_.released += recording.released.size();
  if (metrics_) Count(recording, *metrics_);
}

void RunEngine::Settle(const Recording::Next& n) {
  Job& job = *jobs_.at(n.run_id);
  --running_;
  --running_by_handler_[job.run.handler];
  switch (n.kind) {
    case CompletionDecision::Kind::kRelease:
      // Not done: its events stay uncommitted, so the next owner consumes them again and
      // starts the run (released, it has no heartbeat to wait for).
      jobs_.erase(n.run_id);
      return;
    case CompletionDecision::Kind::kRetry:
      job.run.start_count = job.started->start_count;
      job.run.state = RunState::kRetryWait;
      job.run.attempt += 1;
      job.started.reset();
      job.token.reset();
      job.progress.reset();
      job.place = Place::kRetrying;
      job.due = monotonic_.Now() + n.delay;
      return;
    default:
      Complete(n.run_id);
  }
}

Status RunEngine::CancelWaiting() {
  if (cancel_waiting_.empty()) return {};
  std::vector<FinishedRun> finished;
  std::vector<std::string> ids;
  for (const auto& id : cancel_waiting_) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->place == Place::kRunning) continue;
    Finish(*it->second, RunState::kCancelled, "cancelled before it started", std::nullopt, {},
           &finished);
    ids.push_back(id);
  }
  if (auto s = store_.FinishRuns(finished); !s) return s;
  cancel_waiting_.clear();
  for (const auto& f : finished) {
    logging::Get("worker")->info("task={} run={} cancelled before it started",
                                 f.run.run.task.id.ToString(), f.run.run.run_id.ToString());
    ++counters_.cancelled;
    if (metrics_) metrics_->RunCancelledBeforeStart(f.run.run.handler);
  }
  for (const auto& id : ids) Complete(id);
  if (!finished.empty() && settings_.notification_written) settings_.notification_written();
  return {};
}

Result<std::map<std::string, PendingRun>> RunEngine::Reread(const std::vector<Uuid>& ids) {
  auto pending = store_.FindPendingRuns(ids);
  if (!pending) return std::unexpected(pending.error());
  std::map<std::string, PendingRun> by_id;
  for (auto& p : *pending) by_id.emplace(p.run_id.ToString(), std::move(p));
  return by_id;
}

Status RunEngine::CheckWatched() {
  auto now = monotonic_.Now();
  std::vector<Uuid> ids;
  for (auto& [id, job] : jobs_) {
    if (job->place == Place::kRetrying && job->due <= now) job->place = Place::kWaiting;
    if (job->place == Place::kWatching && job->due <= now) ids.push_back(job->run.run_id);
  }
  if (ids.empty()) return {};
  auto by_id = Reread(ids);
  if (!by_id) return std::unexpected(by_id.error());
  for (const auto& uuid : ids) {
    auto id = uuid.ToString();
    auto it = by_id->find(id);
    if (it == by_id->end()) {  // its owner finished it
      Complete(id);
      continue;
    }
    Job& job = *jobs_.at(id);
    job.run = std::move(it->second);
    job.place = Place::kWaiting;  // StartRuns decides whether its owner is still alive
  }
  return {};
}

// Puts a run that was just started in the store on the pool.
void RunEngine::Launch(Job& job, StartedRun started) {
  auto log = logging::Get("worker");
  job.started = std::move(started);
  job.place = Place::kRunning;
  job.token = std::make_shared<CancellationToken>();
  job.progress = std::make_shared<Progress>();
  job.deadline =
      job.run.policy.timeout ? monotonic_.Now() + *job.run.policy.timeout : MonotonicTime::max();
  ++running_;
  ++running_by_handler_[job.run.handler];
  ++counters_.started;
  if (metrics_) metrics_->RunStarted(job.run.handler);
  if (job.started->start_count > 1)
    log->warn("task={} run={} started again (start {}): its previous start did not finish",
              job.run.task.id.ToString(), job.run.run_id.ToString(), job.started->start_count);

  Handler* handler = handlers_.Find(job.run.handler);
  auto run_id = job.run.run_id.ToString();
  int start_count = job.started->start_count;
  if (!handler) {
    std::lock_guard lock(mu_);
    completions_.push_back(
        {run_id, start_count,
         std::unexpected(HandlerFailure{
             "no handler '" + job.run.handler + "' on worker " + settings_.worker_name, false, {}}),
         CancelReason::kNone});
    return;
  }
  // The closure owns what the handler touches, so an abandoned run cannot dangle.
  auto task = std::make_shared<Task>(job.run.task);
  auto uuid = std::make_shared<Uuid>(job.run.run_id);
  auto token = job.token;
  auto progress = job.progress;
  int attempt = job.run.attempt;
  auto deadline = job.deadline;
  std::lock_guard lock(mu_);
  queue_.push_back([handler, task, uuid, token, progress, attempt, deadline, run_id,
                    start_count]() -> Completion {
    HandlerContext context{*task, *uuid, start_count, attempt, *progress, *token, deadline};
    HandlerResult result = [&]() -> HandlerResult {
      try {
        return handler->Run(context);
      } catch (const std::exception& e) {
        return std::unexpected(
            HandlerFailure{std::string("handler threw: ") + e.what(), false, {}});
      }
    }();
    return {run_id, start_count, std::move(result), token->reason()};
  });
  WakeOneLocked();
}

Status RunEngine::StartWaiting() {
  std::vector<Job*> candidates;
  for (auto& [id, job] : jobs_)
    if (job->place == Place::kWaiting && !job->run.cancel_requested)
      candidates.push_back(job.get());
  std::sort(candidates.begin(), candidates.end(),
            [](const Job* a, const Job* b) { return a->seq < b->seq; });
  std::vector<WaitingRun> waiting;
  for (const Job* job : candidates) waiting.push_back({job->run.handler});
  std::size_t room = settings_.concurrency > running_ ? settings_.concurrency - running_ : 0;
  auto start = ChooseRunsToStart(waiting, room, running_by_handler_, settings_.handler_limits);
  std::vector<Job*> chosen;
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (start[i]) chosen.push_back(candidates[i]);
  if (chosen.empty()) return {};
  std::vector<PendingRun> runs;
  for (auto* j : chosen) runs.push_back(j->run);
  auto started = store_.StartRuns(runs, settings_.worker_name, clock_.Now(), settings_.stale_after);
  if (!started) return std::unexpected(started.error());

  std::vector<Uuid> not_started;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (!(*started)[i]) {
      not_started.push_back(chosen[i]->run.run_id);
      continue;
    }
    Launch(*chosen[i], std::move(*(*started)[i]));
  }
  if (not_started.empty()) return {};
  // Finished meanwhile, cancelled, or started by a worker that is still alive: look again.
  auto by_id = Reread(not_started);
  if (!by_id) return std::unexpected(by_id.error());
  for (const auto& uuid : not_started) {
    auto id = uuid.ToString();
    auto it = by_id->find(id);
    if (it == by_id->end()) {
      Complete(id);
      continue;
    }
    Job& job = *jobs_.at(id);
    job.run = std::move(it->second);
    if (job.run.cancel_requested) {
      cancel_waiting_.push_back(id);
      continue;
    }
    job.place = Place::kWatching;
    job.due = monotonic_.Now() + settings_.heartbeat_interval;
  }
  return {};
}

Status RunEngine::SendHeartbeats(bool all) {
  auto now = monotonic_.Now();
  std::vector<RunHeartbeat> beats;
  std::vector<OutgoingMessage> notes;
  for (auto& [id, job] : jobs_) {
    if (job->place != Place::kRunning) continue;
    RunHeartbeat b{job->run.run_id, job->started->start_count, std::nullopt, {}};
    if (auto p =
            job->progress->TakeIfDue(now, settings_.progress_interval, settings_.progress_step)) {
      b.percent = p->first;
      b.description = std::move(p->second);
      if (NotifiesOnProgress(job->run.task.notification))
        notes.push_back(ProgressNotification(*job->started, p->first, b.description));
    }
    if (all || b.percent) beats.push_back(std::move(b));
  }
  auto s = store_.Heartbeat(beats, clock_.Now(), notes);
  if (s && !notes.empty() && settings_.notification_written) settings_.notification_written();
  return s;
}

Status RunEngine::Tick() {
  {
    // A run queued when no thread could be started (WakeOneLocked) gets one now.
    std::lock_guard lock(mu_);
    if (!queue_.empty()) WakeOneLocked();
  }
  if (auto s = RecordCompletions(); !s) return s;
  if (auto s = CancelWaiting(); !s) return s;
  auto now = monotonic_.Now();
  for (auto& [id, job] : jobs_)
    if (job->place == Place::kRunning && now >= job->deadline)
      job->token->Cancel(CancelReason::kTimedOut);
  if (auto s = CheckWatched(); !s) return s;
  if (auto s = StartWaiting(); !s) return s;
  bool all = !last_heartbeat_ || now - *last_heartbeat_ >= settings_.heartbeat_interval;
  if (all || !last_progress_ || now - *last_progress_ >= std::chrono::milliseconds(100)) {
    if (auto s = SendHeartbeats(all); !s) return s;
    last_progress_ = now;
    if (all) last_heartbeat_ = now;
  }
  return {};
}

void RunEngine::Relinquish(const std::function<bool(const RunOrigin&)>& matches,
                           std::chrono::milliseconds grace, std::chrono::milliseconds hard_limit) {
  auto log = logging::Get("worker");
  auto concerned = [&](const Job& j) { return !j.origins.empty() && matches(j.origins.front()); };
  // Not started: drop. The events stay uncommitted; the next owner consumes them again.
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->second->place != Place::kRunning && concerned(*it->second))
      it = jobs_.erase(it);
    else
      ++it;
  }
  std::erase_if(cancel_waiting_, [&](const std::string& id) { return !jobs_.contains(id); });
  auto count_running = [&] {
    std::size_t n = 0;
    for (auto& [id, job] : jobs_) n += concerned(*job) ? 1 : 0;
    return n;
  };
  auto start = monotonic_.Now();
  bool cancelled = false;
  while (count_running() > 0) {
    auto elapsed = monotonic_.Now() - start;
    if (!cancelled && elapsed >= grace) {
      log->info("cancelling {} run(s) still running after the {} ms grace period", count_running(),
                grace.count());
      for (auto& [id, job] : jobs_)
        if (concerned(*job)) job->token->Cancel(CancelReason::kShutdown);
      cancelled = true;
    }
    if (elapsed >= grace + hard_limit) {
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (!concerned(*it->second)) {
          ++it;
          continue;
        }
        log->error("task={} run={}: its handler ignored cancellation; abandoned",
                   it->second->run.task.id.ToString(), it->first);
        // Its thread stays taken until the handler returns: it still counts as running.
        abandoned_.emplace(std::pair{it->first, it->second->started->start_count},
                           it->second->run.handler);
        it = jobs_.erase(it);
      }
      break;
    }
    WaitForCompletion(std::chrono::milliseconds(50));
    if (auto s = RecordCompletions(); !s) log->warn("{}", s.error().Describe());
  }
}

}  // namespace conveyor

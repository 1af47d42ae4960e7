#include "scheduler.h"

#include <algorithm>

#include "conveyor/cloud_event.h"
#include "conveyor/logging.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "conveyor/trace_context.h"

namespace conveyor {

Scheduler::Scheduler(SchedulerSettings settings, ScheduleStore& store, EventPublisher& publisher,
                     const Clock& clock, WorkerMetrics* metrics)
    : settings_(std::move(settings)),
      store_(store),
      publisher_(publisher),
      clock_(clock),
      metrics_(metrics) {}

Scheduler::~Scheduler() { Stop(); }

Result<std::size_t> Scheduler::Pass() {
  auto now = clock_.Now();
  std::size_t fired = 0;
  auto claimed = store_.ClaimDue(now, settings_.batch, [&](std::vector<DueSchedule> due) {
    return Fire(std::move(due), now, &fired);
  });
  if (!claimed) return std::unexpected(claimed.error());
  return fired;
}

// The fire commands of the due schedules, published together; the advances to record once
// Kafka acknowledged all of them.
Result<std::vector<ScheduleAdvance>> Scheduler::Fire(std::vector<DueSchedule> due, Timestamp now,
                                                     std::size_t* fired) {
  std::vector<ScheduleAdvance> advances;
  std::vector<OutgoingMessage> messages;
  std::vector<Timestamp> due_times;
  for (const auto& d : due) {
    ScheduleAdvance advance{d.task.id, std::nullopt, std::nullopt};
    auto schedule = ScheduleOf(d.task, d.task.created_at);
    if (!schedule) {  // refused by the API before it was accepted: nothing more to fire
      logging::Get("scheduler")
          ->error("task={} has a schedule that does not compile, and fires no more: {}",
                  d.task.id.ToString(), schedule.error().Describe());
      advances.push_back(advance);
      continue;
    }
    auto plan = PlanFiring(d.task, *schedule, d.next_due, now);
    for (auto at : plan.due) {
      CloudEvent e;
      e.id = FireEventId(d.task.id, at);
      e.source = settings_.source;
      e.type = kTaskFireCommand;
      e.subject = d.task.id.ToString();
      e.time = now;
      e.data = FireToEventData({d.task.id, at, false, "scheduler:" + settings_.worker_name});
      e.traceparent = NewTrace().ToTraceparent();  // a due time starts a trace of its own
      messages.push_back({settings_.commands_topic,
                          e.subject,
                          e.Serialize(),
                          {{"ce_type", e.type}, {"ce_id", e.id.ToString()}}});
    }
    due_times.insert(due_times.end(), plan.due.begin(), plan.due.end());
    if (!plan.due.empty()) advance.last_fired = plan.due.back();
    advance.next_due = plan.next;
    advances.push_back(advance);
  }
  for (const auto& r : publisher_.PublishAll(messages))
    if (!r) return std::unexpected(r.error());
  *fired = messages.size();
  if (metrics_) {
    auto acknowledged = clock_.Now();
    for (auto at : due_times)
      metrics_->Fired(std::chrono::duration<double>(acknowledged - at).count());
  }
  return advances;
}

std::chrono::milliseconds Scheduler::WaitAfterPass() {
  auto earliest = store_.EarliestDue();
  if (!earliest || !*earliest) return settings_.idle_poll;
  auto until = std::chrono::duration_cast<std::chrono::milliseconds>(**earliest - clock_.Now());
  return std::clamp(until, std::chrono::milliseconds(0), settings_.idle_poll);
}

void Scheduler::Start() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Loop() {
  auto log = logging::Get("scheduler");
  while (true) {
    auto fired = Pass();
    if (!fired)
      log->warn("pass failed, nothing recorded; trying again: {}", fired.error().Describe());
    // A full batch: more may be due at once.
    auto wait = fired && *fired >= settings_.batch ? std::chrono::milliseconds(0) : WaitAfterPass();
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace conveyor

// The Scheduler fires the due times of tasks that run on a schedule (docs/scheduling.md).
// Every worker runs one, and any number may run at once: none of them is a leader, and none
// needs to be, because a duplicate firing cannot make a second run.
//
// A pass claims the schedules that are due and that no other scheduler holds (ScheduleStore),
// decides for each what to fire (PlanFiring: the catch-up policy, FinishDate), publishes one
// conveyor.task.fire command per due time with the id FireEventId derives from the task and
// the due time, and records each schedule's next due time, in the claim's transaction, only
// once Kafka acknowledged every command. A scheduler that dies after publishing and before
// recording leaves the schedules as they were: the next pass publishes the same ids again, and
// the workers' inbox (event id) and the runs' key (run id = event id) keep one run per due
// time. A scheduler that cannot publish records nothing and tries again at its next pass.
//
// Start runs passes on a thread of its own until Stop; Pass is one pass (tests). Thread-safe
// as far as Start/Stop go; Pass is called from one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/event_publisher.h"
#include "conveyor/result.h"
#include "conveyor/task.h"
#include "worker_metrics.h"

namespace conveyor {

struct SchedulerSettings {
  std::string worker_name;  // requested_by "scheduler:<name>"
  std::string source;       // CloudEvents source of the fire commands
  std::string commands_topic = "conveyor.commands";
  std::size_t batch = 500;                    // schedules claimed per pass
  std::chrono::milliseconds idle_poll{1000};  // longest wait between passes
};

// A schedule whose earliest unfired due time has come, with its task.
struct DueSchedule {
  Task task;
  Timestamp next_due;
};

// What a pass decided for a claimed schedule: its next due time (std::nullopt: none left) and
// the latest due time it fired (std::nullopt: none).
struct ScheduleAdvance {
  Uuid task_id;
  std::optional<Timestamp> next_due;
  std::optional<Timestamp> last_fired;
};

// The schedules' side of the store. PgScheduleStore is the PostgreSQL adapter.
class ScheduleStore {
 public:
  using FireFn = std::function<Result<std::vector<ScheduleAdvance>>(std::vector<DueSchedule>)>;
  virtual ~ScheduleStore() = default;
  // In one transaction: claims up to `limit` schedules due at `now` that no other claim holds,
  // passes them to `fire`, and records the advances it returns; records nothing when `fire`
  // fails (returned as is). Returns how many schedules it claimed.
  virtual Result<std::size_t> ClaimDue(Timestamp now, std::size_t limit, const FireFn& fire) = 0;
  // The earliest next due time of any schedule; std::nullopt when none is due ever.
  virtual Result<std::optional<Timestamp>> EarliestDue() = 0;
};

class Scheduler {
 public:
  // `metrics` may be null (nothing is counted); what the arguments name must outlive it.
  Scheduler(SchedulerSettings settings, ScheduleStore& store, EventPublisher& publisher,
            const Clock& clock, WorkerMetrics* metrics = nullptr);
  ~Scheduler();  // Stop()

  // One pass: the number of due times fired. An error (database or broker away) leaves
  // every schedule as it was.
  Result<std::size_t> Pass();
  void Start();
  void Stop();

 private:
  Result<std::vector<ScheduleAdvance>> Fire(std::vector<DueSchedule> due, Timestamp now,
                                            std::size_t* fired);
  std::chrono::milliseconds WaitAfterPass();
  void Loop();

  SchedulerSettings settings_;
  ScheduleStore& store_;
  EventPublisher& publisher_;
  const Clock& clock_;
  WorkerMetrics* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conveyor

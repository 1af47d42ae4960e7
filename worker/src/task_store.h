// The worker's port to its state: applying command events to the projection (with the
// inbox that makes redelivery a no-op), and recording runs and their notifications.
// PgTaskStore (pg_task_store.h) is the PostgreSQL adapter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/cloud_event.h"
#include "conveyor/event_publisher.h"
#include "conveyor/result.h"
#include "conveyor/run_state.h"
#include "conveyor/task.h"

namespace conveyor {

enum class CommandKind {
  kCreate,       // conveyor.task.create: `task` is the whole task
  kCancel,       // conveyor.task.cancel: `task.id` names the task to stop
  kUpdate,       // conveyor.task.update: `update` says what changes of task `task.id`
  kDelete,       // conveyor.task.delete: `task.id` names the task to delete
  kAddNote,      // conveyor.task.note.add: `note` (and `task.id`, its task)
  kBatchUpdate,  // conveyor.task.batch-update: `batch_update` says what changes of `task.id`
  kFire,         // conveyor.task.fire: `fire` asks for one run of `task.id` for a due time
};

struct IncomingCommand {
  CommandKind kind = CommandKind::kCreate;
  CloudEvent event;
  Task task;                     // decoded from event.data (only task.id for cancel and delete)
  TaskUpdate update;             // kUpdate only
  TaskNote note;                 // kAddNote only
  BatchTaskUpdate batch_update;  // kBatchUpdate only
  TaskFire fire;                 // kFire only
  // kCreate and kUpdate of a task that runs on a schedule: its next due time as the command
  // leaves the schedule (an inner std::nullopt: none left), decided from the event
  // (CommandProcessor). Not set for a task that does not run on a schedule: a create then
  // queues its run at once. The store records no next due time for a disabled task.
  std::optional<std::optional<Timestamp>> next_due_at;
  std::string requested_by;  // kUpdate, kBatchUpdate, kCancel and kDelete
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  // The event as it was consumed, kept in the inbox; empty: event.Serialize() is kept.
  std::string payload;
};

enum class ApplyOutcome {
  kApplied,    // new: its effects are recorded
  kDuplicate,  // seen before (inbox row exists): nothing changed
  kRejected,   // cannot be applied (e.g. unknown task type): nothing changed, see reason
};

// What the task's type says about running it.
struct RunPolicy {
  std::optional<std::chrono::seconds> timeout;
  int max_attempts = 1;
  std::chrono::milliseconds retry_backoff{1000};
};

// A run that is not final, with what executing it needs.
struct PendingRun {
  Uuid run_id;
  Task task;
  std::string handler;
  RunPolicy policy;
  RunState state = RunState::kQueued;
  int start_count = 0;
  int attempt = 1;
  std::string worker;                     // who started it last
  std::optional<Timestamp> heartbeat_at;  // that worker's last sign of life with it
  std::optional<Timestamp> not_before;    // retry_wait: when the next attempt may start
  bool cancel_requested = false;
  std::string traceparent;  // of the command that made the run (trace_context.h), or empty
};

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  std::string reason;  // for kRejected
  // For a kApplied create whose run the store queued (or a fire whose run it started), that
  // run as it now stands, so that the caller need not read it back; std::nullopt otherwise
  // (FindPendingRuns reads it).
  std::optional<PendingRun> queued_run;
  // The store also started that run, as the StartOffer allowed: queued_run is in state
  // started, start count 1, owned by the offer's worker since the offer's time.
  bool started = false;
};

// What a worker can take on at once, offered to ApplyBatch: up to `room` of the runs that the
// batch's fresh creates and fires queue are written started by `worker` at `at` (start count
// 1) in the statement that queues them, creates first, saving their start's own statement. A
// create whose task another command of the batch names, a fire whose task has a live run, or
// a run whose type's handler is in `held_back` (a handler with a limit of its own) is queued
// as usual. Room 0 (the default) starts none.
struct StartOffer {
  std::string worker;
  Timestamp at;
  std::size_t room = 0;
  std::vector<std::string> held_back;
};

struct StartedRun {
  PendingRun run;
  int start_count = 0;  // after this start
  Timestamp started_at;
};

struct RunOutcome {
  RunState state = RunState::kSucceeded;  // succeeded, failed or cancelled
  std::string result;
  Timestamp finished_at;
  std::optional<std::string> file_name;
  std::string log;
};

// A run's final outcome. `run.start_count` is the start this outcome belongs to; for a run
// that never started (cancelled while waiting) it is the start count that was read.
struct FinishedRun {
  StartedRun run;
  RunOutcome outcome;
  std::optional<OutgoingMessage> notification;
};

// A failed attempt with attempts left: the run waits until not_before, then starts again.
struct RetryingRun {
  StartedRun run;
  std::string error;
  Timestamp not_before;
  std::string log;
};

// A running run's sign of life, with its progress when that changed.
struct RunHeartbeat {
  Uuid run_id;
  int start_count = 0;
  std::optional<int> percent;
  std::string description;
};

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Applies the commands in order in one transaction; one result per command. A command
  // that cannot be applied is rejected alone (the others still apply). kUnavailable when
  // the database did not answer: nothing was applied and the batch may be retried.
  // Update: replaces the task's fields; enabled false requests the cancel of its live runs;
  // enabled true on a disabled task with no run that succeeded, failed or is live (not being
  // cancelled) queues a run whose id is the event id. Delete: marks the task deleted and
  // requests the cancel of its live runs. Batch update: sets the fields it carries; stop
  // requests the cancel of the live runs; run_again queues a run whose id is the event id when
  // the task has no live run, and clears the response unless the update sets one. Each
  // changes nothing for a task that does not exist or was deleted. Update rejects an
  // unregistered task type. Runs of fresh creates start at once as `offer` allows.
  virtual Result<std::vector<ApplyResult>> ApplyBatch(const std::vector<IncomingCommand>& commands,
                                                      const StartOffer& offer) = 0;
  // Queues every run; starts none.
  Result<std::vector<ApplyResult>> ApplyBatch(const std::vector<IncomingCommand>& commands) {
    return ApplyBatch(commands, StartOffer{});
  }

  // The runs among `run_ids` that are not yet final, with their tasks, handlers and policies.
  virtual Result<std::vector<PendingRun>> FindPendingRuns(const std::vector<Uuid>& run_ids) = 0;

  // The runs of these tasks that are not yet final.
  virtual Result<std::vector<PendingRun>> FindPendingRunsOfTasks(
      const std::vector<Uuid>& task_ids) = 0;

  // Marks each run started by `worker` and counts the start, in one transaction. A run starts
  // only when it is still as it was read (same start count), no cancel was requested, and it
  // is queued or waiting to retry, or started by a worker that stopped heartbeating more than
  // `stale_after` ago (or by `worker` itself before a restart). std::nullopt for a run that
  // may not start now.
  virtual Result<std::vector<std::optional<StartedRun>>> StartRuns(
      const std::vector<PendingRun>& runs, const std::string& worker, Timestamp now,
      std::chrono::milliseconds stale_after) = 0;

  // Records the outcomes, each task's last run, and the notifications in the outbox, in one
  // transaction. A run whose start count moved on since (started again elsewhere) is left to
  // that start's owner.
  virtual Status FinishRuns(const std::vector<FinishedRun>& runs) = 0;

  // Puts failed attempts into retry_wait with the next attempt number, in one transaction.
  virtual Status RetryRuns(const std::vector<RetryingRun>& runs) = 0;

  // Records the heartbeat (and changed progress) of runs `worker` is running, and the
  // progress notifications in the outbox, in one transaction.
  virtual Status Heartbeat(const std::vector<RunHeartbeat>& runs, Timestamp now,
                           const std::vector<OutgoingMessage>& notifications) = 0;

  // Gives up runs this worker stopped without an outcome (shutdown, lost partition): they
  // stay started, but with no heartbeat, so the next owner starts them again at once.
  virtual Status ReleaseRuns(const std::vector<StartedRun>& runs) = 0;
};

}  // namespace conveyor

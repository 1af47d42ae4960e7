// The worker's port to its state: applying command events to the projection (with the
// inbox that makes redelivery a no-op), and recording runs and their notifications.
// PgTaskStore (pg_task_store.h) is the PostgreSQL adapter.
#pragma once

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

struct IncomingCommand {
  CloudEvent event;
  Task task;  // decoded from event.data
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

enum class ApplyOutcome {
  kApplied,    // new: its effects are recorded
  kDuplicate,  // seen before (inbox row exists): nothing changed
  kRejected,   // cannot be applied (e.g. unknown task type): nothing changed, see reason
};

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  std::string reason;  // for kRejected
};

// A run that is not final, with what executing it needs.
struct PendingRun {
  Uuid run_id;
  Task task;
  std::string handler;
  RunState state = RunState::kQueued;
  int start_count = 0;
};

struct StartedRun {
  PendingRun run;
  int start_count = 0;  // after this start
  Timestamp started_at;
};

struct RunOutcome {
  RunState state = RunState::kSucceeded;  // succeeded or failed
  std::string result;
  Timestamp finished_at;
};

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Applies the commands in order in one transaction; one result per command. A command
  // that cannot be applied is rejected alone (the others still apply). kUnavailable when
  // the database did not answer: nothing was applied and the batch may be retried.
  virtual Result<std::vector<ApplyResult>> ApplyBatch(
      const std::vector<IncomingCommand>& commands) = 0;

  // The runs among `run_ids` that are not yet final (queued, or started by an owner that
  // died), with their tasks and handlers.
  virtual Result<std::vector<PendingRun>> FindPendingRuns(const std::vector<Uuid>& run_ids) = 0;

  // Marks the run started by `worker` and counts the start. std::nullopt when the run is
  // already final (another worker finished it).
  virtual Result<std::optional<StartedRun>> StartRun(const PendingRun& run,
                                                     const std::string& worker, Timestamp now) = 0;

  // Records the outcome, the task's last run, and (when given) the notification in the
  // outbox, in one transaction. Records nothing when the run was started again elsewhere
  // since (its start count moved on): that start's owner records the outcome.
  virtual Status FinishRun(const StartedRun& run, const RunOutcome& outcome,
                           const std::optional<OutgoingMessage>& notification) = 0;
};

}  // namespace conveyor

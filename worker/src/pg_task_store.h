// TaskStore on PostgreSQL (libpqxx). Each call takes a connection from the pool for its
// own transaction, and works on many rows with one statement where it can (arrays bound as
// parameters and unnest()), so a poll batch costs a handful of round trips, not one per event.
// A call that is a single statement runs it in autocommit (atomic by itself, one round trip
// instead of BEGIN, statement, COMMIT). The class is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "conveyor/pg.h"
#include "task_state.h"
#include "task_store.h"

namespace conveyor {

// What the worker needs of a task type to run its tasks.
struct TaskTypeFacts {
  std::string handler;
  RunPolicy policy;
};

// With `state` enabled, every call that changes what the API shows of a task also writes the
// task's state event (task_state.h) to the outbox in its transaction; the calls that are one
// statement in autocommit then run in a transaction instead.
class PgTaskStore final : public TaskStore {
 public:
  explicit PgTaskStore(PgPool& pool, TaskStateSettings state = {}, const Clock* clock = nullptr)
      : pool_(pool), state_(std::move(state)), clock_(clock ? clock : &system_clock_) {}

  using TaskStore::ApplyBatch;
  Result<std::vector<ApplyResult>> ApplyBatch(const std::vector<IncomingCommand>& commands,
                                              const StartOffer& offer) override;
  Result<std::vector<PendingRun>> FindPendingRuns(const std::vector<Uuid>& run_ids) override;
  Result<std::vector<PendingRun>> FindPendingRunsOfTasks(
      const std::vector<Uuid>& task_ids) override;
  Result<std::vector<std::optional<StartedRun>>> StartRuns(
      const std::vector<PendingRun>& runs, const std::string& worker, Timestamp now,
      std::chrono::milliseconds stale_after) override;
  Status FinishRuns(const std::vector<FinishedRun>& runs) override;
  Status RetryRuns(const std::vector<RetryingRun>& runs) override;
  Status Heartbeat(const std::vector<RunHeartbeat>& runs, Timestamp now,
                   const std::vector<OutgoingMessage>& notifications) override;
  Status ReleaseRuns(const std::vector<StartedRun>& runs) override;

 private:
  Result<std::vector<PendingRun>> FindPending(const std::string& where,
                                              const std::vector<Uuid>& ids);
  // A transaction when the changes of a task take turns (task-state events or the journal
  // are written: TaskStateSettings::serializes_tasks), autocommit otherwise.
  std::unique_ptr<pqxx::transaction_base> BeginWrite(pqxx::connection& conn) const;
  // The state events of `tasks` (each once), after the change `tx` made to them
  // (WriteTaskStates).
  void WriteStates(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks) const;
  // The tasks' row locks (LockTasks), before their runs are changed, when their changes take
  // turns.
  void LockTasksIfSerialized(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks) const;

  PgPool& pool_;
  TaskStateSettings state_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::mutex types_mutex_;
  // The task types seen to exist, by id: types are never deleted nor changed.
  std::map<std::string, TaskTypeFacts> types_;
};

}  // namespace conveyor

// The RetentionStore in PostgreSQL (retention.h): which tasks are done is one statement, each
// delete a bounded batch. Thread-safe.
#pragma once

#include "conveyor/pg.h"
#include "retention.h"
#include "task_state.h"

namespace conveyor {

// The statement that removes the tasks `chosen` selects (a SELECT of their ids) with their
// notes, runs and schedules; it returns each removed task's id, and whether it was not deleted
// before.
std::string PurgeTasksStatement(std::string_view chosen);

// With `state` enabled, a task it deletes that was not deleted before (a done task past the
// retention) gets a tombstone on the task-state topic, in the delete's transaction.
class PgRetentionStore final : public RetentionStore {
 public:
  explicit PgRetentionStore(PgPool& pool, TaskStateSettings state = {})
      : pool_(pool), state_(std::move(state)) {}
  Result<bool> WithPassLock(const std::function<Status()>& pass) override;
  Result<std::size_t> DeleteDoneTasks(Timestamp before, std::size_t batch) override;
  Result<std::size_t> DeleteInbox(Timestamp before, std::size_t batch) override;

 private:
  PgPool& pool_;
  TaskStateSettings state_;
};

}  // namespace conveyor

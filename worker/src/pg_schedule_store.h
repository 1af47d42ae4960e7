// The PostgreSQL adapter of ScheduleStore (scheduler.h) over the schedules table (migration
// 0011). A claim is a transaction holding the due rows with FOR UPDATE SKIP LOCKED, so that
// schedulers running at once take different rows; the index on next_due_at is all a pass reads
// when nothing is due. Thread-safe: each call takes its own connection from the pool.
#pragma once

#include "conveyor/pg.h"
#include "scheduler.h"
#include "task_state.h"

namespace conveyor {

// With `state` enabled, a claim also writes the state events of the tasks it advanced (their
// next due time is what the API shows as NextRunOn), in its transaction.
class PgScheduleStore final : public ScheduleStore {
 public:
  explicit PgScheduleStore(PgPool& pool, TaskStateSettings state = {})
      : pool_(pool), state_(std::move(state)) {}
  Result<std::size_t> ClaimDue(Timestamp now, std::size_t limit, const FireFn& fire) override;
  Result<std::optional<Timestamp>> EarliestDue() override;

 private:
  PgPool& pool_;
  TaskStateSettings state_;
};

}  // namespace conveyor

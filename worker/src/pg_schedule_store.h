// The PostgreSQL adapter of ScheduleStore (scheduler.h) over the schedules table (migration
// 0011). A claim is a transaction holding the due rows with FOR UPDATE SKIP LOCKED, so that
// schedulers running at once take different rows; the index on next_due_at is all a pass reads
// when nothing is due. Thread-safe: each call takes its own connection from the pool.
#pragma once

#include "conveyor/pg.h"
#include "scheduler.h"

namespace conveyor {

class PgScheduleStore final : public ScheduleStore {
 public:
  explicit PgScheduleStore(PgPool& pool) : pool_(pool) {}
  Result<std::size_t> ClaimDue(Timestamp now, std::size_t limit, const FireFn& fire) override;
  Result<std::optional<Timestamp>> EarliestDue() override;

 private:
  PgPool& pool_;
};

}  // namespace conveyor

// The PostgreSQL adapter of AcceptedWrites, and of UnappliedCreates (CreateRedrive's):
// accepted_tasks and accepted_notes (migration 0010). Thread-safe: each call takes its own
// connection from the pool.
#pragma once

#include "commands/accepted_writes.h"
#include "commands/unapplied_creates.h"
#include "conveyor/pg.h"

namespace conveyor {

class PgAcceptedWrites final : public AcceptedWrites, public UnappliedCreates {
 public:
  explicit PgAcceptedWrites(PgPool& pool) : pool_(pool) {}
  Status Record(const std::vector<AcceptedTask>& tasks,
                const std::vector<AcceptedNote>& notes) override;
  Result<std::vector<AcceptedTask>> Unapplied(const UnappliedQuery& query) override;

 private:
  PgPool& pool_;
};

}  // namespace conveyor

// TaskStore on PostgreSQL (libpqxx). Each call takes a connection from the pool for its
// own transaction; the class is thread-safe.
#pragma once

#include "conveyor/pg.h"
#include "task_store.h"

namespace conveyor {

class PgTaskStore final : public TaskStore {
 public:
  explicit PgTaskStore(PgPool& pool) : pool_(pool) {}

  Result<std::vector<ApplyResult>> ApplyBatch(
      const std::vector<IncomingCommand>& commands) override;
  Result<std::vector<PendingRun>> FindPendingRuns(const std::vector<Uuid>& run_ids) override;
  Result<std::optional<StartedRun>> StartRun(const PendingRun& run, const std::string& worker,
                                             Timestamp now) override;
  Status FinishRun(const StartedRun& run, const RunOutcome& outcome,
                   const std::optional<OutgoingMessage>& notification) override;

 private:
  PgPool& pool_;
};

}  // namespace conveyor

// The RetentionStore in PostgreSQL (retention.h): which tasks are done is one statement, each
// delete a bounded batch. Thread-safe.
#pragma once

#include "conveyor/pg.h"
#include "retention.h"

namespace conveyor {

class PgRetentionStore final : public RetentionStore {
 public:
  explicit PgRetentionStore(PgPool& pool) : pool_(pool) {}
  Result<bool> WithPassLock(const std::function<Status()>& pass) override;
  Result<std::size_t> DeleteDoneTasks(Timestamp before, std::size_t batch) override;
  Result<std::size_t> DeleteInbox(Timestamp before, std::size_t batch) override;

 private:
  PgPool& pool_;
};

}  // namespace conveyor

// PostgreSQL adapters of the producer's ports: the task-type catalogue and the task number
// allocator. Both are thread-safe.
#pragma once

#include <mutex>
#include <unordered_map>

#include "commands/task_commands.h"
#include "conveyor/pg.h"

namespace conveyor {

// Reads and adds task_types; remembers the types it found (types are never deleted or changed
// in this version). Registration writes straight to PostgreSQL rather than through a command
// event: the catalogue is configuration, and a type must be usable as soon as its registration
// is answered (docs/adr/0004).
class PgTaskTypeCatalog final : public TaskTypeCatalog {
 public:
  explicit PgTaskTypeCatalog(PgPool& pool) : pool_(pool) {}
  Result<std::optional<TaskType>> Find(const Uuid& id) override;
  Result<TaskType> Register(TaskType type) override;
  Result<std::vector<TaskType>> List() override;

 private:
  PgPool& pool_;
  std::mutex mutex_;         // guards known_
  std::mutex lookup_mutex_;  // one lookup of an unknown type at a time (see Find)
  std::unordered_map<Uuid, TaskType> known_;
};

// Takes a block of 1,000 numbers per round trip from the task_number_blocks sequence.
class PgTaskNumberAllocator final : public TaskNumberAllocator {
 public:
  explicit PgTaskNumberAllocator(PgPool& pool) : pool_(pool) {}
  Result<std::int64_t> Next() override;
  // Kept in idempotent_task_numbers (migration 0013) for kIdempotencyKeptFor, as the keys
  // are (DropExpiredIdempotencyRows).
  Result<std::int64_t> NumberFor(const Uuid& task_id) override;

  static constexpr std::int64_t kBlockSize = 1000;  // the sequence's INCREMENT BY

 private:
  PgPool& pool_;
  std::mutex mutex_;
  std::int64_t next_ = 0;
  std::int64_t end_ = 0;
};

}  // namespace conveyor

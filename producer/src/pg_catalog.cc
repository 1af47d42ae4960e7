#include "pg_catalog.h"

namespace conveyor {

Result<std::optional<TaskType>> PgTaskTypeCatalog::Find(const Uuid& id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = known_.find(id); it != known_.end()) return std::optional<TaskType>(it->second);
  }
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = tx.exec_params("SELECT name, handler FROM task_types WHERE id = $1", id.ToString());
    if (rows.empty()) return std::optional<TaskType>();
    TaskType type{id, rows[0][0].c_str(), rows[0][1].c_str()};
    std::lock_guard lock(mutex_);
    known_.emplace(id, type);
    return std::optional<TaskType>(type);
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading task type " + id.ToString()));
  }
}

Result<std::int64_t> PgTaskNumberAllocator::Next() {
  std::lock_guard lock(mutex_);
  if (next_ >= end_) {
    auto lease = pool_.Acquire();
    if (!lease) return std::unexpected(lease.error());
    try {
      pqxx::nontransaction tx(**lease);
      auto start = tx.exec1("SELECT nextval('task_number_blocks')")[0].as<std::int64_t>();
      next_ = start;
      end_ = start + kBlockSize;
    } catch (const std::exception& e) {
      return std::unexpected(PgError(e, "allocating task numbers"));
    }
  }
  return next_++;
}

}  // namespace conveyor

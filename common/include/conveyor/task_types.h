// The catalogue of task types (TwoSms TaskID, Oracle taskType, SuperOffice task Name).
// A type names the handler that runs its tasks. Built-in types have fixed ids, listed in
// docs/task-types.md and created by migration 0001.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct TaskType {
  Uuid id;
  std::int64_t number = 0;  // the integer id (Oracle taskType.id): noop 1, sleep 2, then 1000 on
  std::string name;
  std::string handler;
  std::optional<int> timeout_seconds;      // none: runs may take as long as they take
  int max_attempts = 1;                    // 1: no retries
  int retry_backoff_ms = 1000;             // the first retry's wait; doubles per attempt
  std::string cancellation = "CanCancel";  // CanCancel, CancelWithWarning or CannotCancel
  bool builtin = false;
  // The clients granted the type; empty: every client (a system type). A client may create
  // tasks of a type, and see it in the catalogue, only when it is granted it; an admin key
  // may use every type, for any client it is granted to or for a system task.
  std::vector<Uuid> clients;

  // Whether a task of this type may belong to `client` (std::nullopt: a system task).
  bool GrantedTo(const std::optional<Uuid>& client) const;
};

// The built-in `noop` type: 00000000-0000-0000-0000-000000000001.
Uuid NoopTaskTypeId();

class TaskTypeCatalog {
 public:
  virtual ~TaskTypeCatalog() = default;
  // std::nullopt when no type has that id.
  virtual Result<std::optional<TaskType>> Find(const Uuid& id) = 0;
  // Adds a type with a fresh id; kAlreadyExists (field Name) when the name is taken.
  virtual Result<TaskType> Register(TaskType type) = 0;
  virtual Result<std::vector<TaskType>> List() = 0;
};

}  // namespace conveyor

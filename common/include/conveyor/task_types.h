// The catalogue of task types (TwoSms TaskID, Oracle taskType, SuperOffice task Name).
// A type names the handler that runs its tasks. Built-in types have fixed ids, listed in
// docs/task-types.md and created by migration 0001.
#pragma once

#include <optional>
#include <string>

#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct TaskType {
  Uuid id;
  std::string name;
  std::string handler;
};

// The built-in `noop` type: 00000000-0000-0000-0000-000000000001.
Uuid NoopTaskTypeId();

class TaskTypeCatalog {
 public:
  virtual ~TaskTypeCatalog() = default;
  // std::nullopt when no type has that id.
  virtual Result<std::optional<TaskType>> Find(const Uuid& id) = 0;
};

}  // namespace conveyor

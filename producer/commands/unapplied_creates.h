// The port through which CreateRedrive (create_redrive.h) finds the accepted records whose
// create no worker applied: PgAcceptedWrites in production, a list in tests.
#pragma once

#include <cstddef>
#include <vector>

#include "commands/accepted_writes.h"
#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct UnappliedQuery {
  Timestamp after, before;     // recorded within [after, before)
  std::vector<Uuid> excluded;  // tasks not to list (those given up on)
  std::size_t limit = 100;
};

class UnappliedCreates {
 public:
  virtual ~UnappliedCreates() = default;
  // The records of tasks not deleted, that no worker created (no row in tasks) and whose
  // latest command no worker consumed (its event id is in no inbox row), recorded within the
  // query's times; the oldest first.
  virtual Result<std::vector<AcceptedTask>> Unapplied(const UnappliedQuery& query) = 0;
};

}  // namespace conveyor

// What an Idempotency-Key fixes about a create (http/idempotency.h): the id its tasks' and
// commands' ids are derived from, and the time of its first attempt, which every attempt
// records as the tasks' creation time and the commands' time. So each attempt makes the very
// same commands, and a worker that gets two applies one.
#pragma once

#include <chrono>

#include "conveyor/clock.h"
#include "conveyor/uuid.h"

namespace conveyor {

// How long a key fixes them: a key older than this is claimed afresh, as a new one.
inline constexpr std::chrono::hours kIdempotencyKeptFor{24};

struct IdempotentCreate {
  Uuid key_id;         // random when the key was first claimed
  Timestamp first_at;  // when the key was first claimed
};

}  // namespace conveyor

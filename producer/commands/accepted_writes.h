// What the producer records of a command Kafka acknowledged, before it answers, so that the
// caller's next request — to this producer or to another — sees the command although no
// worker has applied it yet (docs/adr/0006-read-your-writes.md).
//
// An AcceptedTask is the task as its command leaves it, with the command's offset in the
// task's partition. The commands of a task share that partition, so their offsets order them
// as the workers apply them: a recorded task replaces one recorded at a lower offset, never
// one at a higher offset, and readers (TaskReader) see the newer of it and the projection's.
// PgAcceptedWrites (pg_accepted_writes.h) is the PostgreSQL adapter.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/task.h"

namespace conveyor {

struct AcceptedTask {
  Task task;  // as the command leaves it
  Timestamp modified_at;
  std::string modified_by;
  std::optional<Timestamp> deleted_at;  // set when the command deletes the task
  std::string deleted_by;
  Uuid event_id;
  std::int64_t offset = 0;  // the command's, in the task's partition
};

struct AcceptedNote {
  TaskNote note;
  Uuid event_id;
};

class AcceptedWrites {
 public:
  virtual ~AcceptedWrites() = default;
  // Records the tasks (at most one per task id) and the notes, in one transaction.
  // kUnavailable when PostgreSQL did not answer. Thread-safe.
  virtual Status Record(const std::vector<AcceptedTask>& tasks,
                        const std::vector<AcceptedNote>& notes) = 0;
  // Record without waiting: `done` gets its status, once, on a thread of the adapter's (which
  // it must not hold up long), or on the calling thread before this returns. This default
  // records on the calling thread; GroupedAcceptedWrites writes on a thread of its own.
  virtual void RecordThen(std::vector<AcceptedTask> tasks, std::vector<AcceptedNote> notes,
                          std::function<void(Status)> done) {
    done(Record(tasks, notes));
  }
};

}  // namespace conveyor

// Creates that Kafka acknowledged and that no worker ever read, published again
// (docs/faults.md, "An acknowledged create lost"). librdkafka 2.0.2's idempotent producer has
// been seen, when a partition leader failed, to report a create as acknowledged that the
// cluster did not keep. The producer answered the client with the task, and recorded it in
// accepted_tasks (docs/adr/0006); that record is the evidence from which the create can be
// made again.
//
// A pass asks Kafka how far the workers' group has consumed the commands topic. The first pass
// only takes a mark: the time and each partition's end. A later pass that finds the group's
// committed offsets at or past every end of the mark knows that every command acknowledged
// before the mark was consumed and applied. A record from before the mark (less `margin`:
// the delivery timeout and the producers' clock skew) whose task no worker created and whose
// latest command no worker consumed (UnappliedCreates) then holds a command that was lost: its
// create is published again, under the record's own event id (the workers' inbox makes a
// second copy harmless). Then the pass takes a new mark. While the group is behind the mark,
// nothing is published: a backlog is not a loss.
//
// A create published again is not published again before a later mark has passed it. Every
// producer runs a CreateRedrive; two that publish the same create make one duplicate, which the
// inbox drops. Thread-safe: RunOnce runs on one thread at a time (Start's, or the caller's).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "commands/accepted_writes.h"
#include "commands/task_commands.h"
#include "conveyor/clock.h"
#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/metrics.h"
#include "conveyor/result.h"

namespace conveyor {

struct RedriveSettings {
  std::chrono::milliseconds every{30000};  // --redrive-every-ms; 0: no passes
  // How long after a record's time its command may still have been acknowledged: the
  // delivery timeout, and the clock skew between producers.
  std::chrono::milliseconds margin{20000};
  std::size_t batch = 100;  // creates published again per pass, at most
};

// The accepted records whose create no worker applied, in PostgreSQL (PgAcceptedWrites) or in
// memory (tests).
class UnappliedCreates {
 public:
  virtual ~UnappliedCreates() = default;
  // The records of tasks not deleted, that no worker created (no row in tasks) and whose
  // latest command no worker consumed (its event id is not in the inbox), recorded before
  // `before`; the oldest first, at most `limit`.
  virtual Result<std::vector<AcceptedTask>> Unapplied(Timestamp before, std::size_t limit) = 0;
};

class CreateRedrive {
 public:
  // The workers' group on each partition of the commands topic (GroupProgress).
  using Progress = std::function<Result<std::vector<PartitionProgress>>()>;

  CreateRedrive(Progress progress, UnappliedCreates& records, TaskCommandService& commands,
                const Clock& clock, RedriveSettings settings, metrics::Registry& registry);
  ~CreateRedrive();  // Stop()
  CreateRedrive(const CreateRedrive&) = delete;
  CreateRedrive& operator=(const CreateRedrive&) = delete;

  // One pass on the calling thread: how many creates it handed to Kafka again.
  Result<std::size_t> RunOnce();
  // A pass every settings.every on a thread of its own (none when it is 0).
  void Start();
  void Stop();

 private:
  // The time of a pass and how far each partition went then.
  struct Mark {
    Timestamp at;
    std::vector<PartitionProgress> partitions;
  };
  // Whether the group's commits in `now` are at or past every end of `mark`.
  static bool Passed(const std::vector<PartitionProgress>& now, const Mark& mark);
  // Publishes again the creates recorded before `before` that no worker consumed.
  Result<std::size_t> Redrive(Timestamp before);

  Progress progress_;
  UnappliedCreates& records_;
  TaskCommandService& commands_;
  const Clock& clock_;
  RedriveSettings settings_;
  metrics::Counter& republished_;
  std::optional<Mark> mark_;
  std::unordered_map<Uuid, Timestamp> redriven_;  // when each create was published again
  std::shared_ptr<spdlog::logger> log_ = logging::Get("ingest");

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conveyor

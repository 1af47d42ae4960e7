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
// before the mark was consumed and applied (a worker commits an offset once the command's run
// is final, so long runs hold a mark up). A record from before the mark (less `margin`: the
// delivery timeout and the producers' clock skew) whose task no worker created and whose
// latest command no worker consumed (UnappliedCreates) then holds a command that was lost: its
// create is published again from the record, under the record's event id (its latest
// command's; the workers' inbox makes a second copy harmless). Then the pass takes a new mark.
// While the group is behind the mark, nothing is published: a backlog is not a loss.
//
// A create published again goes again only once a later mark has passed it, and at most
// kMaxCopies times: one a worker cannot take (it dead-letters it) is then given up and logged
// as an error. Records older than `max_age` are left alone: by then the inbox rows that tell a
// consumed command may be gone (worker retention). Every producer runs a CreateRedrive; two
// that publish the same create make one duplicate, which the inbox drops.
//
// Start's thread makes the passes; RunOnce is for tests, on a CreateRedrive not started.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "commands/task_commands.h"
#include "commands/unapplied_creates.h"
#include "conveyor/clock.h"
#include "conveyor/kafka.h"
#include "conveyor/logging.h"
#include "conveyor/metrics.h"
#include "conveyor/periodic_thread.h"
#include "conveyor/result.h"

namespace conveyor {

struct RedriveSettings {
  std::chrono::milliseconds every{30000};  // --redrive-every-ms; 0: no passes
  // How long after a record's time its command may still have been acknowledged: the
  // delivery timeout, and the clock skew between producers.
  std::chrono::milliseconds margin{20000};
  std::chrono::hours max_age{24};
  std::size_t batch = 100;  // creates published again per pass, at most
};

class CreateRedrive {
 public:
  // The workers' group on each partition of the commands topic (GroupProgress).
  using Progress = std::function<Result<std::vector<PartitionProgress>>()>;

  CreateRedrive(Progress progress, UnappliedCreates& records, TaskCommandService& commands,
                const Clock& clock, RedriveSettings settings, metrics::Registry& registry);
  CreateRedrive(const CreateRedrive&) = delete;
  CreateRedrive& operator=(const CreateRedrive&) = delete;

  static constexpr int kMaxCopies = 3;

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
  // Whether the record's create may go again now; false once it went kMaxCopies times.
  bool MayCopy(const AcceptedTask& record, Timestamp before);
  // Logs, once per mark, a mark that the group has not passed for a long time.
  void ReportWaiting(Timestamp now);

  Progress progress_;
  UnappliedCreates& records_;
  TaskCommandService& commands_;
  const Clock& clock_;
  RedriveSettings settings_;
  metrics::Counter& republished_;
  std::optional<Mark> mark_;
  bool mark_reported_ = false;
  // Each create published again: when, last, and how many times.
  struct Copies {
    Timestamp at;
    int times = 0;
  };
  std::unordered_map<Uuid, Copies> copies_;
  std::unordered_set<Uuid> given_up_;
  std::shared_ptr<spdlog::logger> log_ = logging::Get("ingest");

  PeriodicThread passes_;  // last: stopped first, while what its passes use still lives
};

}  // namespace conveyor

// Group commit for AcceptedWrites: the records of requests that come while one is being
// written go together in the next write, one statement and one transaction for all of them.
//
// Each request answers only after its record is written (docs/adr/0006), so with one write
// per request PostgreSQL paid a statement, a plan and a commit for every create: on this
// machine the single-task create path fell to a third of its rate (bench/README.md, "Read
// your own writes"). Here no request waits for a timer: the first one writes at once, and the
// ones that come meanwhile wait for that write to end and then go in one write together, as
// PostgreSQL's own group commit does with WAL flushes.
//
// Of several records of one task in a group, the one at the highest offset is written (the
// later command, which is the one a reader must see); every caller of the group gets the
// group's status.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

#include "commands/accepted_writes.h"

namespace conveyor {

class GroupedAcceptedWrites final : public AcceptedWrites {
 public:
  explicit GroupedAcceptedWrites(AcceptedWrites& inner) : inner_(inner) {}

  Status Record(const std::vector<AcceptedTask>& tasks,
                const std::vector<AcceptedNote>& notes) override;

  // Callers whose records wait for the next write (not the one being written).
  std::size_t Waiting();

 private:
  struct Group;
  Status WriteGroup(const Group& group);

  AcceptedWrites& inner_;
  std::mutex mutex_;
  std::condition_variable written_;
  std::shared_ptr<Group> open_;  // the next write's records; null when there are none
  bool writing_ = false;
};

}  // namespace conveyor

// Group commit for AcceptedWrites: the records that come while one group is being written go
// together in the next write, one statement and one transaction for all of them.
//
// Each request answers only after its record is written (docs/adr/0006), so with one write
// per request PostgreSQL paid a statement, a plan and a commit for every create: on this
// machine the single-task create path fell to a third of its rate (bench/README.md, "Read
// your own writes"). Here no record waits for a timer: a thread of its own writes whatever has
// come as soon as the previous write ended, as PostgreSQL's own group commit does with WAL
// flushes. RecordThen hands a record to it and returns (the producer's delivery reports call
// it, and must not wait for PostgreSQL); Record waits for its group's write.
//
// Of several records of one task in a group, the one at the highest offset is written (the
// later command, which is the one a reader must see); every caller of the group gets the
// group's status, on the writing thread. Stop (or destroying it) writes what has come, then
// stops the thread; a record after that fails at once.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "commands/accepted_writes.h"

namespace conveyor {

class GroupedAcceptedWrites final : public AcceptedWrites {
 public:
  explicit GroupedAcceptedWrites(AcceptedWrites& inner);
  ~GroupedAcceptedWrites() override;
  // Writes what has come, then stops the writing thread (its callers' continuations have run
  // when it returns). Records after it fail (kUnavailable) on the calling thread.
  void Stop();

  Status Record(const std::vector<AcceptedTask>& tasks,
                const std::vector<AcceptedNote>& notes) override;
  void RecordThen(std::vector<AcceptedTask> tasks, std::vector<AcceptedNote> notes,
                  std::function<void(Status)> done) override;

  // Callers whose records wait for the next write (not the one being written).
  std::size_t Waiting();

 private:
  struct Group;
  void WriteGroups();
  Status WriteGroup(const Group& group);

  AcceptedWrites& inner_;
  std::mutex mutex_;
  std::condition_variable recorded_;  // open_ has records, or stopping_
  std::unique_ptr<Group> open_;       // the next write's records; null when there are none
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace conveyor

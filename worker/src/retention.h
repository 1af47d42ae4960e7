// Bounded storage: what the worker deletes, and when (docs/operations.md, "Retention").
//
//   - a task that is done — deleted, or whose runs all ended and which has no due time left —
//     once it has been so for `finished_tasks` (default 30 days): the task, its runs, notes
//     and schedule; and the CSV files of export runs as old;
//   - inbox rows (the record of applied commands that makes a redelivery harmless) older than
//     `inbox` (default 7 days). Keep it longer than the commands topic's retention.ms: a
//     command older than its inbox row could otherwise be applied twice, were a consumer
//     group ever rewound that far.
// A retention of zero keeps those rows forever.
//
// Every worker runs a Janitor; a PostgreSQL advisory lock lets one pass run at a time, and
// each pass deletes in batches, so that no statement holds many locks for long. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/periodic_thread.h"
#include "conveyor/result.h"

namespace conveyor {

struct RetentionPolicy {
  std::chrono::hours finished_tasks{24 * 30};
  std::chrono::hours inbox{24 * 7};
  std::chrono::minutes every{10};  // how often a pass runs
  std::size_t batch = 1000;        // rows per statement
};

// What a pass deleted.
struct RetentionPass {
  bool ran = false;  // false: another worker's pass held the lock
  std::size_t tasks = 0, inbox_rows = 0, export_files = 0;
};

// The rows a pass deletes, in PostgreSQL (pg_retention_store.h) or in memory (tests).
class RetentionStore {
 public:
  virtual ~RetentionStore() = default;
  // Runs `pass` while holding the one lock for retention passes; false without running it
  // when another holds it.
  virtual Result<bool> WithPassLock(const std::function<Status()>& pass) = 0;
  // Deletes at most `batch` tasks done before `before` (with their runs, notes and schedule);
  // returns how many.
  virtual Result<std::size_t> DeleteDoneTasks(Timestamp before, std::size_t batch) = 0;
  // Deletes at most `batch` inbox rows applied before `before`; returns how many.
  virtual Result<std::size_t> DeleteInbox(Timestamp before, std::size_t batch) = 0;
};

class Janitor {
 public:
  Janitor(RetentionStore& store, const Clock& clock, RetentionPolicy policy,
          std::vector<std::string> export_folders);

  // One pass now, on the calling thread.
  Result<RetentionPass> RunOnce();
  // Passes every policy.every on a thread of its own, the first at once.
  void Start();
  void Stop();

 private:
  Status Pass(RetentionPass& done);
  std::size_t DeleteOldExports(Timestamp before);

  RetentionStore& store_;
  const Clock& clock_;
  RetentionPolicy policy_;
  std::vector<std::string> export_folders_;
  PeriodicThread passes_;  // last: stopped first, while what its passes use still lives
};

}  // namespace conveyor

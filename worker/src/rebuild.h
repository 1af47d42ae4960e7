// Rebuild by replay (docs/integrations.md): `conveyor-worker --rebuild` makes the projection
// again, in an empty database, from the commands topic and the journal (journal.h).
//
// The commands say what clients asked for; the journal says what the workers decided that no
// command says (how each run went, when the schedulers fired, what retention removed). A task's
// commands are replayed through the CommandProcessor, as a worker applies them, but nothing
// runs and nothing is published. Each journal record is applied between the task's commands
// where it was written: after the command its command_offset names and before the next one.
// So every command meets the task's runs as its worker met them, and decides as it decided.
//
//   1. AddRecord: the whole journal first, kept per task in its order (a record that a later
//      one of the same row makes of no account, with no command between them, is dropped);
//   2. ReplayCommand: the commands, each partition in its order, applied in batches that stop
//      before a command whose task has records to apply first;
//   3. Finish: the last batch, and the records written after each task's last command.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "command_processor.h"
#include "journal.h"

namespace conveyor {

// The database side of a rebuild (PgRebuildStore).
class RebuildStore {
 public:
  virtual ~RebuildStore() = default;
  // kFailedPrecondition unless the database holds no task and no applied command (one without
  // Conveyor's tables is empty: this is asked before the migrations).
  virtual Status CheckEmpty() = 0;
  // Writes the records, in their order: each run's and each schedule's row as its last record
  // holds it, and removes the purged tasks.
  virtual Status Apply(const std::vector<JournalRecord>& records) = 0;
  // Leaves nothing to publish: the replay's outbox rows were published when the commands were
  // first applied.
  virtual Status Finish() = 0;
};

struct RebuildReport {
  std::size_t commands = 0;       // command messages read
  std::size_t applied = 0;        // of them applied
  std::size_t duplicates = 0;     // already applied (a command published twice)
  std::size_t dead_lettered = 0;  // refused again, as they were at first (not sent again)
  std::size_t records = 0;        // journal records applied
};

// Where the replay's dead letters go: nowhere. The commands it refuses were refused the same way
// when they were first applied, and are on the dead-letter topic since; each is logged.
class UnsentDeadLetters final : public EventPublisher {
 public:
  Result<Delivery> Publish(const OutgoingMessage& message) override;
};

class Rebuild {
 public:
  // Commands applied in one transaction at most.
  static constexpr std::size_t kBatch = 500;

  Rebuild(CommandProcessor& processor, RebuildStore& store)
      : processor_(processor), store_(store) {}

  Status AddRecord(const ConsumedMessage& message);
  Status ReplayCommand(ConsumedMessage message);
  Status Finish();
  const RebuildReport& report() const { return report_; }

 private:
  // The task's records written before its command at `offset`, taken out of records_.
  std::vector<JournalRecord> TakeRecordsBefore(const Uuid& task, std::int64_t offset);
  // Applies the commands held back.
  Status ApplyBatch();
  Status ApplyRecords(const std::vector<JournalRecord>& records);

  // A task's records not applied yet: list[next...]. Most tasks hold one or two.
  struct Pending {
    std::vector<JournalRecord> list;
    std::size_t next = 0;
  };

  CommandProcessor& processor_;
  RebuildStore& store_;
  std::unordered_map<Uuid, Pending> records_;  // by task id
  std::vector<ConsumedMessage> batch_;
  RebuildReport report_;
};

}  // namespace conveyor

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
//   1. AddRecord: the whole journal first, kept per task in its order;
//   2. ReplayCommand: the commands, each partition in its order;
//   3. Finish: the records written after each task's last command.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "command_processor.h"
#include "journal.h"

namespace conveyor {

// The database side of a rebuild (PgRebuildStore).
class RebuildStore {
 public:
  virtual ~RebuildStore() = default;
  // kFailedPrecondition unless the database holds no task and no applied command.
  virtual Status CheckEmpty() = 0;
  // Writes a run's or a schedule's row as the record holds it, or removes a purged task.
  virtual Status Apply(const JournalRecord& record) = 0;
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
  Rebuild(CommandProcessor& processor, RebuildStore& store)
      : processor_(processor), store_(store) {}

  Status AddRecord(const ConsumedMessage& message);
  Status ReplayCommand(const ConsumedMessage& message);
  Status Finish();
  const RebuildReport& report() const { return report_; }

 private:
  // Applies the task's records written before the command at `offset` (all of them when
  // `offset` is nullopt).
  Status ApplyRecordsBefore(const std::string& task, std::optional<std::int64_t> offset);

  CommandProcessor& processor_;
  RebuildStore& store_;
  std::unordered_map<std::string, std::deque<JournalRecord>> records_;  // by task id
  RebuildReport report_;
};

}  // namespace conveyor

// The journal (docs/integrations.md, "Rebuild by replay"): the records of what the workers
// decided that no command says, which `conveyor-worker --rebuild` replays beside the commands.
//
//   conveyor.run.recorded       a run as it is after a change (every column but heartbeat_at)
//   conveyor.schedule.recorded  a scheduled task's due times after a scheduler advanced them
//   conveyor.task.purged        retention removed the task
//
// PostgreSQL writes them (migration 0018's trigger, in the transaction of the change) into the
// outbox as bare data; the relay wraps each in its CloudEvents envelope (JournalMessage). Each
// carries the offset of the last command applied to its task when it was written, which says
// where it falls between that task's commands.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "conveyor/clock.h"
#include "conveyor/event_publisher.h"
#include "conveyor/kafka.h"
#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

// The PostgreSQL setting that turns the journal on for a session: its topic.
inline constexpr char kJournalTopicSetting[] = "conveyor.journal_topic";

// The event of the outbox row `outbox_id`, written at `written_at`, whose payload is the bare
// `data` of an event of `type`: its id is derived from the row, so a row published twice (a
// relay that died before marking it sent) carries the same id both times.
OutgoingMessage JournalMessage(std::string type, std::string topic, std::string key,
                               std::string_view data, std::int64_t outbox_id, Timestamp written_at,
                               std::string_view source);

struct JournalRecord {
  enum class Kind { kRun, kSchedule, kPurge };
  Kind kind = Kind::kRun;
  Uuid task_id;
  // tasks.command_offset when it was written: -1 before any command (never, in practice).
  std::int64_t command_offset = -1;
  // The row's key: the run's id (kRun), the task's (kSchedule, kPurge).
  Uuid key;
  // The run's or the schedule's row as JSON text (kRun, kSchedule): kept as text, since a
  // rebuild holds a record per run until it applies it.
  std::string row;

  // Whether `later`, written after this record with no command of the task between them,
  // makes this one of no account: it holds the same row, whole.
  bool SupersededBy(const JournalRecord& later) const {
    return kind != Kind::kPurge && later.kind == kind && later.key == key &&
           later.command_offset == command_offset;
  }
};

// Decodes a message of the journal topic; kInvalidArgument naming what is wrong.
Result<JournalRecord> ParseJournalRecord(const ConsumedMessage& message);

}  // namespace conveyor

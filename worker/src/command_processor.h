// CommandProcessor is the worker's domain logic for one polled batch of command events:
//
//   1. decode each message (CloudEvents envelope, then the schema of its type);
//   2. send what cannot be decoded to the dead-letter topic, with the reason and origin in
//      its headers, so that the partition moves on;
//   3. apply the rest to the projection in one transaction (the inbox makes a redelivered
//      event a no-op); what the store rejects goes to the dead-letter topic too;
//   4. find the runs the batch's create (and re-enabling update, run-again batch-update)
//      commands name that are not final yet (including one whose previous owner died
//      mid-run), for the RunEngine to execute, and the tasks whose runs cancel, update
//      (Enabled false), batch-update (stop) or delete commands stop.
//
// When Ingest returns OK every message of the batch is applied or dead-lettered. On an error
// nothing was applied; the same batch can be ingested again safely. Not thread-safe: one per
// consumer loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "conveyor/dead_letter.h"
#include "conveyor/event_publisher.h"
#include "conveyor/json_schema.h"
#include "conveyor/kafka.h"
#include "task_store.h"

namespace conveyor {

struct ProcessorSettings {
  std::string dlq_topic = "conveyor.commands.dlq";
};

// What a batch left to do. Every message of the batch is either in `runs` (its run is not
// final yet), in `started` (its run was started as it was queued, StartOffer) or in `done`.
struct IngestReport {
  std::size_t applied = 0;
  std::size_t duplicates = 0;
  std::size_t dead_lettered = 0;
  std::vector<std::pair<PendingRun, const ConsumedMessage*>> runs;
  // Runs the store started as it queued them: the engine runs them at once (AdmitStarted).
  std::vector<std::pair<StartedRun, const ConsumedMessage*>> started;
  // Tasks whose live runs are to be stopped (cancel, update with enabled false, batch-update
  // stop, delete). The
  // loop signals these before it admits `runs`: a run queued later in the same batch (an
  // update re-enabling the task) is not the one they stop.
  std::vector<Uuid> cancelled_tasks;
  std::vector<const ConsumedMessage*> done;
};

class CommandProcessor {
 public:
  static Result<CommandProcessor> Create(ProcessorSettings settings, TaskStore& store,
                                         EventPublisher& publisher);

  // `offer_now`, called once just before the batch's statement, says what the engine can
  // start at once (TaskStore::ApplyBatch); without it nothing starts there.
  // An error after that statement committed (a dead letter not acknowledged, a read that
  // failed) leaves the runs it started in TakeUnclaimedStarted: they are this worker's to run.
  Result<IngestReport> Ingest(const std::vector<ConsumedMessage>& batch,
                              const std::function<StartOffer()>& offer_now = {});
  std::vector<std::pair<StartedRun, const ConsumedMessage*>> TakeUnclaimedStarted();

  // Decodes one message into a command, or says why it cannot be (kInvalidArgument).
  Result<IncomingCommand> Decode(const ConsumedMessage& message) const;

 private:
  using Schemas = std::map<std::string, JsonSchema, std::less<>>;  // by command type
  CommandProcessor(ProcessorSettings settings, TaskStore& store, EventPublisher& publisher,
                   Schemas schemas);
  Status DeadLetter(const ConsumedMessage& message, const std::string& reason);

  ProcessorSettings settings_;
  TaskStore& store_;
  EventPublisher& publisher_;
  Schemas schemas_;
  std::vector<std::pair<StartedRun, const ConsumedMessage*>> unclaimed_;
};

}  // namespace conveyor

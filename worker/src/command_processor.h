// CommandProcessor is the worker's domain logic for one polled batch of command events:
//
//   1. decode each message (CloudEvents envelope, then the schema of its type);
//   2. send what cannot be decoded to the dead-letter topic, with the reason and origin in
//      its headers, so that the partition moves on;
//   3. apply the rest to the projection in one transaction (the inbox makes a redelivered
//      event a no-op); what the store rejects goes to the dead-letter topic too;
//   4. run every run the batch names that is not final yet (including one whose previous
//      owner died mid-run: its start count goes up), and record each outcome together with
//      its notification.
//
// When Process returns OK every message of the batch is applied and run, or dead-lettered,
// so the caller may commit the batch's offsets. On an error nothing may be committed; the
// same batch can be processed again safely. Not thread-safe: one per consumer loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/event_publisher.h"
#include "conveyor/json_schema.h"
#include "conveyor/kafka.h"
#include "handlers.h"
#include "task_store.h"

namespace conveyor {

struct ProcessorSettings {
  std::string worker_name;  // recorded on runs (LastRunBy)
  std::string source;       // CloudEvents source of the notifications
  std::string dlq_topic = "conveyor.commands.dlq";
  std::string notifications_topic = "conveyor.notifications";
  // Called after a notification was written to the outbox (wakes the relay); may be empty.
  std::function<void()> notification_written;
};

// Header names on dead-lettered messages.
inline constexpr char kDlqReasonHeader[] = "conveyor-dlq-reason";
inline constexpr char kDlqOriginTopicHeader[] = "conveyor-origin-topic";
inline constexpr char kDlqOriginPartitionHeader[] = "conveyor-origin-partition";
inline constexpr char kDlqOriginOffsetHeader[] = "conveyor-origin-offset";

struct BatchReport {
  std::size_t applied = 0;
  std::size_t duplicates = 0;
  std::size_t dead_lettered = 0;
  std::size_t runs_finished = 0;
};

class CommandProcessor {
 public:
  static Result<CommandProcessor> Create(ProcessorSettings settings, TaskStore& store,
                                         const HandlerRegistry& handlers, EventPublisher& publisher,
                                         const Clock& clock);

  Result<BatchReport> Process(const std::vector<ConsumedMessage>& batch);

  // Decodes one message into a command, or says why it cannot be (kInvalidArgument).
  Result<IncomingCommand> Decode(const ConsumedMessage& message) const;

 private:
  CommandProcessor(ProcessorSettings settings, TaskStore& store, const HandlerRegistry& handlers,
                   EventPublisher& publisher, const Clock& clock, JsonSchema create_schema);
  Status DeadLetter(const ConsumedMessage& message, const std::string& reason);
  Result<bool> Execute(const PendingRun& run);
  std::optional<OutgoingMessage> Notification(const StartedRun& run,
                                              const RunOutcome& outcome) const;

  ProcessorSettings settings_;
  TaskStore& store_;
  const HandlerRegistry& handlers_;
  EventPublisher& publisher_;
  const Clock& clock_;
  JsonSchema create_schema_;
};

}  // namespace conveyor

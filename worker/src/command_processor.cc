#include "command_processor.h"

#include <map>

#include "conveyor/json_text.h"
#include "conveyor/logging.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"

namespace conveyor {

Result<CommandProcessor> CommandProcessor::Create(ProcessorSettings settings, TaskStore& store,
                                                  EventPublisher& publisher) {
  auto create = JsonSchema::Embedded("events/conveyor.task.create.json");
  if (!create) return std::unexpected(create.error());
  auto cancel = JsonSchema::Embedded("events/conveyor.task.cancel.json");
  if (!cancel) return std::unexpected(cancel.error());
  auto update = JsonSchema::Embedded("events/conveyor.task.update.json");
  if (!update) return std::unexpected(update.error());
  auto del = JsonSchema::Embedded("events/conveyor.task.delete.json");
  if (!del) return std::unexpected(del.error());
  auto note = JsonSchema::Embedded("events/conveyor.task.note.add.json");
  if (!note) return std::unexpected(note.error());
  auto batch_update = JsonSchema::Embedded("events/conveyor.task.batch-update.json");
  if (!batch_update) return std::unexpected(batch_update.error());
  return CommandProcessor(std::move(settings), store, publisher, std::move(*create),
                          std::move(*cancel), std::move(*update), std::move(*del), std::move(*note),
                          std::move(*batch_update));
}

CommandProcessor::CommandProcessor(ProcessorSettings settings, TaskStore& store,
                                   EventPublisher& publisher, JsonSchema create_schema,
                                   JsonSchema cancel_schema, JsonSchema update_schema,
                                   JsonSchema delete_schema, JsonSchema note_schema,
                                   JsonSchema batch_update_schema)
    : settings_(std::move(settings)),
      store_(store),
      publisher_(publisher),
      create_schema_(std::move(create_schema)),
      cancel_schema_(std::move(cancel_schema)),
      update_schema_(std::move(update_schema)),
      delete_schema_(std::move(delete_schema)),
      note_schema_(std::move(note_schema)),
      batch_update_schema_(std::move(batch_update_schema)) {}

Result<IncomingCommand> CommandProcessor::Decode(const ConsumedMessage& m) const {
  auto parsed = ParseJson(m.value, "the message");
  if (!parsed) return std::unexpected(parsed.error());
  auto& json = *parsed;
  // `data` moves into the event, and back into the document while the schema checks it:
  // the document is never copied.
  auto event = CloudEvent::TakeFromJson(json);
  if (!event) return std::unexpected(event.error());
  auto check = [&](const JsonSchema& schema) {
    auto data = json.find("data");
    if (data != json.end()) *data = std::move(event->data);
    auto valid = schema.Validate(json);
    if (data != json.end()) event->data = std::move(*data);
    return valid;
  };
  IncomingCommand command;
  command.topic = m.topic;
  command.partition = m.partition;
  command.offset = m.offset;
  command.payload = m.value;
  if (event->type == kTaskCreateCommand) {
    if (auto valid = check(create_schema_); !valid) return std::unexpected(valid.error());
    auto task = TaskFromEventData(event->data);
    if (!task) return std::unexpected(task.error());
    command.task = std::move(*task);
  } else if (event->type == kTaskCancelCommand || event->type == kTaskDeleteCommand) {
    bool cancel = event->type == kTaskCancelCommand;
    if (auto valid = check(cancel ? cancel_schema_ : delete_schema_); !valid)
      return std::unexpected(valid.error());
    auto id = Uuid::Parse(event->data["task_id"].get<std::string>());
    if (!id) return Fail(ErrorCode::kInvalidArgument, "task_id is not a UUID", "data.task_id");
    command.kind = cancel ? CommandKind::kCancel : CommandKind::kDelete;
    command.task.id = *id;
    command.requested_by = event->data["requested_by"].get<std::string>();
  } else if (event->type == kTaskUpdateCommand) {
    if (auto valid = check(update_schema_); !valid) return std::unexpected(valid.error());
    auto update = TaskUpdateFromEventData(event->data);
    if (!update) return std::unexpected(update.error());
    command.kind = CommandKind::kUpdate;
    command.task.id = update->task_id;
    command.requested_by = update->requested_by;
    command.update = std::move(*update);
  } else if (event->type == kTaskBatchUpdateCommand) {
    if (auto valid = check(batch_update_schema_); !valid) return std::unexpected(valid.error());
    auto update = BatchTaskUpdateFromEventData(event->data);
    if (!update) return std::unexpected(update.error());
    command.kind = CommandKind::kBatchUpdate;
    command.task.id = update->task_id;
    command.requested_by = update->requested_by;
    command.batch_update = std::move(*update);
  } else if (event->type == kTaskNoteAddCommand) {
    if (auto valid = check(note_schema_); !valid) return std::unexpected(valid.error());
    auto note = NoteFromEventData(event->data);
    if (!note) return std::unexpected(note.error());
    command.kind = CommandKind::kAddNote;
    command.task.id = note->task_id;
    command.note = std::move(*note);
  } else {
    return Fail(ErrorCode::kInvalidArgument, "unknown command type " + event->type, "type");
  }
  if (command.task.id.ToString() != event->subject)
    return Fail(ErrorCode::kInvalidArgument, "subject is not the task's id", "subject");
  command.event = std::move(*event);
  return command;
}

Status CommandProcessor::DeadLetter(const ConsumedMessage& m, const std::string& reason) {
  OutgoingMessage out{settings_.dlq_topic, m.key, m.value, m.headers};
  out.headers.emplace_back(kDlqReasonHeader, reason);
  out.headers.emplace_back(kDlqOriginTopicHeader, m.topic);
  out.headers.emplace_back(kDlqOriginPartitionHeader, std::to_string(m.partition));
  out.headers.emplace_back(kDlqOriginOffsetHeader, std::to_string(m.offset));
  if (auto s = publisher_.Publish(out); !s) return std::unexpected(s.error());
  logging::Get("worker")->warn("dead-lettered {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                               reason);
  return {};
}

Result<IngestReport> CommandProcessor::Ingest(const std::vector<ConsumedMessage>& batch,
                                              const std::function<StartOffer()>& offer_now) {
  IngestReport report;
  std::vector<IncomingCommand> commands;
  std::vector<const ConsumedMessage*> origins;
  for (const auto& m : batch) {
    auto command = Decode(m);
    if (!command) {
      if (auto s = DeadLetter(m, command.error().Describe()); !s) return std::unexpected(s.error());
      ++report.dead_lettered;
      report.done.push_back(&m);
      continue;
    }
    commands.push_back(std::move(*command));
    origins.push_back(&m);
  }
  if (commands.empty()) return report;

  // Asked for just before the statement: the start time it records is when the run starts.
  StartOffer offer = offer_now ? offer_now() : StartOffer{};
  auto applied = store_.ApplyBatch(commands, offer);
  if (!applied) return std::unexpected(applied.error());
  // Runs the statement started are this worker's now, whatever happens to the rest of the
  // batch: when it fails below, they wait in unclaimed_ for the loop (TakeUnclaimedStarted).
  for (std::size_t i = 0; i < commands.size(); ++i)
    if (auto& r = (*applied)[i]; r.queued_run && r.started)
      report.started.emplace_back(StartedRun{std::move(*r.queued_run), 1, offer.at}, origins[i]);
  auto fail = [&](Error e) -> Result<IngestReport> {
    unclaimed_ = std::move(report.started);
    return std::unexpected(std::move(e));
  };
  std::vector<Uuid> run_ids;
  std::map<std::string, std::vector<const ConsumedMessage*>> origin_of_run;
  auto log = logging::Get("worker");
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto& r = (*applied)[i];
    const auto& c = commands[i];
    if (r.outcome == ApplyOutcome::kRejected) {
      if (auto s = DeadLetter(*origins[i], r.reason); !s) return fail(s.error());
      ++report.dead_lettered;
      report.done.push_back(origins[i]);
      continue;
    }
    bool fresh = r.outcome == ApplyOutcome::kApplied;
    ++(fresh ? report.applied : report.duplicates);
    log->debug("task={} event={} {} {}", c.event.subject, c.event.id.ToString(),
               fresh ? "applied" : "seen before", c.event.type);
    // A stop signals the task's runs held by the engine; a redelivered one signals again:
    // the run it stopped may have been resumed since.
    if (c.kind == CommandKind::kCancel || c.kind == CommandKind::kDelete ||
        (c.kind == CommandKind::kUpdate && c.update.enabled == false) ||
        (c.kind == CommandKind::kBatchUpdate &&
         c.batch_update.run_change == BatchTaskUpdate::RunChange::kStop))
      report.cancelled_tasks.push_back(c.task.id);
    if (c.kind == CommandKind::kCancel || c.kind == CommandKind::kDelete ||
        c.kind == CommandKind::kAddNote) {
      report.done.push_back(origins[i]);
      continue;
    }
    // A create names its run (run id = event id), and so does an update that queued one
    // (conveyor.task.update enabling the task, conveyor.task.batch-update run_again).
    // Seen before, it may still be unfinished: a crash may have cut it off. A run the store
    // just queued comes with the result; the others are read.
    if (r.started) continue;  // in report.started
    if (r.queued_run) {
      report.runs.emplace_back(std::move(*r.queued_run), origins[i]);
      continue;
    }
    // Two copies of one event in a batch name the same run: each copy's origin is kept.
    auto& run_origins = origin_of_run[c.event.id.ToString()];
    if (run_origins.empty()) run_ids.push_back(c.event.id);
    run_origins.push_back(origins[i]);
  }

  auto pending = store_.FindPendingRuns(run_ids);
  if (!pending) return fail(pending.error());
  for (auto& run : *pending) {
    auto node = origin_of_run.extract(run.run_id.ToString());
    if (node.empty()) continue;
    // The engine admits a run once and adds the origins of its other copies to it.
    for (const auto* m : node.mapped()) report.runs.emplace_back(run, m);
  }
  for (const auto& [id, ms] : origin_of_run)  // final already
    report.done.insert(report.done.end(), ms.begin(), ms.end());
  return report;
}

std::vector<std::pair<StartedRun, const ConsumedMessage*>>
CommandProcessor::TakeUnclaimedStarted() {
  return std::exchange(unclaimed_, {});
}

}  // namespace conveyor

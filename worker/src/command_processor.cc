#include "command_processor.h"

#include <map>

#include "conveyor/json_text.h"
#include "conveyor/logging.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"

namespace conveyor {

Result<CommandProcessor> CommandProcessor::Create(ProcessorSettings settings, TaskStore& store,
                                                  EventPublisher& publisher) {
  Schemas schemas;
  for (auto type : kCommandTypes) {
    // "conveyor.task.create" is checked against schemas/events/conveyor.task.create.json.
    auto schema = JsonSchema::Embedded("events/" + std::string(SchemaOfType(type)->file) + ".json");
    if (!schema) return std::unexpected(schema.error());
    schemas.emplace(std::string(type), std::move(*schema));
  }
  return CommandProcessor(std::move(settings), store, publisher, std::move(schemas));
}

CommandProcessor::CommandProcessor(ProcessorSettings settings, TaskStore& store,
                                   EventPublisher& publisher, Schemas schemas)
    : settings_(std::move(settings)),
      store_(store),
      publisher_(publisher),
      schemas_(std::move(schemas)) {}

namespace {

// The schedule a create or update leaves the task with, decided from the event alone: its
// next due time (IncomingCommand::next_due_at); not set for a task that does not run on a
// schedule. A repeating schedule without a StartDate is anchored at the event's time.
std::optional<std::optional<Timestamp>> NextDue(const Task& task, Timestamp at) {
  if (!RunsOnSchedule(task, at)) return std::nullopt;
  return FirstDueTime(task, at);
}

// The fields of the task that decide its schedule, as an update leaves them.
Task ScheduledFieldsOf(const TaskUpdate& u) {
  Task t;
  t.frequency = u.frequency;
  t.start_date = u.start_date;
  t.finish_date = u.finish_date;
  t.schedule = u.schedule.value_or(TaskSchedule{});
  return t;
}

}  // namespace

Result<IncomingCommand> CommandProcessor::Decode(const ConsumedMessage& m) const {
  auto parsed = ParseJson(m.value, "the message");
  if (!parsed) return std::unexpected(parsed.error());
  auto& json = *parsed;
  // `data` moves into the event, and back into the document while the schema checks it:
  // the document is never copied.
  auto event = CloudEvent::TakeFromJson(json);
  if (!event) return std::unexpected(event.error());
  auto known = schemas_.find(event->type);
  if (known == schemas_.end())
    return Fail(ErrorCode::kInvalidArgument, "unknown command type " + event->type, "type");
  if (auto readable = CheckDataSchema(*event); !readable) return std::unexpected(readable.error());
  auto check = [&, &schema = known->second]() {
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
    if (auto valid = check(); !valid) return std::unexpected(valid.error());
    auto task = TaskFromEventData(event->data);
    if (!task) return std::unexpected(task.error());
    command.task = std::move(*task);
    command.next_due_at = NextDue(command.task, event->time);
  } else if (event->type == kTaskCancelCommand || event->type == kTaskDeleteCommand) {
    bool cancel = event->type == kTaskCancelCommand;
    if (auto valid = check(); !valid) return std::unexpected(valid.error());
    auto id = Uuid::Parse(event->data["task_id"].get<std::string>());
    if (!id) return Fail(ErrorCode::kInvalidArgument, "task_id is not a UUID", "data.task_id");
    command.kind = cancel ? CommandKind::kCancel : CommandKind::kDelete;
    command.task.id = *id;
    command.requested_by = event->data["requested_by"].get<std::string>();
  } else if (event->type == kTaskUpdateCommand) {
    if (auto valid = check(); !valid) return std::unexpected(valid.error());
    auto update = TaskUpdateFromEventData(event->data);
    if (!update) return std::unexpected(update.error());
    command.kind = CommandKind::kUpdate;
    command.task.id = update->task_id;
    command.requested_by = update->requested_by;
    command.next_due_at = NextDue(ScheduledFieldsOf(*update), event->time);
    command.update = std::move(*update);
  } else if (event->type == kTaskBatchUpdateCommand) {
    if (auto valid = check(); !valid) return std::unexpected(valid.error());
    auto update = BatchTaskUpdateFromEventData(event->data);
    if (!update) return std::unexpected(update.error());
    command.kind = CommandKind::kBatchUpdate;
    command.task.id = update->task_id;
    command.requested_by = update->requested_by;
    command.batch_update = std::move(*update);
  } else if (event->type == kTaskNoteAddCommand) {
    if (auto valid = check(); !valid) return std::unexpected(valid.error());
    auto note = NoteFromEventData(event->data);
    if (!note) return std::unexpected(note.error());
    command.kind = CommandKind::kAddNote;
    command.task.id = note->task_id;
    command.note = std::move(*note);
  } else if (event->type == kTaskFireCommand) {
    if (auto valid = check(); !valid) return std::unexpected(valid.error());
    auto fire = FireFromEventData(event->data);
    if (!fire) return std::unexpected(fire.error());
    command.kind = CommandKind::kFire;
    command.task.id = fire->task_id;
    command.requested_by = fire->requested_by;
    command.fire = std::move(*fire);
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

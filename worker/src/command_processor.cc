#include "command_processor.h"

#include "conveyor/logging.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"

namespace conveyor {

Result<CommandProcessor> CommandProcessor::Create(ProcessorSettings settings, TaskStore& store,
                                                  const HandlerRegistry& handlers,
                                                  EventPublisher& publisher, const Clock& clock) {
  auto schema = JsonSchema::Embedded("events/conveyor.task.create.json");
  if (!schema) return std::unexpected(schema.error());
  return CommandProcessor(std::move(settings), store, handlers, publisher, clock,
                          std::move(*schema));
}

CommandProcessor::CommandProcessor(ProcessorSettings settings, TaskStore& store,
                                   const HandlerRegistry& handlers, EventPublisher& publisher,
                                   const Clock& clock, JsonSchema create_schema)
    : settings_(std::move(settings)),
      store_(store),
      handlers_(handlers),
      publisher_(publisher),
      clock_(clock),
      create_schema_(std::move(create_schema)) {}

Result<IncomingCommand> CommandProcessor::Decode(const ConsumedMessage& m) const {
  auto json = nlohmann::json::parse(m.value, nullptr, false);
  if (json.is_discarded()) return Fail(ErrorCode::kInvalidArgument, "the message is not JSON");
  auto event = CloudEvent::FromJson(json);
  if (!event) return std::unexpected(event.error());
  if (event->type != kTaskCreateCommand)
    return Fail(ErrorCode::kInvalidArgument, "unknown command type " + event->type, "type");
  if (auto valid = create_schema_.Validate(json); !valid) return std::unexpected(valid.error());
  auto task = TaskFromEventData(event->data);
  if (!task) return std::unexpected(task.error());
  if (task->id.ToString() != event->subject)
    return Fail(ErrorCode::kInvalidArgument, "subject is not the task's id", "subject");
  return IncomingCommand{std::move(*event), std::move(*task), m.topic, m.partition, m.offset};
}

Status CommandProcessor::DeadLetter(const ConsumedMessage& m, const std::string& reason) {
  OutgoingMessage out{settings_.dlq_topic, m.key, m.value, m.headers};
  out.headers.emplace_back(kDlqReasonHeader, reason);
  out.headers.emplace_back(kDlqOriginTopicHeader, m.topic);
  out.headers.emplace_back(kDlqOriginPartitionHeader, std::to_string(m.partition));
  out.headers.emplace_back(kDlqOriginOffsetHeader, std::to_string(m.offset));
  if (auto s = publisher_.Publish(out); !s) return s;
  logging::Get("worker")->warn("dead-lettered {}[{}]@{}: {}", m.topic, m.partition, m.offset,
                               reason);
  return {};
}

Result<BatchReport> CommandProcessor::Process(const std::vector<ConsumedMessage>& batch) {
  BatchReport report;
  std::vector<IncomingCommand> commands;
  std::vector<const ConsumedMessage*> origins;
  for (const auto& m : batch) {
    auto command = Decode(m);
    if (!command) {
      if (auto s = DeadLetter(m, command.error().Describe()); !s) return std::unexpected(s.error());
      ++report.dead_lettered;
      continue;
    }
    commands.push_back(std::move(*command));
    origins.push_back(&m);
  }
  if (commands.empty()) return report;

  auto applied = store_.ApplyBatch(commands);
  if (!applied) return std::unexpected(applied.error());
  std::vector<Uuid> run_ids;
  auto log = logging::Get("worker");
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto& r = (*applied)[i];
    const auto& e = commands[i].event;
    switch (r.outcome) {
      case ApplyOutcome::kApplied:
        ++report.applied;
        log->debug("task={} event={} applied {}", e.subject, e.id.ToString(), e.type);
        run_ids.push_back(e.id);
        break;
      case ApplyOutcome::kDuplicate:
        ++report.duplicates;
        log->debug("task={} event={} seen before", e.subject, e.id.ToString());
        // Its run may have been cut off by a crash before it finished.
        run_ids.push_back(e.id);
        break;
      case ApplyOutcome::kRejected:
        if (auto s = DeadLetter(*origins[i], r.reason); !s) return std::unexpected(s.error());
        ++report.dead_lettered;
        break;
    }
  }

  auto pending = store_.FindPendingRuns(run_ids);
  if (!pending) return std::unexpected(pending.error());
  for (const auto& run : *pending) {
    auto finished = Execute(run);
    if (!finished) return std::unexpected(finished.error());
    if (*finished) ++report.runs_finished;
  }
  return report;
}

Result<bool> CommandProcessor::Execute(const PendingRun& run) {
  auto log = logging::Get("worker");
  auto started = store_.StartRun(run, settings_.worker_name, clock_.Now());
  if (!started) return std::unexpected(started.error());
  if (!*started) return false;  // finished by another worker meanwhile
  if (run.state == RunState::kStarted)
    log->warn("task={} run={} restarted (start {}): its previous start did not finish",
              run.task.id.ToString(), run.run_id.ToString(), (*started)->start_count);

  RunOutcome outcome;
  Handler* handler = handlers_.Find(run.handler);
  if (!handler) {
    outcome.state = RunState::kFailed;
    outcome.result = "no handler '" + run.handler + "' on worker " + settings_.worker_name;
  } else {
    struct : ProgressReporter {
      void Report(int, std::string) override {}
    } progress;
    CancellationToken cancel;
    auto result = handler->Run(HandlerContext{run.task, run.run_id, (*started)->start_count, 1,
                                              progress, cancel,
                                              std::chrono::steady_clock::time_point::max()});
    outcome.state = result ? RunState::kSucceeded : RunState::kFailed;
    outcome.result = result ? result->result : result.error().message;
  }
  outcome.finished_at = clock_.Now();
  auto notification = Notification(**started, outcome);
  if (auto s = store_.FinishRun(**started, outcome, notification); !s)
    return std::unexpected(s.error());
  if (notification && settings_.notification_written) settings_.notification_written();
  log->info("task={} run={} {} (start {}): {}", run.task.id.ToString(), run.run_id.ToString(),
            RunStateName(outcome.state), (*started)->start_count, outcome.result);
  return true;
}

std::optional<OutgoingMessage> CommandProcessor::Notification(const StartedRun& run,
                                                              const RunOutcome& outcome) const {
  const Task& task = run.run.task;
  bool succeeded = outcome.state == RunState::kSucceeded;
  if (succeeded ? !NotifiesOnSuccess(task.notification) : !NotifiesOnFailure(task.notification))
    return std::nullopt;
  CloudEvent e;
  e.id = Uuid::Random();
  e.source = settings_.source;
  e.type = succeeded ? kRunSucceededEvent : kRunFailedEvent;
  e.subject = task.id.ToString();
  e.time = outcome.finished_at;
  e.data = {
      {"task_id", task.id.ToString()},
      {"task_number", task.number},
      {"run_id", run.run.run_id.ToString()},
      {"task_type_id", task.task_type_id.ToString()},
      {"client_id", task.client_id ? nlohmann::json(task.client_id->ToString()) : nlohmann::json()},
      {"state", RunStateName(outcome.state)},
      {"start_count", run.start_count},
      {"started_at", FormatRfc3339(run.started_at)},
      {"finished_at", FormatRfc3339(outcome.finished_at)},
      {"result", outcome.result},
      {"worker", settings_.worker_name},
  };
  return OutgoingMessage{settings_.notifications_topic,
                         e.subject,
                         e.Serialize(),
                         {{"ce_type", e.type}, {"ce_id", e.id.ToString()}}};
}

}  // namespace conveyor

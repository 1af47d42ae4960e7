#include "task_commands.h"

#include "conveyor/cloud_event.h"
#include "conveyor/logging.h"
#include "conveyor/task_codec.h"

namespace conveyor {

TaskCommandService::TaskCommandService(TaskTypeCatalog& catalog, TaskNumberAllocator& numbers,
                                       EventPublisher& publisher, const Clock& clock,
                                       std::string commands_topic, std::string source)
    : catalog_(catalog),
      numbers_(numbers),
      publisher_(publisher),
      clock_(clock),
      commands_topic_(std::move(commands_topic)),
      source_(std::move(source)) {}

Result<CreatedTask> TaskCommandService::Create(const twosms::AccountTaskRequest& request,
                                               const std::string& caller) {
  auto type = catalog_.Find(request.task_type_id);
  if (!type) return std::unexpected(type.error());
  if (!*type)
    return Fail(ErrorCode::kInvalidArgument,
                request.task_type_id.ToString() + " is not a registered task type", "TaskID");
  auto number = numbers_.Next();
  if (!number) return std::unexpected(number.error());

  CreatedTask created;
  created.type = **type;
  Task& t = created.task;
  t.id = Uuid::Random();
  t.number = *number;
  t.task_type_id = request.task_type_id;
  t.enabled = true;
  t.frequency = request.frequency;
  t.start_date = request.start_date;
  t.finish_date = request.finish_date;
  t.parameters = request.parameters;
  t.content_type = request.content_type;
  t.notification = request.notification;
  t.created_at = clock_.Now();
  t.created_by = caller;

  CloudEvent event;
  event.id = Uuid::Random();
  event.source = source_;
  event.type = kTaskCreateCommand;
  event.subject = t.id.ToString();
  event.time = t.created_at;
  event.data = TaskToEventData(t);
  created.event_id = event.id;

  OutgoingMessage message{commands_topic_,
                          event.subject,
                          event.Serialize(),
                          {{"ce_type", event.type}, {"ce_id", event.id.ToString()}}};
  if (auto published = publisher_.Publish(message); !published)
    return std::unexpected(published.error());
  log_->info("task={} event={} accepted: create, type {}", event.subject, event.id.ToString(),
             created.type.name);
  return created;
}

Status TaskCommandService::Cancel(const Task& task, const std::string& caller) {
  CloudEvent event;
  event.id = Uuid::Random();
  event.source = source_;
  event.type = kTaskCancelCommand;
  event.subject = task.id.ToString();
  event.time = clock_.Now();
  event.data = {{"task_id", event.subject}, {"requested_by", caller}};
  OutgoingMessage message{commands_topic_,
                          event.subject,
                          event.Serialize(),
                          {{"ce_type", event.type}, {"ce_id", event.id.ToString()}}};
  if (auto published = publisher_.Publish(message); !published) return published;
  log_->info("task={} event={} accepted: cancel", event.subject, event.id.ToString());
  return {};
}

}  // namespace conveyor

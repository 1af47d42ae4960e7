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
  logging::Get("ingest")->info("task={} event={} accepted: create, type {}", event.subject,
                               event.id.ToString(), created.type.name);
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
  logging::Get("ingest")->info("task={} event={} accepted: cancel", event.subject,
                               event.id.ToString());
  return {};
}

Status TaskCommandService::PublishCommand(const CloudEvent& event) {
  OutgoingMessage message{commands_topic_,
                          event.subject,
                          event.Serialize(),
                          {{"ce_type", event.type}, {"ce_id", event.id.ToString()}}};
  return publisher_.Publish(message);
}

Result<CreatedTask> TaskCommandService::CreateTask(Task draft, const std::string& caller,
                                                   const std::string& type_field) {
  auto type = catalog_.Find(draft.task_type_id);
  if (!type) return std::unexpected(type.error());
  if (!*type)
    return Fail(ErrorCode::kInvalidArgument,
                draft.task_type_id.ToString() + " is not a registered task type", type_field);
  auto number = numbers_.Next();
  if (!number) return std::unexpected(number.error());

  CreatedTask created;
  created.type = **type;
  created.task = std::move(draft);
  Task& t = created.task;
  t.id = Uuid::Random();
  t.number = *number;
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
  if (auto published = PublishCommand(event); !published) return std::unexpected(published.error());
  logging::Get("ingest")->info("task={} event={} accepted: create, type {}", event.subject,
                               event.id.ToString(), created.type.name);
  return created;
}

Result<TaskNote> TaskCommandService::AddNote(const Task& task, std::string text,
                                             const std::string& caller) {
  auto id = numbers_.Next();
  if (!id) return std::unexpected(id.error());
  TaskNote note{*id, task.id, std::move(text), clock_.Now(), caller};
  CloudEvent event;
  event.id = Uuid::Random();
  event.source = source_;
  event.type = kTaskNoteAddCommand;
  event.subject = task.id.ToString();
  event.time = note.created_at;
  event.data = NoteToEventData(note);
  if (auto published = PublishCommand(event); !published) return std::unexpected(published.error());
  logging::Get("ingest")->info("task={} event={} accepted: note {}", event.subject,
                               event.id.ToString(), note.id);
  return note;
}

}  // namespace conveyor

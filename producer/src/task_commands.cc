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

Result<UpdatedTask> TaskCommandService::Update(const Task& current,
                                               const twosms::AccountTaskUpdateRequest& request,
                                               const std::string& caller) {
  const auto& f = request.fields;
  auto type = catalog_.Find(f.task_type_id);
  if (!type) return std::unexpected(type.error());
  if (!*type)
    return Fail(ErrorCode::kInvalidArgument,
                f.task_type_id.ToString() + " is not a registered task type", "TaskID");
  TaskUpdate u;
  u.task_id = current.id;
  u.task_type_id = f.task_type_id;
  u.enabled = request.enabled;
  u.frequency = f.frequency;
  u.start_date = f.start_date;
  u.finish_date = f.finish_date;
  u.parameters = f.parameters;
  u.content_type = f.content_type;
  u.notification = f.notification;
  u.requested_by = caller;
  auto event_id = Publish(kTaskUpdateCommand, current.id, TaskUpdateToEventData(u));
  if (!event_id) return std::unexpected(event_id.error());
  return UpdatedTask{ApplyUpdate(current, u), **type, *event_id};
}

Status TaskCommandService::Cancel(const Task& task, const std::string& caller) {
  auto published = Publish(kTaskCancelCommand, task.id,
                           {{"task_id", task.id.ToString()}, {"requested_by", caller}});
  if (!published) return std::unexpected(published.error());
  return {};
}

Status TaskCommandService::Delete(const Task& task, const std::string& caller) {
  auto published = Publish(kTaskDeleteCommand, task.id,
                           {{"task_id", task.id.ToString()}, {"requested_by", caller}});
  if (!published) return std::unexpected(published.error());
  return {};
}

Result<Uuid> TaskCommandService::Publish(std::string_view type, const Uuid& task_id,
                                         nlohmann::json data) {
  CloudEvent event;
  event.id = Uuid::Random();
  event.source = source_;
  event.type = type;
  event.subject = task_id.ToString();
  event.time = clock_.Now();
  event.data = std::move(data);
  OutgoingMessage message{commands_topic_,
                          event.subject,
                          event.Serialize(),
                          {{"ce_type", event.type}, {"ce_id", event.id.ToString()}}};
  if (auto published = publisher_.Publish(message); !published)
    return std::unexpected(published.error());
  logging::Get("ingest")->info("task={} event={} accepted: {}", event.subject, event.id.ToString(),
                               event.type);
  return event.id;
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

  auto event_id = Publish(kTaskCreateCommand, t.id, TaskToEventData(t));
  if (!event_id) return std::unexpected(event_id.error());
  created.event_id = *event_id;
  return created;
}

Result<UpdatedTask> TaskCommandService::UpdateTask(const Task& current, TaskUpdate update,
                                                   const std::string& caller,
                                                   const std::string& type_field) {
  auto type = catalog_.Find(update.task_type_id);
  if (!type) return std::unexpected(type.error());
  if (!*type)
    return Fail(ErrorCode::kInvalidArgument,
                update.task_type_id.ToString() + " is not a registered task type", type_field);
  update.task_id = current.id;
  update.requested_by = caller;
  auto event_id = Publish(kTaskUpdateCommand, current.id, TaskUpdateToEventData(update));
  if (!event_id) return std::unexpected(event_id.error());
  return UpdatedTask{ApplyUpdate(current, update), **type, *event_id};
}

Result<TaskNote> TaskCommandService::AddNote(const Task& task, std::string text,
                                             const std::string& caller) {
  auto id = numbers_.Next();
  if (!id) return std::unexpected(id.error());
  TaskNote note{*id, task.id, std::move(text), clock_.Now(), caller};
  auto event_id = Publish(kTaskNoteAddCommand, task.id, NoteToEventData(note));
  if (!event_id) return std::unexpected(event_id.error());
  return note;
}

}  // namespace conveyor

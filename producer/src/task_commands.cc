#include "task_commands.h"

#include "conveyor/cloud_event.h"
#include "conveyor/logging.h"
#include "conveyor/task_codec.h"

namespace conveyor {

TaskCommandService::TaskCommandService(TaskTypeCatalog& catalog, TaskNumberAllocator& numbers,
                                       ClientDirectory& clients, EventPublisher& publisher,
                                       const Clock& clock, std::string commands_topic,
                                       std::string source)
    : catalog_(catalog),
      numbers_(numbers),
      clients_(clients),
      publisher_(publisher),
      clock_(clock),
      commands_topic_(std::move(commands_topic)),
      source_(std::move(source)) {}

namespace {

// The client a new task belongs to: the calling client itself, or the one an admin names.
Result<Uuid> OwningClient(const twosms::AccountTaskRequest& request, const Caller& caller,
                          ClientDirectory& clients) {
  if (!caller.is_admin()) {
    if (request.client_id && *request.client_id != caller.id)
      return Fail(ErrorCode::kInvalidArgument,
                  "names another client; a client creates tasks for itself only (leave "
                  "ClientID out)",
                  "ClientID");
    return caller.id;
  }
  if (!request.client_id)
    return Fail(ErrorCode::kInvalidArgument,
                "is required when an admin key creates a task: name the client the task "
                "belongs to",
                "ClientID");
  auto found = clients.FindClient(*request.client_id);
  if (!found) return std::unexpected(found.error());
  if (!*found)
    return Fail(ErrorCode::kInvalidArgument,
                "no client " + request.client_id->ToString() +
                    " exists; a client must be created first (POST api/v1/admin/clients)",
                "ClientID");
  return *request.client_id;
}

}  // namespace

Result<CreatedTask> TaskCommandService::Create(const twosms::AccountTaskRequest& request,
                                               const Caller& caller) {
  auto client = OwningClient(request, caller, clients_);
  if (!client) return std::unexpected(client.error());
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
  t.client_id = *client;
  t.enabled = true;
  t.frequency = request.frequency;
  t.start_date = request.start_date;
  t.finish_date = request.finish_date;
  t.parameters = request.parameters;
  t.content_type = request.content_type;
  t.notification = request.notification;
  t.created_at = clock_.Now();
  t.created_by = caller.Identity();

  auto event_id = Publish(kTaskCreateCommand, t.id, TaskToEventData(t));
  if (!event_id) return std::unexpected(event_id.error());
  created.event_id = *event_id;
  logging::Get("ingest")->info("task={} event={} accepted: create, type {}, client {}, by {}",
                               t.id.ToString(), event_id->ToString(), created.type.name,
                               client->ToString(), t.created_by);
  return created;
}

Result<UpdatedTask> TaskCommandService::Update(const Task& current,
                                               const twosms::AccountTaskUpdateRequest& request,
                                               const Caller& caller) {
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
  u.requested_by = caller.Identity();
  auto event_id = Publish(kTaskUpdateCommand, current.id, TaskUpdateToEventData(u));
  if (!event_id) return std::unexpected(event_id.error());
  return UpdatedTask{ApplyUpdate(current, u), **type, *event_id};
}

Status TaskCommandService::Cancel(const Task& task, const Caller& caller) {
  auto published = Publish(kTaskCancelCommand, task.id,
                           {{"task_id", task.id.ToString()}, {"requested_by", caller.Identity()}});
  if (!published) return std::unexpected(published.error());
  return {};
}

Status TaskCommandService::Delete(const Task& task, const Caller& caller) {
  auto published = Publish(kTaskDeleteCommand, task.id,
                           {{"task_id", task.id.ToString()}, {"requested_by", caller.Identity()}});
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

}  // namespace conveyor

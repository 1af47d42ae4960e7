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

// The client a new task belongs to: the calling client itself, or the one an admin names
// (std::nullopt: none, for an admin's system task where `rule` allows it). `known` remembers
// the clients looked up so far (whether each exists), so that a bulk naming the same client a
// thousand times asks the directory once.
Result<std::optional<Uuid>> OwningClient(const std::optional<Uuid>& requested, const Caller& caller,
                                         ClientDirectory& clients,
                                         TaskCommandService::ClientRule rule,
                                         std::unordered_map<Uuid, bool>& known) {
  if (!caller.is_admin()) {
    if (requested && *requested != caller.id)
      return Fail(ErrorCode::kInvalidArgument,
                  "names another client; a client creates tasks for itself only (leave "
                  "ClientID out)",
                  "ClientID");
    return std::optional<Uuid>(caller.id);
  }
  if (!requested && rule == TaskCommandService::ClientRule::kSystemTaskAllowed)
    return std::optional<Uuid>();
  if (!requested)
    return Fail(ErrorCode::kInvalidArgument,
                "is required when an admin key creates a task: name the client the task "
                "belongs to",
                "ClientID");
  auto it = known.find(*requested);
  if (it == known.end()) {
    auto found = clients.FindClient(*requested);
    if (!found) return std::unexpected(found.error());
    it = known.emplace(*requested, found->has_value()).first;
  }
  if (!it->second)
    return Fail(ErrorCode::kInvalidArgument,
                "no client " + requested->ToString() +
                    " exists; a client must be created first (POST api/v1/admin/clients)",
                "ClientID");
  return requested;
}

// The task a TwoSms create request describes, before the service fills it in.
Task DraftOf(const twosms::AccountTaskRequest& request) {
  Task draft;
  draft.task_type_id = request.task_type_id;
  draft.client_id = request.client_id;
  draft.enabled = true;
  draft.frequency = request.frequency;
  draft.start_date = request.start_date;
  draft.finish_date = request.finish_date;
  draft.parameters = request.parameters;
  draft.content_type = request.content_type;
  draft.notification = request.notification;
  return draft;
}

}  // namespace

Result<CreatedTask> TaskCommandService::Create(const twosms::AccountTaskRequest& request,
                                               const Caller& caller) {
  return Create(DraftOf(request), caller, ClientRule::kRequired);
}

Result<TaskCommandService::PreparedCreate> TaskCommandService::PrepareCreate(
    Task draft, const Caller& caller, ClientRule rule, const std::string& type_field,
    KnownClients& known) {
  auto client = OwningClient(draft.client_id, caller, clients_, rule, known);
  if (!client) return std::unexpected(client.error());
  auto type = catalog_.Find(draft.task_type_id);
  if (!type) return std::unexpected(type.error());
  if (!*type)
    return Fail(ErrorCode::kInvalidArgument,
                draft.task_type_id.ToString() + " is not a registered task type", type_field);
  auto number = numbers_.Next();
  if (!number) return std::unexpected(number.error());

  PreparedCreate p;
  p.created.type = **type;
  p.created.task = std::move(draft);
  Task& t = p.created.task;
  t.id = Uuid::TimeOrdered();  // in creation order: the tasks index grows at its edge
  t.number = *number;
  t.created_at = clock_.Now();
  t.client_id = *client;
  t.created_by = caller.Identity();
  p.command = MakeCommand(kTaskCreateCommand, t.id, TaskToEventData(t));
  return p;
}

void TaskCommandService::Accepted(CreatedTask& created, const Command& command) const {
  const Task& t = created.task;
  created.event_id = command.event.id;
  log_->info("task={} event={} accepted: create, type {}, client {}, by {}", t.id.ToString(),
             command.event.id.ToString(), created.type.name,
             t.client_id ? t.client_id->ToString() : "none (system task)", t.created_by);
}

Result<CreatedTask> TaskCommandService::Create(Task draft, const Caller& caller, ClientRule rule,
                                               const std::string& type_field) {
  KnownClients known;
  auto p = PrepareCreate(std::move(draft), caller, rule, type_field, known);
  if (!p) return std::unexpected(p.error());
  if (auto published = publisher_.Publish(p->command.message); !published)
    return std::unexpected(published.error());
  Accepted(p->created, p->command);
  return std::move(p->created);
}

std::expected<std::vector<Result<CreatedTask>>, RefusedTask> TaskCommandService::CreateAll(
    std::span<const twosms::AccountTaskRequest> requests, const Caller& caller) {
  KnownClients known;
  std::vector<PreparedCreate> prepared;
  prepared.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto p = PrepareCreate(DraftOf(requests[i]), caller, ClientRule::kRequired, "TaskID", known);
    if (!p) return std::unexpected(RefusedTask{i, p.error()});
    prepared.push_back(std::move(*p));
  }
  std::vector<OutgoingMessage> messages;
  messages.reserve(prepared.size());
  for (auto& p : prepared) messages.push_back(std::move(p.command.message));
  auto acknowledged = publisher_.PublishAll(messages);
  std::vector<Result<CreatedTask>> out;
  out.reserve(prepared.size());
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    if (!acknowledged[i]) {
      out.push_back(std::unexpected(acknowledged[i].error()));
      continue;
    }
    Accepted(prepared[i].created, prepared[i].command);
    out.push_back(std::move(prepared[i].created));
  }
  return out;
}

Result<UpdatedTask> TaskCommandService::Update(const Task& current,
                                               const twosms::AccountTaskUpdateRequest& request,
                                               const Caller& caller) {
  const auto& f = request.fields;
  TaskUpdate u;
  u.task_type_id = f.task_type_id;
  u.enabled = request.enabled;
  u.frequency = f.frequency;
  u.start_date = f.start_date;
  u.finish_date = f.finish_date;
  u.parameters = f.parameters;
  u.content_type = f.content_type;
  u.notification = f.notification;
  return UpdateTask(current, std::move(u), caller, "TaskID");
}

Result<Uuid> TaskCommandService::BatchUpdate(const Task& task, BatchTaskUpdate update,
                                             const Caller& caller) {
  update.task_id = task.id;
  update.requested_by = caller.Identity();
  return Publish(kTaskBatchUpdateCommand, task.id, BatchTaskUpdateToEventData(update));
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

Status TaskCommandService::Delete(const std::vector<Task>& tasks, const Caller& caller) {
  std::vector<Command> commands;
  std::vector<OutgoingMessage> messages;
  for (const auto& t : tasks) {
    commands.push_back(
        MakeCommand(kTaskDeleteCommand, t.id,
                    {{"task_id", t.id.ToString()}, {"requested_by", caller.Identity()}}));
    messages.push_back(commands.back().message);
  }
  auto results = publisher_.PublishAll(messages);
  Status first_error;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto& e = commands[i].event;
    if (results[i])
      log_->info("task={} event={} accepted: {}", e.subject, e.id.ToString(), e.type);
    else if (first_error)
      first_error = std::unexpected(results[i].error());
  }
  return first_error;
}

TaskCommandService::Command TaskCommandService::MakeCommand(std::string_view type,
                                                            const Uuid& task_id,
                                                            nlohmann::json data) const {
  Command c;
  c.event.id = Uuid::TimeOrdered();  // also the id of the run a create queues
  c.event.source = source_;
  c.event.type = type;
  c.event.subject = task_id.ToString();
  c.event.time = clock_.Now();
  c.event.data = std::move(data);
  c.message = OutgoingMessage{commands_topic_,
                              c.event.subject,
                              c.event.Serialize(),
                              {{"ce_type", c.event.type}, {"ce_id", c.event.id.ToString()}}};
  return c;
}

Result<Uuid> TaskCommandService::Publish(std::string_view type, const Uuid& task_id,
                                         nlohmann::json data) {
  auto c = MakeCommand(type, task_id, std::move(data));
  if (auto published = publisher_.Publish(c.message); !published)
    return std::unexpected(published.error());
  log_->info("task={} event={} accepted: {}", c.event.subject, c.event.id.ToString(), c.event.type);
  return c.event.id;
}

Result<UpdatedTask> TaskCommandService::UpdateTask(const Task& current, TaskUpdate update,
                                                   const Caller& caller,
                                                   const std::string& type_field) {
  auto type = catalog_.Find(update.task_type_id);
  if (!type) return std::unexpected(type.error());
  if (!*type)
    return Fail(ErrorCode::kInvalidArgument,
                update.task_type_id.ToString() + " is not a registered task type", type_field);
  update.task_id = current.id;
  update.requested_by = caller.Identity();
  auto event_id = Publish(kTaskUpdateCommand, current.id, TaskUpdateToEventData(update));
  if (!event_id) return std::unexpected(event_id.error());
  return UpdatedTask{ApplyUpdate(current, update), **type, *event_id};
}

Result<TaskNote> TaskCommandService::AddNote(const Task& task, std::string text,
                                             const Caller& caller) {
  auto id = numbers_.Next();
  if (!id) return std::unexpected(id.error());
  TaskNote note{*id, task.id, std::move(text), clock_.Now(), caller.Identity()};
  auto event_id = Publish(kTaskNoteAddCommand, task.id, NoteToEventData(note));
  if (!event_id) return std::unexpected(event_id.error());
  return note;
}

}  // namespace conveyor

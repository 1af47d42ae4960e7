#include "commands/task_commands.h"

#include "conveyor/cloud_event.h"
#include "conveyor/logging.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "conveyor/trace_context.h"

namespace conveyor {

TaskCommandService::TaskCommandService(TaskTypeCatalog& catalog, TaskNumberAllocator& numbers,
                                       ClientDirectory& clients, EventPublisher& publisher,
                                       AcceptedWrites& accepted, const Clock& clock,
                                       std::string commands_topic, std::string source)
    : catalog_(catalog),
      numbers_(numbers),
      clients_(clients),
      publisher_(publisher),
      accepted_(accepted),
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

// AnchorSchedule for the fields an update sets.
void AnchorUpdate(TaskUpdate& u, Timestamp at) {
  Task t;
  t.frequency = u.frequency;
  t.start_date = u.start_date;
  if (u.schedule) t.schedule = *u.schedule;
  AnchorSchedule(t, at);
  u.start_date = t.start_date;
}

}  // namespace

Result<TaskCommandService::PreparedCreate> TaskCommandService::PrepareCreate(
    Task draft, const Caller& caller, ClientRule rule, const std::string& type_field,
    KnownClients& known, CreateIds ids) {
  auto client = OwningClient(draft.client_id, caller, clients_, rule, known);
  if (!client) return std::unexpected(client.error());
  auto type = catalog_.Find(draft.task_type_id);
  if (!type) return std::unexpected(type.error());
  // A type not granted to a client is, to that client, a type that does not exist.
  if (!*type || (!caller.is_admin() && !(*type)->GrantedTo(*client)))
    return Fail(ErrorCode::kInvalidArgument,
                draft.task_type_id.ToString() + " is not a registered task type", type_field);
  if (!(*type)->GrantedTo(*client))
    return Fail(ErrorCode::kInvalidArgument,
                "task type " + (*type)->name + " is not granted to client " + (*client)->ToString(),
                type_field);
  // In creation order (the tasks index grows at its edge), or named by the Idempotency-Key.
  const auto& fixed = ids.idempotency;
  auto name = [&](const char* what) {
    return Uuid::NameBased(fixed->key_id, std::string(what) + "/" + std::to_string(ids.index));
  };
  Uuid id = fixed ? name("task") : Uuid::TimeOrdered();
  auto number = fixed ? numbers_.NumberFor(id) : numbers_.Next();
  if (!number) return std::unexpected(number.error());

  PreparedCreate p;
  p.created.type = **type;
  p.created.task = std::move(draft);
  Task& t = p.created.task;
  t.id = id;
  t.number = *number;
  t.created_at = fixed ? fixed->first_at : clock_.Now();
  t.client_id = *client;
  t.created_by = caller.Identity();
  AnchorSchedule(t, t.created_at);
  p.command =
      MakeCommand(kTaskCreateCommand, t.id, TaskToEventData(t),
                  fixed ? std::optional(FixedEvent{name("event"), fixed->first_at}) : std::nullopt);
  return p;
}

AcceptedTask TaskCommandService::Accepted(CreatedTask& created, const Command& command,
                                          const Delivery& delivery) const {
  const Task& t = created.task;
  created.event_id = command.event.id;
  log_->info("task={} event={} trace={} accepted: create, type {}, client {}, by {}",
             t.id.ToString(), command.event.id.ToString(), TraceIdOf(command.event.traceparent),
             created.type.name, t.client_id ? t.client_id->ToString() : "none (system task)",
             t.created_by);
  return AcceptedTask{t,  t.created_at,     t.created_by,   std::nullopt,
                      {}, command.event.id, delivery.offset};
}

AcceptedTask TaskCommandService::Changed(Task task, const Published& command,
                                         const std::string& by) {
  return AcceptedTask{std::move(task),  command.event.time,     by, std::nullopt, {},
                      command.event.id, command.delivery.offset};
}

void TaskCommandService::RecordThen(std::vector<AcceptedTask> tasks,
                                    std::vector<AcceptedNote> notes, std::function<void()> then) {
  auto count = tasks.size() + notes.size();
  accepted_.RecordThen(std::move(tasks), std::move(notes),
                       [this, count, then = std::move(then)](const Status& s) {
                         if (!s)
                           log_->warn(
                               "{} accepted command(s) are in Kafka but not recorded for reads "
                               "({}); the caller's next request may not see them until a "
                               "worker applied them",
                               count, s.error().Describe());
                         then();
                       });
}

void TaskCommandService::CreateThen(Task draft, const Caller& caller, ClientRule rule,
                                    const std::string& type_field,
                                    const std::optional<IdempotentCreate>& idempotency,
                                    CreateDone done) {
  std::vector<Task> one{std::move(draft)};
  CreateAllThen(one, caller, rule, type_field, idempotency,
                [done = std::move(done)](CreateAllResult all) {
                  if (!all) return done(std::unexpected(std::move(all.error().error)));
                  done(std::move(all->front()));
                });
}

void TaskCommandService::CreateAllThen(std::span<const Task> drafts, const Caller& caller,
                                       ClientRule rule, const std::string& type_field,
                                       const std::optional<IdempotentCreate>& idempotency,
                                       CreateAllDone done) {
  KnownClients known;
  std::vector<PreparedCreate> prepared;
  prepared.reserve(drafts.size());
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    auto p = PrepareCreate(drafts[i], caller, rule, type_field, known, {idempotency, i});
    if (!p) return done(std::unexpected(RefusedTask{i, p.error()}));
    prepared.push_back(std::move(*p));
  }
  std::vector<OutgoingMessage> messages;
  messages.reserve(prepared.size());
  for (auto& p : prepared) messages.push_back(std::move(p.command.message));
  publisher_.PublishAllThen(
      messages, [this, prepared = std::move(prepared),
                 done = std::move(done)](std::vector<Result<Delivery>> deliveries) mutable {
        FinishCreates(std::move(prepared), std::move(deliveries), std::move(done));
      });
}

void TaskCommandService::FinishCreates(std::vector<PreparedCreate> prepared,
                                       std::vector<Result<Delivery>> deliveries,
                                       CreateAllDone done) {
  auto out = std::make_shared<std::vector<Result<CreatedTask>>>();
  std::vector<AcceptedTask> accepted;
  out->reserve(prepared.size());
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    if (!deliveries[i]) {
      out->push_back(std::unexpected(deliveries[i].error()));
      continue;
    }
    accepted.push_back(Accepted(prepared[i].created, prepared[i].command, *deliveries[i]));
    out->push_back(std::move(prepared[i].created));
  }
  RecordThen(std::move(accepted), {}, [out, done = std::move(done)] { done(std::move(*out)); });
}

void TaskCommandService::RepublishCreateThen(const AcceptedTask& record, StatusDone done) {
  const Task& t = record.task;
  auto command = MakeCommand(kTaskCreateCommand, t.id, TaskToEventData(t),
                             FixedEvent{record.event_id, t.created_at});
  publisher_.PublishThen(command.message, [done = std::move(done)](Result<Delivery> delivery) {
    if (!delivery) return done(std::unexpected(delivery.error()));
    done({});
  });
}

void TaskCommandService::BatchUpdateThen(const Task& task, BatchTaskUpdate update,
                                         const Caller& caller, EventDone done) {
  update.task_id = task.id;
  update.requested_by = caller.Identity();
  auto data = BatchTaskUpdateToEventData(update);
  PublishThen(kTaskBatchUpdateCommand, task.id, std::move(data),
              [this, task, update = std::move(update),
               done = std::move(done)](Result<Published> published) {
                if (!published) return done(std::unexpected(published.error()));
                auto id = published->event.id;
                RecordThen(
                    {Changed(ApplyBatchUpdate(task, update), *published, update.requested_by)}, {},
                    [done, id] { done(id); });
              });
}

void TaskCommandService::CancelThen(const Task& task, const Caller& caller, StatusDone done) {
  // Nothing to record: a cancel changes the task's runs, which only a worker writes.
  PublishThen(kTaskCancelCommand, task.id,
              {{"task_id", task.id.ToString()}, {"requested_by", caller.Identity()}},
              [done = std::move(done)](Result<Published> published) {
                if (!published) return done(std::unexpected(published.error()));
                done({});
              });
}

void TaskCommandService::DeleteThen(std::vector<Task> tasks, const Caller& caller,
                                    StatusDone done) {
  std::vector<Command> commands;
  std::vector<OutgoingMessage> messages;
  commands.reserve(tasks.size());
  messages.reserve(tasks.size());
  for (const auto& t : tasks) {
    commands.push_back(
        MakeCommand(kTaskDeleteCommand, t.id,
                    {{"task_id", t.id.ToString()}, {"requested_by", caller.Identity()}}));
    messages.push_back(commands.back().message);
  }
  publisher_.PublishAllThen(
      messages,
      [this, tasks = std::move(tasks), commands = std::move(commands), by = caller.Identity(),
       done = std::move(done)](std::vector<Result<Delivery>> deliveries) {
        FinishDeletes(tasks, commands, deliveries, by, done);
      });
}

void TaskCommandService::FinishDeletes(const std::vector<Task>& tasks,
                                       const std::vector<Command>& commands,
                                       const std::vector<Result<Delivery>>& deliveries,
                                       const std::string& by, StatusDone done) {
  Status first_error;
  std::vector<AcceptedTask> deleted;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto& e = commands[i].event;
    if (!deliveries[i]) {
      if (first_error) first_error = std::unexpected(deliveries[i].error());
      continue;
    }
    log_->info("task={} event={} trace={} accepted: {}", e.subject, e.id.ToString(),
               TraceIdOf(e.traceparent), e.type);
    deleted.push_back(Changed(tasks[i], {e, *deliveries[i]}, by));
    deleted.back().deleted_at = e.time;
    deleted.back().deleted_by = by;
  }
  RecordThen(std::move(deleted), {},
             [first_error = std::move(first_error), done = std::move(done)] { done(first_error); });
}

TaskCommandService::Command TaskCommandService::MakeCommand(
    std::string_view type, const Uuid& task_id, nlohmann::json data,
    const std::optional<FixedEvent>& fixed) const {
  Command c;
  c.event.id = fixed ? fixed->id : Uuid::TimeOrdered();  // also the id of the run a create queues
  c.event.source = source_;
  c.event.type = type;
  c.event.subject = task_id.ToString();
  c.event.time = fixed ? fixed->time : clock_.Now();
  c.event.data = std::move(data);
  if (const auto* trace = CurrentTrace()) c.event.traceparent = trace->ToTraceparent();
  c.message = OutgoingMessage{commands_topic_,
                              c.event.subject,
                              c.event.Serialize(),
                              {{"ce_type", c.event.type}, {"ce_id", c.event.id.ToString()}}};
  return c;
}

void TaskCommandService::PublishThen(std::string_view type, const Uuid& task_id,
                                     nlohmann::json data, PublishedDone done) {
  auto c = MakeCommand(type, task_id, std::move(data));
  publisher_.PublishThen(c.message, [this, event = std::move(c.event),
                                     done = std::move(done)](Result<Delivery> delivery) {
    if (!delivery) return done(std::unexpected(delivery.error()));
    log_->info("task={} event={} trace={} accepted: {}", event.subject, event.id.ToString(),
               TraceIdOf(event.traceparent), event.type);
    done(Published{event, *delivery});
  });
}

void TaskCommandService::UpdateTaskThen(const Task& current, TaskUpdate update,
                                        const Caller& caller, const std::string& type_field,
                                        UpdateDone done) {
  auto type = catalog_.Find(update.task_type_id);
  if (!type) return done(std::unexpected(type.error()));
  if (!*type)
    return done(Fail(ErrorCode::kInvalidArgument,
                     update.task_type_id.ToString() + " is not a registered task type",
                     type_field));
  update.task_id = current.id;
  update.requested_by = caller.Identity();
  AnchorUpdate(update, clock_.Now());
  auto data = TaskUpdateToEventData(update);
  PublishThen(kTaskUpdateCommand, current.id, std::move(data),
              [this, current, update = std::move(update), type = std::move(**type),
               done = std::move(done)](Result<Published> published) {
                if (!published) return done(std::unexpected(published.error()));
                UpdatedTask updated{ApplyUpdate(current, update), type, published->event.id};
                auto record = Changed(updated.task, *published, update.requested_by);
                RecordThen({std::move(record)}, {},
                           [updated = std::move(updated), done] { done(updated); });
              });
}

void TaskCommandService::RunNowThen(const Task& task, const Caller& caller, EventDone done) {
  // Nothing to record: it adds a run, which only a worker writes.
  PublishThen(kTaskFireCommand, task.id,
              FireToEventData({task.id, clock_.Now(), true, caller.Identity()}),
              [done = std::move(done)](Result<Published> published) {
                if (!published) return done(std::unexpected(published.error()));
                done(published->event.id);
              });
}

void TaskCommandService::AddNoteThen(const Task& task, std::string text, const Caller& caller,
                                     NoteDone done) {
  auto id = numbers_.Next();
  if (!id) return done(std::unexpected(id.error()));
  TaskNote note{*id, task.id, std::move(text), clock_.Now(), caller.Identity()};
  auto data = NoteToEventData(note);
  PublishThen(
      kTaskNoteAddCommand, task.id, std::move(data),
      [this, task, note = std::move(note), done = std::move(done)](Result<Published> published) {
        if (!published) return done(std::unexpected(published.error()));
        // A note also makes the task modified, as the worker records it.
        auto modified = Changed(task, *published, note.created_by);
        modified.modified_at = note.created_at;
        RecordThen({std::move(modified)}, {{note, published->event.id}},
                   [note, done] { done(note); });
      });
}

}  // namespace conveyor

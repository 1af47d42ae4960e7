// TaskCommandService turns validated requests into command events (conveyor.task.create,
// .update, .cancel, .delete, .note.add, ...) and publishes them. Each call returns at once and
// answers through a continuation once Kafka acknowledged the event: the producer's write
// routes hold no thread while the broker acknowledges.
//
// It checks the task type against the catalogue and the task's client (a client caller's
// tasks are its own; an admin names the client in ClientID, or starts a system task where the
// dialect allows it), allocates a new task's UUID and integer number, and builds the CloudEvent
// keyed by the task id. The worker applies the event to PostgreSQL; once Kafka acknowledged it,
// the service also records the task as the command leaves it (AcceptedWrites), so that the
// caller's next request sees it before any worker applied it (docs/adr/0006). Thread-safe
// when its ports are.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/caller.h"
#include "auth/client_directory.h"
#include "commands/accepted_writes.h"
#include "commands/idempotent_create.h"
#include "conveyor/clock.h"
#include "conveyor/cloud_event.h"
#include "conveyor/event_publisher.h"
#include "conveyor/logging.h"
#include "conveyor/result.h"
#include "conveyor/task.h"
#include "conveyor/task_types.h"

namespace conveyor {

// Hands out unique integer task numbers.
class TaskNumberAllocator {
 public:
  virtual ~TaskNumberAllocator() = default;
  virtual Result<std::int64_t> Next() = 0;
  // The number of the task with this id: a new one the first time, the same one after (for
  // ids an Idempotency-Key names, whose create may be attempted more than once).
  virtual Result<std::int64_t> NumberFor(const Uuid& task_id) = 0;
};

struct CreatedTask {
  Task task;
  TaskType type;
  Uuid event_id;
};

// Why CreateAll refused a whole request: the first task that failed its checks (0-based, in
// request order) and why.
struct RefusedTask {
  std::size_t index = 0;
  Error error;
};

struct UpdatedTask {
  Task task;      // the task as it will be once the update is applied
  TaskType type;  // its (possibly new) type
  Uuid event_id;
};

class TaskCommandService {
 public:
  // What each command hands its answer to, once: at once for a refusal, else once Kafka
  // acknowledged the command (and, for a command that changes the task, it was recorded:
  // AcceptedWrites), on the thread that learnt it, which the continuation must not hold up
  // long. No thread waits for Kafka meanwhile.
  using CreateDone = std::function<void(Result<CreatedTask>)>;
  using CreateAllResult = std::expected<std::vector<Result<CreatedTask>>, RefusedTask>;
  using CreateAllDone = std::function<void(CreateAllResult)>;
  using UpdateDone = std::function<void(Result<UpdatedTask>)>;
  using EventDone = std::function<void(Result<Uuid>)>;
  using NoteDone = std::function<void(Result<TaskNote>)>;
  using StatusDone = std::function<void(Status)>;

  TaskCommandService(TaskTypeCatalog& catalog, TaskNumberAllocator& numbers,
                     ClientDirectory& clients, EventPublisher& publisher, AcceptedWrites& accepted,
                     const Clock& clock, std::string commands_topic, std::string source);

  // Whether an admin caller may create a task that belongs to no client.
  enum class ClientRule {
    kRequired,           // TwoSms: an admin names the client (ClientID)
    kSystemTaskAllowed,  // SuperOffice, Oracle: an admin may create a system task (no client)
  };
  // Creates the task a dialect decoded: `draft` carries the type, the dialect's fields and the
  // client the request named (client_id, if any); id, number, client, created_at and
  // created_by (the caller's Identity()) are filled in here. The task belongs to the calling
  // client, or, for an admin caller, to the client that draft.client_id names (or to none, as
  // `rule` allows). `done` gets the created task, or kInvalidArgument naming `type_field` (the
  // dialect's name for the type) for a type that is not registered, and naming ClientID for a
  // client id that an admin left out (kRequired), that names no client, or that a client set
  // to another client; kUnavailable when Kafka or PostgreSQL did not answer in time, in which
  // case no task was created. The checks, the task's number and its event are made on the
  // calling thread.
  //
  // With `idempotency` (http/idempotency.h) the task's id, number and command id are derived
  // from its key id, and its creation time is its first attempt's, so that attempting the same
  // create again makes the same command, which a worker applies once.
  void CreateThen(Task draft, const Caller& caller, ClientRule rule, const std::string& type_field,
                  const std::optional<IdempotentCreate>& idempotency, CreateDone done);

  // Creates several tasks (the TwoSms bulk create) with the same rules as CreateThen, all or
  // nothing as far as the checks go: every task is checked (client rules, type), numbered and
  // made into its event before any is published; the first that fails is the RefusedTask
  // (kInvalidArgument naming the field as CreateThen does, or kUnavailable when PostgreSQL did
  // not answer) and nothing is published. Then all are published together
  // (EventPublisher::PublishAllThen) and the answer is one Result per task, in order: the
  // created task, or kUnavailable for one Kafka did not acknowledge (that task was not created;
  // the others were). `idempotency` as for CreateThen (each task's ids derived from it and the
  // task's index).
  void CreateAllThen(std::span<const Task> drafts, const Caller& caller, ClientRule rule,
                     const std::string& type_field,
                     const std::optional<IdempotentCreate>& idempotency, CreateAllDone done);

  // Publishes conveyor.task.batch-update for `task` with `update`'s fields (its task_id and
  // requested_by are filled in here); answers the event's id, which names the new run of a
  // run_again. kUnavailable as for CreateThen, in which case nothing changes. The caller's
  // right to the task and the change itself (e.g. CancellationBehaviour) are checked before.
  // `task` is the task as the caller last saw it (its fields are recorded as the update leaves
  // them).
  void BatchUpdateThen(const Task& task, BatchTaskUpdate update, const Caller& caller,
                       EventDone done);

  // Publishes conveyor.task.cancel for the task (requested_by: the caller's Identity()):
  // the worker that runs it signals its handler, or ends a waiting run cancelled.
  // kUnavailable when Kafka did not acknowledge. The caller's right to the task is checked
  // before (Caller::MaySee).
  void CancelThen(const Task& task, const Caller& caller, StatusDone done);

  // Publishes conveyor.task.delete for each task, together (EventPublisher::PublishAllThen):
  // the worker cancels the task's run and marks the task deleted. kUnavailable when Kafka did
  // not acknowledge one of them; the others may be deleted.
  void DeleteThen(std::vector<Task> tasks, const Caller& caller, StatusDone done);

  // Publishes conveyor.task.update as given (TwoSms PUT replaces the fields; Oracle PATCH
  // builds the whole update from the current task), with the caller's Identity() as
  // requested_by, and answers the task as the update leaves it. kInvalidArgument naming
  // `type_field` for an unknown task type; kUnavailable when Kafka did not acknowledge, in
  // which case nothing changes. The caller's right to the task is checked before.
  void UpdateTaskThen(const Task& current, TaskUpdate update, const Caller& caller,
                      const std::string& type_field, UpdateDone done);

  // Publishes conveyor.task.fire asking for one run of `task` at once, outside its schedule
  // and its overlap policy (docs/scheduling.md, run now); answers the run's id.
  // kUnavailable when Kafka did not acknowledge. The caller's right to the task is checked
  // before.
  void RunNowThen(const Task& task, const Caller& caller, EventDone done);

  // Publishes conveyor.task.note.add for `task` with a freshly allocated note id, written by
  // the caller (created_by: its Identity()); answers the note. kUnavailable when Kafka or
  // PostgreSQL did not answer. The caller's right to the task is checked before.
  void AddNoteThen(const Task& task, std::string text, const Caller& caller, NoteDone done);

  // Publishes again the create of the task `record` holds, whose own command Kafka
  // acknowledged and no worker ever read (CreateRedrive): the task as recorded, under the
  // record's event id, so that a worker that did read the first ignores this one (its inbox).
  // `done` gets kUnavailable when Kafka did not acknowledge.
  void RepublishCreateThen(const AcceptedTask& record, StatusDone done);

 private:
  // Such an event and the Kafka message that carries it.
  struct Command {
    CloudEvent event;
    OutgoingMessage message;
  };
  // A command Kafka acknowledged, and where it put it.
  struct Published {
    CloudEvent event;
    Delivery delivery;
  };
  // Publishes a command event of `type` about `task_id`; `done` gets it once Kafka
  // acknowledged it (on the delivery thread), or why not.
  using PublishedDone = std::function<void(Result<Published>)>;
  void PublishThen(std::string_view type, const Uuid& task_id, nlohmann::json data,
                   PublishedDone done);
  // A new event id and the time now, unless `fixed` gives them.
  struct FixedEvent {
    Uuid id;
    Timestamp time;
  };
  Command MakeCommand(std::string_view type, const Uuid& task_id, nlohmann::json data,
                      const std::optional<FixedEvent>& fixed = std::nullopt) const;
  // A create checked (client rules, type), numbered and made into its command, not published.
  struct PreparedCreate {
    CreatedTask created;
    Command command;
  };
  // The clients already found during one call (CreateAll names the same one many times).
  using KnownClients = std::unordered_map<Uuid, bool>;
  // The task's ids and time: new ones, or those `idempotency` fixes for the request's
  // `index`th task.
  struct CreateIds {
    const std::optional<IdempotentCreate>& idempotency;
    std::size_t index = 0;
  };
  Result<PreparedCreate> PrepareCreate(Task draft, const Caller& caller, ClientRule rule,
                                       const std::string& type_field, KnownClients& known,
                                       CreateIds ids);
  // Logs a create that Kafka acknowledged at `delivery`; `created` carries the event's id from
  // here on. Returns what Record() keeps of it.
  AcceptedTask Accepted(CreatedTask& created, const Command& command,
                        const Delivery& delivery) const;
  // The task as `command`, acknowledged at `delivery`, leaves it.
  static AcceptedTask Changed(Task task, const Published& command, const std::string& by);
  // AcceptedWrites::RecordThen; `then` runs once the record was written or not. A failure is
  // logged, not answered: the commands are in Kafka and will be applied, only the caller's
  // next read may not see them until then.
  void RecordThen(std::vector<AcceptedTask> tasks, std::vector<AcceptedNote> notes,
                  std::function<void()> then);
  // The creates Kafka acknowledged, recorded; then `done` gets one Result per create.
  void FinishCreates(std::vector<PreparedCreate> prepared, std::vector<Result<Delivery>> deliveries,
                     CreateAllDone done);
  // The deletes Kafka acknowledged, logged and recorded; then `done` gets the first failure.
  void FinishDeletes(const std::vector<Task>& tasks, const std::vector<Command>& commands,
                     const std::vector<Result<Delivery>>& deliveries, const std::string& by,
                     StatusDone done);

  TaskTypeCatalog& catalog_;
  TaskNumberAllocator& numbers_;
  ClientDirectory& clients_;
  EventPublisher& publisher_;
  AcceptedWrites& accepted_;
  const Clock& clock_;
  std::string commands_topic_;
  std::string source_;
  // Held, not looked up per request: logging::Get takes two locks that every HTTP thread
  // would contend for.
  std::shared_ptr<spdlog::logger> log_ = logging::Get("ingest");
};

}  // namespace conveyor

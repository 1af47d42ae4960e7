// TaskCommandService turns validated requests into command events (conveyor.task.create,
// .update, .cancel, .delete) and publishes them; each call returns only once Kafka
// acknowledged the event.
//
// It checks the task type against the catalogue, allocates a new task's UUID and integer
// number, and builds the CloudEvent keyed by the task id. Nothing is written anywhere but
// Kafka: the worker applies the event to PostgreSQL. Thread-safe when its ports are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "conveyor/clock.h"
#include "conveyor/cloud_event.h"
#include "conveyor/event_publisher.h"
#include "conveyor/result.h"
#include "conveyor/task.h"
#include "conveyor/task_types.h"
#include "twosms.h"

namespace conveyor {

// Hands out unique integer task numbers.
class TaskNumberAllocator {
 public:
  virtual ~TaskNumberAllocator() = default;
  virtual Result<std::int64_t> Next() = 0;
};

struct CreatedTask {
  Task task;
  TaskType type;
  Uuid event_id;
};

struct UpdatedTask {
  Task task;      // the task as it will be once the update is applied
  TaskType type;  // its (possibly new) type
  Uuid event_id;
};

class TaskCommandService {
 public:
  TaskCommandService(TaskTypeCatalog& catalog, TaskNumberAllocator& numbers,
                     EventPublisher& publisher, const Clock& clock, std::string commands_topic,
                     std::string source);

  // kInvalidArgument (field TaskID) for an unknown task type; kUnavailable when Kafka or
  // PostgreSQL did not answer in time, in which case no task was created.
  Result<CreatedTask> Create(const twosms::AccountTaskRequest& request, const std::string& caller);

  // Publishes conveyor.task.update replacing `current`'s fields with the request's (and
  // Enabled when given). kInvalidArgument (field TaskID) for an unknown task type;
  // kUnavailable as for Create, in which case nothing changes.
  Result<UpdatedTask> Update(const Task& current, const twosms::AccountTaskUpdateRequest& request,
                             const std::string& caller);

  // Publishes conveyor.task.cancel for the task: the worker that runs it signals its
  // handler, or ends a waiting run cancelled. kUnavailable when Kafka did not acknowledge.
  Status Cancel(const Task& task, const std::string& caller);

  // Publishes conveyor.task.delete: the worker cancels the task's run and marks the task
  // deleted. kUnavailable when Kafka did not acknowledge.
  Status Delete(const Task& task, const std::string& caller);

  // The dialect-neutral create: `draft` carries what the request said (type, name,
  // parameters, ...); this allocates its id and number, stamps created_at/created_by and
  // publishes conveyor.task.create. The same errors as Create; a type that is not registered
  // is kInvalidArgument naming `type_field`.
  Result<CreatedTask> CreateTask(Task draft, const std::string& caller,
                                 const std::string& type_field);

  // Publishes conveyor.task.update as given (Oracle PATCH builds the whole update from the
  // current task). kInvalidArgument naming `type_field` for an unknown task type;
  // kUnavailable when Kafka did not acknowledge, in which case nothing changes.
  Result<UpdatedTask> UpdateTask(const Task& current, TaskUpdate update, const std::string& caller,
                                 const std::string& type_field);

  // Publishes conveyor.task.note.add for `task` with a freshly allocated note id; returns the
  // note once Kafka acknowledged it. kUnavailable when Kafka or PostgreSQL did not answer.
  Result<TaskNote> AddNote(const Task& task, std::string text, const std::string& caller);

 private:
  // Publishes a command event of `type` about `task_id`; returns the event's id.
  Result<Uuid> Publish(std::string_view type, const Uuid& task_id, nlohmann::json data);

  TaskTypeCatalog& catalog_;
  TaskNumberAllocator& numbers_;
  EventPublisher& publisher_;
  const Clock& clock_;
  std::string commands_topic_;
  std::string source_;
};

}  // namespace conveyor

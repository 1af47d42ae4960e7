// TaskCommandService turns a validated create request into a conveyor.task.create command
// event and publishes it; it returns only once Kafka acknowledged the event.
//
// It checks the task type against the catalogue and the task's client (a client caller's
// tasks are its own; an admin names the client in ClientID), allocates the task's UUID and integer
// number, and builds the CloudEvent keyed by the task id. Nothing is written anywhere but
// Kafka: the worker applies the event to PostgreSQL. Thread-safe when its ports are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "caller.h"
#include "client_directory.h"
#include "conveyor/clock.h"
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

class TaskCommandService {
 public:
  TaskCommandService(TaskTypeCatalog& catalog, TaskNumberAllocator& numbers,
                     ClientDirectory& clients, EventPublisher& publisher, const Clock& clock,
                     std::string commands_topic, std::string source);

  // The task belongs to the calling client, or, for an admin caller, to the client that
  // request.client_id names; the caller's Identity() is recorded as created_by.
  // kInvalidArgument for an unknown task type (field TaskID), and for a ClientID that an
  // admin left out, that names no client, or that a client set to another client (field
  // ClientID); kUnavailable when Kafka or PostgreSQL did not answer in time, in which case
  // no task was created.
  Result<CreatedTask> Create(const twosms::AccountTaskRequest& request, const Caller& caller);

  // Publishes conveyor.task.cancel for the task (requested_by: the caller's Identity()):
  // the worker that runs it signals its handler, or ends a waiting run cancelled.
  // kUnavailable when Kafka did not acknowledge. The caller's right to the task is checked
  // before (Caller::MaySee).
  Status Cancel(const Task& task, const Caller& caller);

 private:
  TaskTypeCatalog& catalog_;
  TaskNumberAllocator& numbers_;
  ClientDirectory& clients_;
  EventPublisher& publisher_;
  const Clock& clock_;
  std::string commands_topic_;
  std::string source_;
};

}  // namespace conveyor

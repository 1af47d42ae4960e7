// Commands as a worker's store receives them, for the tests of the stores on PostgreSQL.
#pragma once

#include "conveyor/cloud_event.h"
#include "conveyor/task_codec.h"
#include "src/task_store.h"

namespace conveyor::testing {

// The conveyor.task.create of `task` as consumed from the commands topic: event `event_id`
// from /test at the task's creation time, its data the task's encoding.
inline IncomingCommand CreateCommandOf(const Task& task, const Uuid& event_id = Uuid::Random()) {
  IncomingCommand c;
  c.task = task;
  c.event.id = event_id;
  c.event.source = "/test";
  c.event.type = kTaskCreateCommand;
  c.event.subject = task.id.ToString();
  c.event.time = task.created_at;
  c.event.data = TaskToEventData(task);
  c.topic = "commands";
  return c;
}

}  // namespace conveyor::testing

// The JSON form of a Task inside command events (schemas/events/conveyor.task.create.json).
// Field names are snake_case; dates are RFC 3339 UTC; enums are their Conveyor names.
#pragma once

#include <nlohmann/json.hpp>

#include "conveyor/result.h"
#include "conveyor/task.h"

namespace conveyor {

nlohmann::json TaskToEventData(const Task& task);
Result<Task> TaskFromEventData(const nlohmann::json& data);

// The data of conveyor.task.update (schemas/events/conveyor.task.update.json).
nlohmann::json TaskUpdateToEventData(const TaskUpdate& update);
Result<TaskUpdate> TaskUpdateFromEventData(const nlohmann::json& data);

// The data of conveyor.task.batch-update (schemas/events/conveyor.task.batch-update.json):
// a field left unchanged is absent.
nlohmann::json BatchTaskUpdateToEventData(const BatchTaskUpdate& update);
Result<BatchTaskUpdate> BatchTaskUpdateFromEventData(const nlohmann::json& data);

// The data of conveyor.task.note.add (schemas/events/conveyor.task.note.add.json).
nlohmann::json NoteToEventData(const TaskNote& note);
Result<TaskNote> NoteFromEventData(const nlohmann::json& data);

}  // namespace conveyor

// The JSON form of a Task inside command events (schemas/events/conveyor.task.create.json).
// Field names are snake_case; dates are RFC 3339 UTC; enums are their Conveyor names.
#pragma once

#include <nlohmann/json.hpp>

#include "conveyor/result.h"
#include "conveyor/task.h"

namespace conveyor {

struct TaskView;  // conveyor/task_view.h

// A task's scheduling extension as events and the tasks.schedule column carry it: an object
// with "recurrence", "time_zone", "catch_up", "catch_up_limit" and "overlap", each only when it
// is not its default (a task without the extension: {}).
nlohmann::json ScheduleToJson(const TaskSchedule& schedule);
Result<TaskSchedule> ScheduleFromJson(const nlohmann::json& json);

nlohmann::json TaskToEventData(const Task& task);
Result<Task> TaskFromEventData(const nlohmann::json& data);

// The data of conveyor.task.update (schemas/events/conveyor.task.update.json).
nlohmann::json TaskUpdateToEventData(const TaskUpdate& update);
Result<TaskUpdate> TaskUpdateFromEventData(const nlohmann::json& data);

// The data of conveyor.task.batch-update (schemas/events/conveyor.task.batch-update.json):
// a field left unchanged is absent.
nlohmann::json BatchTaskUpdateToEventData(const BatchTaskUpdate& update);
Result<BatchTaskUpdate> BatchTaskUpdateFromEventData(const nlohmann::json& data);

// The data of conveyor.task.fire (schemas/events/conveyor.task.fire.json).
nlohmann::json FireToEventData(const TaskFire& fire);
Result<TaskFire> FireFromEventData(const nlohmann::json& data);

// The data of conveyor.task.state (schemas/events/conveyor.task.state.json): the task as the
// API shows it, its fields as a create carries them ("task") beside what the projection adds.
nlohmann::json TaskStateToEventData(const TaskView& view);

// The data of conveyor.task.note.add (schemas/events/conveyor.task.note.add.json).
nlohmann::json NoteToEventData(const TaskNote& note);
Result<TaskNote> NoteFromEventData(const nlohmann::json& data);

}  // namespace conveyor

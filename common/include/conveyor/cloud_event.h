// CloudEvents 1.0 envelopes in the structured JSON mode, as carried on conveyor.commands and
// conveyor.notifications (schemas/events/). The Kafka key of every event is its `subject`,
// the task id, so all events of a task share a partition.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

// Command event types (conveyor.commands).
inline constexpr std::string_view kTaskCreateCommand = "conveyor.task.create";
inline constexpr std::string_view kTaskCancelCommand = "conveyor.task.cancel";
inline constexpr std::string_view kTaskUpdateCommand = "conveyor.task.update";
inline constexpr std::string_view kTaskDeleteCommand = "conveyor.task.delete";
inline constexpr std::string_view kTaskBatchUpdateCommand = "conveyor.task.batch-update";
inline constexpr std::string_view kTaskNoteAddCommand = "conveyor.task.note.add";
inline constexpr std::string_view kTaskFireCommand = "conveyor.task.fire";
// Notification event types (conveyor.notifications).
inline constexpr std::string_view kRunSucceededEvent = "conveyor.run.succeeded";
inline constexpr std::string_view kRunFailedEvent = "conveyor.run.failed";
inline constexpr std::string_view kRunCancelledEvent = "conveyor.run.cancelled";
inline constexpr std::string_view kRunProgressEvent = "conveyor.run.progress";
// The task-state event type (conveyor.tasks, compacted: a task's latest state, or a tombstone).
inline constexpr std::string_view kTaskStateEvent = "conveyor.task.state";

// The journal's event types (the journal topic, conveyor.journal: what the workers decided that
// no command says, replayed by `conveyor-worker --rebuild`; worker/src/journal.h).
inline constexpr std::string_view kRunRecordedEvent = "conveyor.run.recorded";
inline constexpr std::string_view kScheduleRecordedEvent = "conveyor.schedule.recorded";
inline constexpr std::string_view kTaskPurgedEvent = "conveyor.task.purged";
// Every type on each topic: the commands the workers accept, the notifications they publish
// (schemas/asyncapi.json documents exactly these; tests/unit/producer/http/asyncapi_test.cc).
inline constexpr std::array<std::string_view, 7> kCommandTypes = {
    kTaskCreateCommand,      kTaskCancelCommand,  kTaskUpdateCommand, kTaskDeleteCommand,
    kTaskBatchUpdateCommand, kTaskNoteAddCommand, kTaskFireCommand};
inline constexpr std::array<std::string_view, 4> kNotificationTypes = {
    kRunSucceededEvent, kRunFailedEvent, kRunCancelledEvent, kRunProgressEvent};
inline constexpr std::array<std::string_view, 1> kStateTypes = {kTaskStateEvent};
inline constexpr std::array<std::string_view, 3> kJournalTypes = {
    kRunRecordedEvent, kScheduleRecordedEvent, kTaskPurgedEvent};

// The schema each event type follows (schemas/events/<file>.json) and the version of it that
// this build writes. An event names its schema and version in the CloudEvents attribute
// `dataschema` (DataSchemaUri); docs/events.md, "Versions", says which changes keep a version
// and which make a new one. Every version listed here stays readable: its golden events
// (tests/golden/events/) are decoded by every build.
struct EventSchema {
  std::string_view type;
  std::string_view file;  // the schema's name: schemas/events/<file>.json
  int version = 1;
};
inline constexpr std::array<EventSchema, 15> kEventSchemas = {{
    {kTaskCreateCommand, "conveyor.task.create", 1},
    {kTaskCancelCommand, "conveyor.task.cancel", 1},
    {kTaskUpdateCommand, "conveyor.task.update", 1},
    {kTaskDeleteCommand, "conveyor.task.delete", 1},
    {kTaskBatchUpdateCommand, "conveyor.task.batch-update", 1},
    {kTaskNoteAddCommand, "conveyor.task.note.add", 1},
    {kTaskFireCommand, "conveyor.task.fire", 1},
    {kRunSucceededEvent, "conveyor.run.finished", 1},
    {kRunFailedEvent, "conveyor.run.finished", 1},
    {kRunCancelledEvent, "conveyor.run.finished", 1},
    {kRunProgressEvent, "conveyor.run.progress", 1},
    {kTaskStateEvent, "conveyor.task.state", 1},
    {kRunRecordedEvent, "conveyor.run.recorded", 1},
    {kScheduleRecordedEvent, "conveyor.schedule.recorded", 1},
    {kTaskPurgedEvent, "conveyor.task.purged", 1},
}};

// The schema of `type`, or nullptr for a type Conveyor does not write.
const EventSchema* SchemaOfType(std::string_view type);
// "https://conveyor.dev/schemas/events/<file>.v<version>.json": the `$id` of that version of
// the schema, and the `dataschema` of the events that follow it.
std::string DataSchemaUri(std::string_view file, int version);

struct CloudEvent {
  Uuid id;
  std::string source;  // e.g. "/conveyor/producer/<host>"
  std::string type;
  std::string subject;  // the task id
  Timestamp time;
  nlohmann::json data = nlohmann::json::object();
  // The schema version the data follows (DataSchemaUri). Empty when writing: ToJson names the
  // version this build writes for the type. Empty when read: the event was written before
  // events carried it, and follows version 1.
  std::string dataschema;
  // The distributed-tracing extension (conveyor/trace_context.h): a W3C traceparent, or empty.
  // Parsing keeps a valid one and drops one that is not (an event is never refused for it).
  std::string traceparent;

  nlohmann::json ToJson() const;
  std::string Serialize() const { return ToJson().dump(); }
  // Decodes and checks the envelope (specversion 1.0, required attributes, JSON data).
  static Result<CloudEvent> Parse(std::string_view text);
  static Result<CloudEvent> FromJson(const nlohmann::json& j);
  // The same, taking `data` out of `j` instead of copying it (j's "data" is left null).
  static Result<CloudEvent> TakeFromJson(nlohmann::json& j);
};

// Whether this build reads the event's data: its `dataschema` is absent (version 1), or names
// a version, no newer than the one this build writes, of the schema its type follows.
// kInvalidArgument naming the version it found and the newest it reads, otherwise.
Status CheckDataSchema(const CloudEvent& event);

}  // namespace conveyor

// CloudEvents 1.0 envelopes in the structured JSON mode, as carried on conveyor.commands and
// conveyor.notifications (schemas/events/). The Kafka key of every event is its `subject`,
// the task id, so all events of a task share a partition.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>

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

// Every type on each topic: the commands the workers accept, the notifications they publish
// (schemas/asyncapi.json documents exactly these; tests/unit/producer/http/asyncapi_test.cc).
inline constexpr std::array<std::string_view, 7> kCommandTypes = {
    kTaskCreateCommand,      kTaskCancelCommand,  kTaskUpdateCommand, kTaskDeleteCommand,
    kTaskBatchUpdateCommand, kTaskNoteAddCommand, kTaskFireCommand};
inline constexpr std::array<std::string_view, 4> kNotificationTypes = {
    kRunSucceededEvent, kRunFailedEvent, kRunCancelledEvent, kRunProgressEvent};

struct CloudEvent {
  Uuid id;
  std::string source;  // e.g. "/conveyor/producer/<host>"
  std::string type;
  std::string subject;  // the task id
  Timestamp time;
  nlohmann::json data = nlohmann::json::object();
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

}  // namespace conveyor

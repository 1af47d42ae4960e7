#include "journal.h"

#include "conveyor/cloud_event.h"
#include "conveyor/json_text.h"
#include "conveyor/time_format.h"

namespace conveyor {
namespace {

// The namespace of the journal events' ids (NameBased over the outbox row).
const Uuid& JournalNamespace() {
  static const Uuid kNamespace = *Uuid::Parse("3c1f0f52-8f0e-4a57-9b7e-0d2a6c4e9b13");
  return kNamespace;
}

std::optional<JournalRecord::Kind> KindOf(std::string_view type) {
  if (type == kRunRecordedEvent) return JournalRecord::Kind::kRun;
  if (type == kScheduleRecordedEvent) return JournalRecord::Kind::kSchedule;
  if (type == kTaskPurgedEvent) return JournalRecord::Kind::kPurge;
  return std::nullopt;
}

}  // namespace

OutgoingMessage JournalMessage(std::string type, std::string topic, std::string key,
                               std::string_view data, std::int64_t outbox_id, Timestamp written_at,
                               std::string_view source) {
  CloudEvent e;
  e.id = Uuid::NameBased(JournalNamespace(),
                         std::to_string(outbox_id) + "@" + FormatRfc3339(written_at));
  e.source = source;
  e.type = std::move(type);
  e.subject = key;
  e.time = written_at;
  // Written by the trigger as jsonb: a reader that cannot parse it sees null data and says so.
  e.data = ParseJson(data, "the journal record").value_or(nullptr);
  return OutgoingMessage{std::move(topic),
                         std::move(key),
                         e.Serialize(),
                         {{"ce_type", e.type}, {"ce_id", e.id.ToString()}}};
}

Result<JournalRecord> ParseJournalRecord(const ConsumedMessage& message) {
  auto event = CloudEvent::Parse(message.value);
  if (!event) return std::unexpected(event.error());
  auto kind = KindOf(event->type);
  if (!kind) return Fail(ErrorCode::kInvalidArgument, "not a journal event type: " + event->type);
  if (auto s = CheckDataSchema(*event); !s) return std::unexpected(s.error());
  JournalRecord r;
  r.kind = *kind;
  auto task = Uuid::Parse(event->subject);
  const auto& d = event->data;
  if (!task || !d.is_object() || !d.contains("command_offset") ||
      !d["command_offset"].is_number_integer())
    return Fail(ErrorCode::kInvalidArgument,
                "journal event " + event->id.ToString() + ": no task id or command_offset");
  r.task_id = *task;
  r.command_offset = d["command_offset"].get<std::int64_t>();
  r.key = r.task_id;
  if (r.kind == JournalRecord::Kind::kPurge) return r;
  const char* key = r.kind == JournalRecord::Kind::kRun ? "id" : "task_id";
  std::optional<Uuid> id;
  if (d.contains("row") && d["row"].is_object() && d["row"].contains(key) &&
      d["row"][key].is_string())
    id = Uuid::Parse(d["row"][key].get<std::string>());
  if (!id)
    return Fail(ErrorCode::kInvalidArgument,
                "journal event " + event->id.ToString() + ": no row with its " + key);
  r.key = *id;
  r.row = d["row"].dump();
  return r;
}

}  // namespace conveyor

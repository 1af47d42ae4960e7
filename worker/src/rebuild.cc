#include "rebuild.h"

#include "conveyor/logging.h"

namespace conveyor {

Result<Delivery> UnsentDeadLetters::Publish(const OutgoingMessage& message) {
  std::string reason;
  for (const auto& [name, value] : message.headers)
    if (name == kDlqReasonHeader) reason = value;
  logging::Get("rebuild")->warn("command of task {} refused again (not sent to {}): {}",
                                message.key, message.topic, reason);
  return Delivery{};
}

Status Rebuild::AddRecord(const ConsumedMessage& message) {
  auto record = ParseJournalRecord(message);
  if (!record)
    return Fail(ErrorCode::kInvalidArgument,
                "journal " + message.topic + " partition " + std::to_string(message.partition) +
                    " offset " + std::to_string(message.offset) + ": " + record.error().message);
  records_[record->task_id.ToString()].push_back(std::move(*record));
  return {};
}

Status Rebuild::ApplyRecordsBefore(const std::string& task, std::optional<std::int64_t> offset) {
  auto it = records_.find(task);
  if (it == records_.end()) return {};
  auto& queue = it->second;
  while (!queue.empty() && (!offset || queue.front().command_offset < *offset)) {
    if (auto s = store_.Apply(queue.front()); !s) return s;
    ++report_.records;
    queue.pop_front();
  }
  if (queue.empty()) records_.erase(it);
  return {};
}

Status Rebuild::ReplayCommand(const ConsumedMessage& message) {
  ++report_.commands;
  // The key is the task id (an event without one is dead-lettered by the processor).
  if (auto s = ApplyRecordsBefore(message.key, message.offset); !s) return s;
  auto ingested = processor_.Ingest({message});
  if (!ingested) return std::unexpected(ingested.error());
  report_.applied += ingested->applied;
  report_.duplicates += ingested->duplicates;
  report_.dead_lettered += ingested->dead_lettered;
  return {};
}

Status Rebuild::Finish() {
  std::vector<std::string> tasks;
  tasks.reserve(records_.size());
  for (const auto& [task, queue] : records_) tasks.push_back(task);
  for (const auto& task : tasks)
    if (auto s = ApplyRecordsBefore(task, std::nullopt); !s) return s;
  return store_.Finish();
}

}  // namespace conveyor

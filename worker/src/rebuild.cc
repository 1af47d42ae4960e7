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
  // Among the records written since the task's last command, an earlier one of the same row
  // is replaced: nothing between them reads it.
  auto& list = records_[record->task_id].list;
  for (auto it = list.rbegin(); it != list.rend() && it->command_offset == record->command_offset;
       ++it) {
    if (!it->SupersededBy(*record)) continue;
    *it = std::move(*record);
    return {};
  }
  list.push_back(std::move(*record));
  return {};
}

std::vector<JournalRecord> Rebuild::TakeRecordsBefore(const Uuid& task, std::int64_t offset) {
  std::vector<JournalRecord> taken;
  auto it = records_.find(task);
  if (it == records_.end()) return taken;
  auto& [list, next] = it->second;
  for (; next < list.size() && list[next].command_offset < offset; ++next)
    taken.push_back(std::move(list[next]));
  if (next == list.size()) records_.erase(it);
  return taken;
}

Status Rebuild::ApplyRecords(const std::vector<JournalRecord>& records) {
  if (records.empty()) return {};
  if (auto s = store_.Apply(records); !s) return s;
  report_.records += records.size();
  return {};
}

Status Rebuild::ApplyBatch() {
  if (batch_.empty()) return {};
  auto ingested = processor_.Ingest(batch_);
  if (!ingested) return std::unexpected(ingested.error());
  report_.applied += ingested->applied;
  report_.duplicates += ingested->duplicates;
  report_.dead_lettered += ingested->dead_lettered;
  batch_.clear();
  return {};
}

Status Rebuild::ReplayCommand(ConsumedMessage message) {
  ++report_.commands;
  // The key is the task id (an event without one is dead-lettered by the processor). The
  // records written before this command come after the commands before it, held back in
  // batch_ (the task's earlier ones among them).
  auto task = Uuid::Parse(message.key);
  auto before = task ? TakeRecordsBefore(*task, message.offset) : std::vector<JournalRecord>{};
  if (!before.empty()) {
    if (auto s = ApplyBatch(); !s) return s;
    if (auto s = ApplyRecords(before); !s) return s;
  }
  batch_.push_back(std::move(message));
  if (batch_.size() >= kBatch) return ApplyBatch();
  return {};
}

Status Rebuild::Finish() {
  if (auto s = ApplyBatch(); !s) return s;
  std::vector<JournalRecord> rest;
  for (auto& [task, pending] : records_) {
    for (auto i = pending.next; i < pending.list.size(); ++i)
      rest.push_back(std::move(pending.list[i]));
    // Written in batches of whole tasks.
    if (rest.size() >= kBatch) {
      if (auto s = ApplyRecords(rest); !s) return s;
      rest.clear();
    }
  }
  records_.clear();
  if (auto s = ApplyRecords(rest); !s) return s;
  return store_.Finish();
}

}  // namespace conveyor

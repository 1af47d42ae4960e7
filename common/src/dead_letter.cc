#include "conveyor/dead_letter.h"

#include <charconv>

#include "conveyor/json_text.h"

namespace conveyor {
namespace {

bool IsDlqHeader(const std::string& name) {
  return name == kDlqReasonHeader || name == kDlqOriginTopicHeader ||
         name == kDlqOriginPartitionHeader || name == kDlqOriginOffsetHeader;
}

template <typename Int>
Int NumberOr(const std::string& text, Int fallback) {
  Int v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && end == text.data() + text.size() ? v : fallback;
}

}  // namespace

DeadLetter DeadLetterOf(ConsumedMessage message) {
  DeadLetter d;
  for (const auto& [name, value] : message.headers) {
    if (name == kDlqReasonHeader) d.reason = value;
    if (name == kDlqOriginTopicHeader) d.origin_topic = value;
    if (name == kDlqOriginPartitionHeader) d.origin_partition = NumberOr<std::int32_t>(value, -1);
    if (name == kDlqOriginOffsetHeader) d.origin_offset = NumberOr<std::int64_t>(value, -1);
  }
  // Poison, often: read with ParseJson, which refuses what could take the reader down.
  if (auto event = ParseJson(message.value, "the message"); event && event->is_object()) {
    if (event->contains("type") && (*event)["type"].is_string()) d.type = (*event)["type"];
    if (event->contains("subject") && (*event)["subject"].is_string())
      d.subject = (*event)["subject"];
  }
  d.message = std::move(message);
  return d;
}

Result<OutgoingMessage> ReplayOf(const DeadLetter& dead) {
  if (dead.origin_topic.empty())
    return Fail(ErrorCode::kFailedPrecondition,
                "the message at offset " + std::to_string(dead.message.offset) +
                    " does not say which topic it came from (header " + kDlqOriginTopicHeader +
                    ")");
  OutgoingMessage out{dead.origin_topic, dead.message.key, dead.message.value, {}};
  for (const auto& h : dead.message.headers)
    if (!IsDlqHeader(h.first)) out.headers.push_back(h);
  return out;
}

}  // namespace conveyor

#include "conveyor/dead_letter.h"

#include <algorithm>
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

Result<std::vector<DeadLetter>> ReadDeadLetters(const KafkaSettings& settings,
                                                const std::string& topic,
                                                const std::string& client_id) {
  std::vector<DeadLetter> out;
  auto read = ReadTopicToEnd(settings, topic, client_id, [&](ConsumedMessage m) -> Status {
    out.push_back(DeadLetterOf(std::move(m)));
    return {};
  });
  if (!read) return std::unexpected(read.error());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::pair(a.message.partition, a.message.offset) <
           std::pair(b.message.partition, b.message.offset);
  });
  return out;
}

nlohmann::json DeadLetterJson(const DeadLetter& d) {
  return {{"partition", d.message.partition},
          {"offset", d.message.offset},
          {"reason", d.reason},
          {"origin_topic", d.origin_topic},
          {"origin_partition", d.origin_partition},
          {"origin_offset", d.origin_offset},
          {"type", d.type},
          {"subject", d.subject},
          {"key", d.message.key},
          {"value", d.message.value}};
}

std::string MessageName(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  return topic + "[" + std::to_string(partition) + "]@" + std::to_string(offset);
}

Result<std::vector<OutgoingMessage>> ReplaysOf(const std::vector<DeadLetter>& letters,
                                               const std::vector<DeadLetterRef>& refs,
                                               const std::string& topic) {
  std::vector<OutgoingMessage> out;
  for (const auto& ref : refs) {
    auto it = std::find_if(letters.begin(), letters.end(), [&](const DeadLetter& d) {
      return d.message.partition == ref.partition && d.message.offset == ref.offset;
    });
    if (it == letters.end())
      return Fail(ErrorCode::kNotFound,
                  "no message at " + MessageName(topic, ref.partition, ref.offset));
    auto replay = ReplayOf(*it);
    if (!replay) return std::unexpected(replay.error());
    out.push_back(std::move(*replay));
  }
  return out;
}

}  // namespace conveyor

// The dead-letter topic's messages: a command a worker could not apply (it could not be
// decoded, or the store refused it) is copied there as it was, with the reason and where it
// came from in four headers. An operator reads them (`conveyor dlq list`) and, once the cause
// is fixed (a task type registered, the workers upgraded), replays one to the topic it came
// from (`conveyor dlq replay`): the same key, value and headers, so the same event id, which
// the workers' inbox still treats as new because a refused command writes nothing there.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "conveyor/event_publisher.h"
#include "conveyor/kafka.h"

namespace conveyor {

// Header names on dead-lettered messages.
inline constexpr char kDlqReasonHeader[] = "conveyor-dlq-reason";
inline constexpr char kDlqOriginTopicHeader[] = "conveyor-origin-topic";
inline constexpr char kDlqOriginPartitionHeader[] = "conveyor-origin-partition";
inline constexpr char kDlqOriginOffsetHeader[] = "conveyor-origin-offset";

struct DeadLetter {
  ConsumedMessage message;  // as the dead-letter topic holds it
  std::string reason;
  std::string origin_topic;  // empty when the headers do not say
  std::int32_t origin_partition = -1;
  std::int64_t origin_offset = -1;
  std::string type, subject;  // of its CloudEvent, when it is one
};

DeadLetter DeadLetterOf(ConsumedMessage message);

// Every message the dead-letter `topic` holds (ReadTopicToEnd), ordered by partition and offset.
Result<std::vector<DeadLetter>> ReadDeadLetters(const KafkaSettings& settings,
                                                const std::string& topic,
                                                const std::string& client_id);

// The one shape of a dead letter in JSON (`conveyor dlq list --json`, GET
// /api/v1/admin/deadletters): partition, offset, reason, origin_topic, origin_partition,
// origin_offset, type, subject, key and value.
nlohmann::json DeadLetterJson(const DeadLetter& dead);

// A message of the dead-letter topic, by where it is.
struct DeadLetterRef {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};
// "topic[partition]@offset", how messages are named in answers and logs.
std::string MessageName(const std::string& topic, std::int32_t partition, std::int64_t offset);

// The message that puts it back where it came from: the origin topic, the same key and value,
// the headers without the four above. kFailedPrecondition when its origin is not known.
Result<OutgoingMessage> ReplayOf(const DeadLetter& dead);

// The replays of the messages `refs` name among `letters` (read from `topic`), in their order:
// all of them, or the first that cannot be had (kNotFound: no message there;
// kFailedPrecondition: ReplayOf refused it), so that a replay is all or none.
Result<std::vector<OutgoingMessage>> ReplaysOf(const std::vector<DeadLetter>& letters,
                                               const std::vector<DeadLetterRef>& refs,
                                               const std::string& topic);

}  // namespace conveyor

// The dead-letter topic's messages: a command a worker could not apply (it could not be
// decoded, or the store refused it) is copied there as it was, with the reason and where it
// came from in four headers. An operator reads them (`conveyor dlq list`) and, once the cause
// is fixed (a task type registered, the workers upgraded), replays one to the topic it came
// from (`conveyor dlq replay`): the same key, value and headers, so the same event id, which
// the workers' inbox still treats as new because a refused command writes nothing there.
#pragma once

#include <cstdint>
#include <string>

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

// The message that puts it back where it came from: the origin topic, the same key and value,
// the headers without the four above. kFailedPrecondition when its origin is not known.
Result<OutgoingMessage> ReplayOf(const DeadLetter& dead);

}  // namespace conveyor

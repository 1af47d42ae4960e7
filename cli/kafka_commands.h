// The `conveyor` subcommands that read Kafka itself rather than the producer's API: the
// dead-letter topic (`dlq list`, `dlq replay`) and the notifications (`tail`). They need the
// brokers and topic names (.stack/env's CONVEYOR_KAFKA_BROKERS, CONVEYOR_DLQ_TOPIC,
// CONVEYOR_NOTIFICATIONS_TOPIC), not API credentials. Exit statuses as in commands.h.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "commands.h"
#include "conveyor/dead_letter.h"
#include "conveyor/kafka.h"

namespace conveyor::cli {

struct TopicSettings {
  KafkaSettings kafka;
  std::string dlq = "conveyor.commands.dlq";
  std::string notifications = "conveyor.notifications";
};

// A dead-letter message named on the command line: "OFFSET" (partition 0) or
// "PARTITION:OFFSET".
Result<DeadLetterRef> ParseMessageRef(const std::string& text);

int DlqList(const TopicSettings& s, Output& io);
// Republishes each named message to the topic it came from (acks=all), saying where it went.
int DlqReplay(const TopicSettings& s, const std::vector<std::string>& refs, Output& io);

struct TailOptions {
  bool from_beginning = false;      // otherwise only events published after it joined
  int count = 0;                    // stop after this many events; 0: until stopped
  std::chrono::seconds timeout{0};  // stop after this long without reaching `count`; 0: never
};
// One line per notification event: time, type, task, state, progress or result.
int Tail(const TopicSettings& s, const TailOptions& o, Output& io, const std::atomic<bool>& stop);

// The line `tail` prints for one notification (its CloudEvent; the raw value if it is not one).
std::string NotificationLine(const std::string& value);

}  // namespace conveyor::cli

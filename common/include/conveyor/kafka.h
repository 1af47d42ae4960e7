// RAII adapters over librdkafka (rdkafka.h stays in kafka.cc).
//
// KafkaSettings carries the bootstrap servers and any librdkafka property, passed through
// untouched (security settings included). KafkaProducer is an idempotent, acks=all producer;
// it is thread-safe and owns a thread that serves delivery reports. KafkaConsumer is a
// consumer-group member with manual offset commits; it must be used from one thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conveyor/event_publisher.h"
#include "conveyor/result.h"

namespace conveyor {

struct KafkaSettings {
  std::string brokers = "127.0.0.1:19092";
  // Extra librdkafka properties (https://github.com/confluentinc/librdkafka CONFIGURATION.md),
  // applied last, so they override Conveyor's own defaults.
  std::map<std::string, std::string> properties;
};

// Parses "key=value" into settings.properties; kInvalidArgument without '='.
Status AddKafkaProperty(KafkaSettings& settings, std::string_view key_value);
// Parses a list separated by ';' or newlines ("a=1;b=2"), as CONVEYOR_KAFKA_PROPERTIES holds.
Status AddKafkaProperties(KafkaSettings& settings, std::string_view list);

class KafkaProducer final : public EventPublisher {
 public:
  // `delivery_timeout` bounds how long Publish may block (librdkafka message.timeout.ms).
  static Result<std::unique_ptr<KafkaProducer>> Create(const KafkaSettings& settings,
                                                       const std::string& client_id,
                                                       std::chrono::milliseconds delivery_timeout);
  ~KafkaProducer() override;

  Result<Delivery> Publish(const OutgoingMessage& message) override;
  // Queues every message before waiting, so they share the broker round trips.
  std::vector<Result<Delivery>> PublishAll(const std::vector<OutgoingMessage>& messages) override;
  // Queue the messages; `done` runs on the producer's delivery thread once the broker
  // acknowledged them or gave up (librdkafka reports every message by message.timeout.ms), or
  // at once when the local queue refuses one.
  void PublishThen(const OutgoingMessage& message, DeliveryDone done) override;
  void PublishAllThen(const std::vector<OutgoingMessage>& messages, DeliveriesDone done) override;
  // Waits until every queued message was delivered or failed.
  Status Flush(std::chrono::milliseconds timeout);
  // Gives up on every message not yet acknowledged: each one's report (kUnavailable) comes
  // before this returns. For a shutdown whose Flush timed out, so that no report comes later.
  void Purge();
  // Asks the cluster for fresh metadata (a round trip to a broker, blocking up to
  // `timeout`); kUnavailable, naming the cause, when no broker answered. For readiness probes.
  Status CheckBrokers(std::chrono::milliseconds timeout);
  // Whether `topic` exists: kNotFound when the cluster says it does not, kUnavailable when no
  // broker answered within `timeout`.
  Status CheckTopic(const std::string& topic, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit KafkaProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ConsumedMessage {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  bool tombstone = false;  // the value is null (a compacted topic's deletion of the key)
};

struct PartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;  // the offset of the next message to read (last + 1)
};

// How many messages of a partition this member has not consumed yet: the partition's end
// (high watermark) minus the member's position.
struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t lag = 0;
};

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// Told about partitions this member gains and loses. Called on the thread that calls Poll
// (or Close), from inside that call. OnRevoked may block for a while (a grace period for the
// work of those partitions) and should commit what it can before it returns; `lost` means the
// group already gave them to someone else (commits would fail).
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void OnAssigned(const std::vector<TopicPartition>& partitions) = 0;
  virtual void OnRevoked(const std::vector<TopicPartition>& partitions, bool lost) = 0;
};

class KafkaConsumer {
 public:
  // Joins `group_id` with the cooperative-sticky assignor and subscribes to `topics`.
  // `listener` (may be null) must outlive the consumer.
  static Result<std::unique_ptr<KafkaConsumer>> Create(const KafkaSettings& settings,
                                                       const std::string& group_id,
                                                       const std::string& client_id,
                                                       const std::vector<std::string>& topics,
                                                       RebalanceListener* listener = nullptr);
  ~KafkaConsumer();  // leaves the group (commits nothing on its own)

  // Up to `max_messages`, waiting at most `timeout` for the first. Transient broker errors
  // are logged and yield an empty batch; a fatal consumer error is returned.
  Result<std::vector<ConsumedMessage>> Poll(std::size_t max_messages,
                                            std::chrono::milliseconds timeout);
  // Commits, waiting at most kCommitWait for the answer. kUnavailable when the broker refused
  // (e.g. during a rebalance) or gave no answer in time (no coordinator: every broker down).
  static constexpr std::chrono::milliseconds kCommitWait{5000};
  Status Commit(const std::vector<PartitionOffset>& offsets);
  // Stops fetching from every assigned partition (and from partitions assigned later) until
  // Resume; Poll keeps the member in the group meanwhile.
  Status Pause();
  Status Resume();
  bool paused() const;
  // Each assigned partition's lag, from the watermarks of the latest fetch responses (no broker
  // round trip); partitions whose position or end is not known yet are left out.
  std::vector<PartitionLag> Lag();
  // Leaves the group now; further calls fail.
  void Close();

 private:
  struct Impl;
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct TopicReadOptions {
  // Refuse a topic whose partitions no longer start at offset 0 (retention deleted messages).
  bool from_the_first = false;
  // How long the read may go without a message (or a partition's end) before it fails.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

// Reads every message that `topic` held when the call began: each partition from its start to
// the end it had then, without joining a group or committing anything. `each` gets them in the
// order of each partition (partitions interleave); its error stops the read and is returned.
// kNotFound when the topic does not exist; kFailedPrecondition when `from_the_first` and a
// partition lost its first messages; kUnavailable when its partitions or their ends cannot be
// had, or nothing came for `timeout`.
Status ReadTopicToEnd(const KafkaSettings& settings, const std::string& topic,
                      const std::string& client_id,
                      const std::function<Status(ConsumedMessage)>& each,
                      const TopicReadOptions& options = {});

// Where a consumer group stands on one partition of a topic.
struct PartitionProgress {
  std::int32_t partition = 0;
  std::int64_t start = 0;       // the first offset the partition still holds (low watermark)
  std::int64_t end = 0;         // the offset of its next message (high watermark)
  std::int64_t committed = -1;  // the group's committed offset; -1 when it committed none
  // Messages the group has yet to consume: from its committed offset (or, with none, from the
  // partition's start) to the end; never below 0 (a commit may pass the end read before it).
  std::int64_t lag() const {
    return std::max<std::int64_t>(0, end - std::max(committed < 0 ? start : committed, start));
  }
  std::int64_t messages() const { return end - start; }
};

// Each partition of `topic` with its offsets and those `group` committed (none when `group`
// is empty), asked of the brokers without joining the group, so its members are not
// disturbed. kNotFound when the topic does not exist; kUnavailable when the brokers do not
// answer within `timeout`.
Result<std::vector<PartitionProgress>> GroupProgress(const KafkaSettings& settings,
                                                     const std::string& topic,
                                                     const std::string& group,
                                                     std::chrono::milliseconds timeout);

}  // namespace conveyor

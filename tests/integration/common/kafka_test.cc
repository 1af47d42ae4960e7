// The librdkafka adapters against a real broker (label: integration).
#include "conveyor/kafka.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "conveyor/logging.h"
#include "support/services.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::CreateTopics;
using testing::KafkaBrokers;
using testing::UniqueName;

KafkaSettings Settings() {
  KafkaSettings s;
  s.brokers = KafkaBrokers();
  if (const char* d = std::getenv("KDEBUG")) {
    s.properties["debug"] = d;
    logging::Setup("debug");
  }
  return s;
}

// What `consumer` polls until it holds at least `n` messages (fewer after 30 s).
std::vector<ConsumedMessage> PollAtLeast(KafkaConsumer& consumer, std::size_t n) {
  std::vector<ConsumedMessage> got;
  testing::PollUntil(
      [&] {
        auto batch = consumer.Poll(10, 100ms);
        if (batch) got.insert(got.end(), batch->begin(), batch->end());
        return got.size() >= n;
      },
      30s);
  return got;
}

TEST(KafkaProducerIT, PublishReturnsAfterAckAndTheMessageKeepsKeyValueAndHeaders) {
  auto topic = UniqueName("it.");
  CreateTopics({topic}, 3);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value()) << producer.error().Describe();
  auto sent = (*producer)->Publish({topic, "key-1", "value-1", {{"h", "v"}}});
  ASSERT_TRUE(sent.has_value()) << sent.error().Describe();

  testing::TopicReader reader(topic);
  auto got = reader.ReadUntil([](auto& all) { return !all.empty(); }, 30s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, "key-1");
  EXPECT_EQ(got[0].value, "value-1");
  ASSERT_EQ(got[0].headers.size(), 1u);
  EXPECT_EQ(got[0].headers[0], (std::pair<std::string, std::string>{"h", "v"}));
  EXPECT_EQ(got[0].partition, sent->partition);
  EXPECT_EQ(got[0].offset, sent->offset);
}

// The producer's read-your-writes ordering (docs/adr/0006) rests on this: the commands of one
// task, keyed by its id, are acknowledged at rising offsets of one partition.
TEST(KafkaProducerIT, MessagesOfOneKeyAreAcknowledgedAtRisingOffsetsOfOnePartition) {
  auto topic = UniqueName("it.");
  CreateTopics({topic}, 3);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value()) << producer.error().Describe();
  std::vector<OutgoingMessage> messages(20, OutgoingMessage{topic, "one task", "v", {}});
  auto all = (*producer)->PublishAll(messages);
  auto one = (*producer)->Publish(messages[0]);
  ASSERT_TRUE(one.has_value()) << one.error().Describe();
  all.push_back(one);
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_TRUE(all[i].has_value()) << all[i].error().Describe();
    EXPECT_EQ(all[i]->partition, all[0]->partition);
    if (i > 0) {
      EXPECT_GT(all[i]->offset, all[i - 1]->offset);
    }
  }
}

TEST(KafkaProducerIT, UnreachableBrokerIsUnavailableWithinTheDeliveryTimeout) {
  KafkaSettings s;
  s.brokers = "127.0.0.1:" + std::to_string(testing::FreePort());
  auto producer = KafkaProducer::Create(s, "it", 1500ms);
  ASSERT_TRUE(producer.has_value());
  auto start = std::chrono::steady_clock::now();
  auto sent = (*producer)->Publish({"nowhere", "k", "v", {}});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(sent.error().retryable());
  EXPECT_LT(took, 10s);
}

TEST(KafkaProducerIT, PublishAllReturnsOneAcknowledgementPerMessageAndDeliversEach) {
  auto topic = UniqueName("it.");
  CreateTopics({topic}, 3);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value()) << producer.error().Describe();
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < 50; ++i)
    messages.push_back({topic, "key-" + std::to_string(i), "value-" + std::to_string(i), {}});
  auto results = (*producer)->PublishAll(messages);
  ASSERT_EQ(results.size(), messages.size());
  for (const auto& r : results) EXPECT_TRUE(r.has_value()) << r.error().Describe();

  testing::TopicReader reader(topic);
  auto got = reader.ReadUntil([](auto& all) { return all.size() >= 50; }, 30s);
  std::set<std::string> values;
  for (const auto& m : got) values.insert(m.value);
  EXPECT_EQ(values.size(), 50u);
  EXPECT_TRUE(values.contains("value-49"));
}

TEST(KafkaProducerIT, PublishAllToAnUnreachableBrokerIsUnavailableForEachMessage) {
  KafkaSettings s;
  s.brokers = "127.0.0.1:" + std::to_string(testing::FreePort());
  auto producer = KafkaProducer::Create(s, "it", 1500ms);
  ASSERT_TRUE(producer.has_value());
  auto start = std::chrono::steady_clock::now();
  auto results = (*producer)->PublishAll({{"nowhere", "a", "1", {}}, {"nowhere", "b", "2", {}}});
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(KafkaConsumerIT, CommittedOffsetsAreWhereTheNextGroupMemberResumes) {
  auto topic = UniqueName("it.");
  auto group = UniqueName("group-");
  CreateTopics({topic}, 1);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*producer)->Publish({topic, "k", "m" + std::to_string(i), {}}).has_value());

  {
    auto consumer = KafkaConsumer::Create(Settings(), group, "it-1", {topic});
    ASSERT_TRUE(consumer.has_value());
    auto got = PollAtLeast(**consumer, 1);
    ASSERT_GE(got.size(), 1u);
    ASSERT_EQ(got[0].value, "m0");
    ASSERT_TRUE((*consumer)->Commit({{topic, got[0].partition, got[0].offset + 1}}).has_value());
    (*consumer)->Close();
  }
  auto consumer = KafkaConsumer::Create(Settings(), group, "it-2", {topic});
  ASSERT_TRUE(consumer.has_value());
  auto got = PollAtLeast(**consumer, 2);
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0].value, "m1");
  EXPECT_EQ(got[1].value, "m2");
}

// Reads what the topic held when the read began, each partition in order, and stops there; an
// empty partition is no reason to wait.
TEST(ReadTopicToEndIT, ReadsEveryMessageThereWasInEachPartitionsOrderAndReturns) {
  auto topic = UniqueName("it.read-to-end.");
  CreateTopics({topic}, 3);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value()) << producer.error().Describe();
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(
        (*producer)->Publish({topic, "key-" + std::to_string(i % 2), std::to_string(i), {}}));
  std::map<std::string, std::vector<int>> by_key;
  auto read = ReadTopicToEnd(Settings(), topic, "it-reader", [&](ConsumedMessage m) -> Status {
    by_key[m.key].push_back(std::stoi(m.value));
    return {};
  });
  ASSERT_TRUE(read.has_value()) << read.error().Describe();
  ASSERT_EQ(by_key.size(), 2u);
  for (const auto& [key, values] : by_key) {
    EXPECT_EQ(values.size(), 15u) << key;
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << key;
  }
}

TEST(ReadTopicToEndIT, ATopicThatDoesNotExistIsNotFoundAndAnErrorOfTheReaderStopsTheRead) {
  auto missing = ReadTopicToEnd(Settings(), UniqueName("it.missing."), "it-reader",
                                [](ConsumedMessage) -> Status { return {}; });
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto topic = UniqueName("it.read-to-end.");
  CreateTopics({topic}, 1);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*producer)->Publish({topic, "k", "v", {}}));
  int seen = 0;
  auto stopped = ReadTopicToEnd(Settings(), topic, "it-reader", [&](ConsumedMessage) -> Status {
    ++seen;
    return Fail(ErrorCode::kInvalidArgument, "unreadable");
  });
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().message, "unreadable");
  EXPECT_EQ(seen, 1);
}

// A group's progress is read without joining it: the offsets of each partition, what the group
// committed there, and so how far behind it is; a group that committed nothing is behind by
// everything, and a topic that does not exist is not found.
TEST(GroupProgressIT, ShowsEachPartitionsEndAndWhatTheGroupCommittedThere) {
  auto topic = UniqueName("it.progress.");
  auto group = UniqueName("group-");
  CreateTopics({topic}, 2);
  auto producer = KafkaProducer::Create(Settings(), "it", 10s);
  ASSERT_TRUE(producer.has_value());
  std::map<std::int32_t, std::int64_t> per_partition;
  for (int i = 0; i < 10; ++i) {
    auto sent = (*producer)->Publish({topic, "key-" + std::to_string(i), "v", {}});
    ASSERT_TRUE(sent.has_value());
    ++per_partition[sent->partition];
  }
  auto before = GroupProgress(Settings(), topic, group, 10s);
  ASSERT_TRUE(before.has_value()) << before.error().Describe();
  ASSERT_EQ(before->size(), 2u);
  std::int64_t lag = 0;
  for (const auto& p : *before) {
    EXPECT_EQ(p.committed, -1) << "nothing committed yet";
    EXPECT_EQ(p.end, per_partition[p.partition]);
    lag += p.lag();
  }
  EXPECT_EQ(lag, 10);

  auto consumer = KafkaConsumer::Create(Settings(), group, "it-progress", {topic});
  ASSERT_TRUE(consumer.has_value());
  auto got = PollAtLeast(**consumer, 1);
  ASSERT_GE(got.size(), 1u);
  ASSERT_TRUE((*consumer)->Commit({{topic, got[0].partition, got[0].offset + 1}}).has_value());
  auto after = GroupProgress(Settings(), topic, group, 10s);
  ASSERT_TRUE(after.has_value()) << after.error().Describe();
  for (const auto& p : *after) {
    if (p.partition != got[0].partition) continue;
    EXPECT_EQ(p.committed, got[0].offset + 1);
    EXPECT_EQ(p.lag(), p.end - got[0].offset - 1);
  }
  (*consumer)->Close();

  auto depth = GroupProgress(Settings(), topic, "", 10s);
  ASSERT_TRUE(depth.has_value());
  std::int64_t messages = 0;
  for (const auto& p : *depth) messages += p.messages();
  EXPECT_EQ(messages, 10);

  auto missing = GroupProgress(Settings(), UniqueName("it.missing."), group, 10s);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(KafkaSettings, PassThroughPropertiesParseAndReachLibrdkafka) {
  KafkaSettings s;
  ASSERT_TRUE(AddKafkaProperties(s, "linger.ms=7; socket.timeout.ms=9000\n").has_value());
  EXPECT_EQ(s.properties.at("linger.ms"), "7");
  EXPECT_EQ(s.properties.at("socket.timeout.ms"), "9000");
  auto bad = AddKafkaProperty(s, "no-equals-sign");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  s.properties["no.such.property"] = "1";
  auto producer = KafkaProducer::Create(s, "it", 1s);
  ASSERT_FALSE(producer.has_value());
  EXPECT_EQ(producer.error().field, "kafka property no.such.property");
}

}  // namespace
}  // namespace conveyor

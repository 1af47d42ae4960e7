#include "conveyor/dead_letter.h"

#include <gtest/gtest.h>

namespace conveyor {
namespace {

ConsumedMessage Dead() {
  ConsumedMessage m;
  m.topic = "conveyor.commands.dlq";
  m.partition = 0;
  m.offset = 7;
  m.key = "task-1";
  m.value = R"({"specversion":"1.0","type":"conveyor.task.create","subject":"task-1"})";
  m.headers = {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
               {kDlqReasonHeader, "task type 0f0f is not registered"},
               {kDlqOriginTopicHeader, "conveyor.commands"},
               {kDlqOriginPartitionHeader, "2"},
               {kDlqOriginOffsetHeader, "1234"}};
  return m;
}

TEST(DeadLetterOf, ReadsTheReasonTheOriginAndTheEventsTypeAndSubject) {
  auto d = DeadLetterOf(Dead());
  EXPECT_EQ(d.reason, "task type 0f0f is not registered");
  EXPECT_EQ(d.origin_topic, "conveyor.commands");
  EXPECT_EQ(d.origin_partition, 2);
  EXPECT_EQ(d.origin_offset, 1234);
  EXPECT_EQ(d.type, "conveyor.task.create");
  EXPECT_EQ(d.subject, "task-1");
  EXPECT_EQ(d.message.offset, 7);
}

TEST(DeadLetterOf, AMessageThatIsNotAnEventOrHasBadHeadersKeepsWhatCanBeRead) {
  auto m = Dead();
  m.value = "not json {";
  m.headers[3].second = "two";
  auto d = DeadLetterOf(m);
  EXPECT_EQ(d.type, "");
  EXPECT_EQ(d.origin_partition, -1);
  EXPECT_EQ(d.origin_offset, 1234);
}

TEST(ReplayOf, GoesBackToItsOriginWithTheSameKeyValueAndOwnHeaders) {
  auto d = DeadLetterOf(Dead());
  auto out = ReplayOf(d);
  ASSERT_TRUE(out.has_value()) << out.error().Describe();
  EXPECT_EQ(out->topic, "conveyor.commands");
  EXPECT_EQ(out->key, "task-1");
  EXPECT_EQ(out->value, d.message.value);
  ASSERT_EQ(out->headers.size(), 1u);
  EXPECT_EQ(out->headers[0].first, "traceparent");
}

TEST(ReplayOf, RefusesAMessageThatDoesNotSayWhereItCameFrom) {
  auto m = Dead();
  m.headers.clear();
  auto out = ReplayOf(DeadLetterOf(m));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(out.error().message.find("offset 7"), std::string::npos) << out.error().message;
}

}  // namespace
}  // namespace conveyor

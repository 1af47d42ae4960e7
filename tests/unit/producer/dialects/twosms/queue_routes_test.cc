// The operators' queue routes (QueueRoutes, routes.h) through the Router on fakes: admin keys
// only; the workers' lag per partition and in all; the dead letters newest first, paged; a
// replay puts the named message back and refuses, in words, one that is not there or does not
// say where it came from.
#include <gtest/gtest.h>

#include <map>

#include "support/producer_on_fakes.h"

namespace conveyor::twosms {
namespace {

using nlohmann::json;
using testing::ProducerOnFakes;

json Body(const http::Answer& a) { return json::parse(a.body, nullptr, false); }

DeadLetter Letter(std::int64_t offset, std::string origin_topic = "conveyor.commands") {
  ConsumedMessage m{"conveyor.commands.dlq",
                    0,
                    offset,
                    "key-" + std::to_string(offset),
                    R"({"type":"conveyor.task.create","subject":"s"})",
                    {},
                    false};
  if (!origin_topic.empty()) m.headers.emplace_back(kDlqOriginTopicHeader, origin_topic);
  m.headers.emplace_back(kDlqReasonHeader, "refused " + std::to_string(offset));
  return DeadLetterOf(std::move(m));
}

class QueueRoutesTest : public ::testing::Test {
 protected:
  http::Answer Admin(std::string method, std::string path) {
    return producer_.Send(std::move(method), std::move(path), ProducerOnFakes::kAdminAuthorization);
  }
  // GET /api/v1/admin/deadletters with query parameters, as the server parses them.
  http::Answer DeadLetters(std::multimap<std::string, std::string> query) {
    http::Request r;
    r.method = "GET";
    r.path = "/api/v1/admin/deadletters";
    r.params = std::move(query);
    r.headers.emplace_back("Authorization", ProducerOnFakes::kAdminAuthorization);
    return producer_.router->Handle(std::move(r));
  }
  ProducerOnFakes producer_;
};

TEST_F(QueueRoutesTest, AreForAdminKeysOnly) {
  for (auto [method, path] :
       {std::pair{"GET", "/api/v1/admin/queue"}, std::pair{"GET", "/api/v1/admin/deadletters"},
        std::pair{"POST", "/api/v1/admin/deadletters/0/1/replay"}}) {
    auto a = producer_.Send(method, path, ProducerOnFakes::kClientAuthorization);
    EXPECT_EQ(a.status, 403) << path << " " << a.body;
  }
  EXPECT_TRUE(producer_.queue.replayed.empty());
}

TEST_F(QueueRoutesTest, StateShowsEachPartitionsLagAndTheirSumAndTheDeadLetterDepth) {
  producer_.queue.state.commands = {{0, 0, 100, 90}, {1, 5, 40, -1}, {2, 50, 60, 20}};
  producer_.queue.state.dead_letters = 3;
  auto a = Admin("GET", "/api/v1/admin/queue");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = Body(a)["ResponseData"]["Detail"];
  EXPECT_EQ(d["CommandsTopic"], "conveyor.commands");
  EXPECT_EQ(d["WorkerGroup"], "conveyor-workers");
  // 10 behind; 35 with nothing committed (from the partition's start); retention passed the
  // committed offset 20, so 10 left.
  EXPECT_EQ(d["Partitions"][0]["Lag"], 10);
  EXPECT_EQ(d["Partitions"][1]["Lag"], 35);
  EXPECT_TRUE(d["Partitions"][1]["Committed"].is_null());
  EXPECT_EQ(d["Partitions"][2]["Lag"], 10);
  EXPECT_EQ(d["ConsumerLag"], 55);
  EXPECT_EQ(d["DeadLetters"], 3);
}

TEST_F(QueueRoutesTest, ACommitPastTheEndReadBeforeItIsNoLagAndAMissingDeadLetterTopicIsNull) {
  producer_.queue.state.commands = {{0, 0, 100, 103}};
  producer_.queue.state.dead_letters.reset();
  auto d = Body(Admin("GET", "/api/v1/admin/queue"))["ResponseData"]["Detail"];
  EXPECT_EQ(d["Partitions"][0]["Lag"], 0);
  EXPECT_EQ(d["ConsumerLag"], 0);
  EXPECT_TRUE(d["DeadLetters"].is_null()) << d;
}

TEST_F(QueueRoutesTest, KafkaNotAnsweringIs503InTheEnvelope) {
  producer_.queue.unavailable = true;
  for (const char* path : {"/api/v1/admin/queue", "/api/v1/admin/deadletters"}) {
    auto a = Admin("GET", path);
    EXPECT_EQ(a.status, 503) << path;
    EXPECT_EQ(Body(a)["Error"]["ErrorReason"], "Kafka does not answer") << a.body;
  }
}

TEST_F(QueueRoutesTest, DeadLettersAreListedNewestFirstInPages) {
  for (int i = 0; i < 5; ++i) producer_.queue.letters.push_back(Letter(i));
  auto first = Body(DeadLetters({{"pageSize", "2"}}))["ResponseData"];
  ASSERT_EQ(first["Detail"].size(), 2u) << first;
  EXPECT_EQ(first["Detail"][0]["offset"], 4);
  EXPECT_EQ(first["Detail"][1]["offset"], 3);
  EXPECT_EQ(first["Detail"][0]["reason"], "refused 4");
  EXPECT_EQ(first["Detail"][0]["type"], "conveyor.task.create");
  EXPECT_EQ(first["Paging"]["TotalCount"], 5);
  auto last = Body(DeadLetters({{"pageSize", "2"}, {"page", "3"}}))["ResponseData"];
  ASSERT_EQ(last["Detail"].size(), 1u) << last;
  EXPECT_EQ(last["Detail"][0]["offset"], 0);
  auto beyond = DeadLetters({{"pageSize", "2"}, {"page", "9"}});
  ASSERT_EQ(beyond.status, 200) << beyond.body;
  auto beyond_detail = Body(beyond)["ResponseData"]["Detail"];
  EXPECT_TRUE(beyond_detail.is_array() && beyond_detail.empty()) << beyond.body;
  auto bad = DeadLetters({{"pageSize", "500"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["Error"]["ErrorReason"], "pageSize: is 500; the limit is 200") << bad.body;
}

TEST_F(QueueRoutesTest, ReplayPutsTheNamedMessageBackAsItWasWithoutTheDeadLetterHeaders) {
  producer_.queue.letters = {Letter(0), Letter(1)};
  auto a = Admin("POST", "/api/v1/admin/deadletters/0/1/replay");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = Body(a)["ResponseData"]["Detail"];
  EXPECT_EQ(d["Offset"], 1);
  EXPECT_EQ(d["Topic"], "conveyor.commands");
  ASSERT_EQ(producer_.queue.replayed.size(), 1u);
  const auto& sent = producer_.queue.replayed[0];
  EXPECT_EQ(sent.topic, "conveyor.commands");
  EXPECT_EQ(sent.key, "key-1");
  EXPECT_TRUE(sent.headers.empty()) << "the dead-letter headers stay behind";
}

TEST_F(QueueRoutesTest, ReplayRefusesAMissingMessageAndOneWithoutAnOrigin) {
  producer_.queue.letters = {Letter(0, "")};
  auto missing = Admin("POST", "/api/v1/admin/deadletters/0/7/replay");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["Error"]["ErrorReason"], "no message at conveyor.commands.dlq[0]@7")
      << missing.body;
  auto no_origin = Admin("POST", "/api/v1/admin/deadletters/0/0/replay");
  EXPECT_EQ(no_origin.status, 409);
  EXPECT_NE(Body(no_origin)["Error"]["ErrorReason"].get<std::string>().find(
                "does not say which topic it came from"),
            std::string::npos)
      << no_origin.body;
  EXPECT_TRUE(producer_.queue.replayed.empty());
  EXPECT_EQ(Admin("POST", "/api/v1/admin/deadletters/x/0/replay").status, 404)
      << "not a route: the path must be digits";
}

}  // namespace
}  // namespace conveyor::twosms

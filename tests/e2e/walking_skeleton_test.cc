// End to end (label: e2e): conveyor-producer and conveyor-worker run as processes against
// the real broker and PostgreSQL; the test talks HTTP to the producer and reads PostgreSQL
// and the notifications topic.
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;

class WalkingSkeleton : public testing::E2eTest {};

TEST_F(WalkingSkeleton, SeedTaskIsCreatedRunSucceededAndNotified) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-worker-1");

  auto res = Post(SeedRequest());
  ASSERT_TRUE(res) << "no answer from the producer";
  ASSERT_EQ(res->status, 200) << res->body;
  auto created = json::parse(res->body);
  EXPECT_TRUE(created["Error"].is_null());
  const auto& detail = created["ResponseData"]["Detail"];
  std::string id = detail["ID"];
  EXPECT_EQ(detail["TaskID"], "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(detail["Name"], "noop");
  EXPECT_EQ(detail["Status"], "Accepted");
  EXPECT_EQ(detail["Notification"], "SUCCESS");
  EXPECT_EQ(detail["StartDate"], "2026-01-01T00:00:00.0000000+00:00");
  EXPECT_EQ(detail["ClientID"], client_id_);  // the caller's own client
  EXPECT_EQ(detail["LastModifiedBy"], "client:" + client_id_);

  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();
  auto read = GetTask(id)["ResponseData"]["Detail"];
  EXPECT_EQ(read["LastRunBy"], "e2e-worker-1");
  EXPECT_FALSE(read["LastRunOn"].is_null());
  EXPECT_EQ(read["Parameters"], R"({"greeting":"hello"})");
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE task_id = '" + id +
                  "' AND state = 'succeeded' AND start_count = 1 AND finished_at IS NOT NULL"),
            1);

  testing::TopicReader reader(notifications_);
  auto notes = reader.ReadUntil([](auto& all) { return !all.empty(); }, 60s);
  ASSERT_EQ(notes.size(), 1u) << worker->Log();
  EXPECT_EQ(notes[0].key, id);
  auto event = CloudEvent::Parse(notes[0].value);
  ASSERT_TRUE(event.has_value()) << notes[0].value;
  EXPECT_EQ(event->type, "conveyor.run.succeeded");
  EXPECT_EQ(event->subject, id);
  EXPECT_EQ(event->data["state"], "succeeded");
  EXPECT_EQ(event->data["start_count"], 1);
  EXPECT_TRUE(testing::PollUntil(
      [&] { return Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }, 30s));
}

TEST_F(WalkingSkeleton, MalformedRequestIs400NamingTheFieldAndPublishesNothing) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto body = json::parse(testing::ReadRepoFile("tests/golden/twosms/seed001-create-request.json"));
  auto res = Post(body);  // as published: ContentType "sample string 4"
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  auto j = json::parse(res->body);
  EXPECT_EQ(j["Error"]["ErrorCode"], "InvalidRequest");
  EXPECT_NE(j["Error"]["ErrorReason"].get<std::string>().find("ContentType"), std::string::npos);

  body = SeedRequest();
  body["TaskID"] = "86cb791c-8078-41ae-a045-5dded04c9589";  // not in the catalogue
  res = Post(body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["Error"]["ErrorReason"],
            "TaskID: 86cb791c-8078-41ae-a045-5dded04c9589 is not a registered task type");

  // Prove the topic stayed empty: a good request afterwards is the first message on it.
  ASSERT_FALSE(CreateTask(SeedRequest()).empty());
  testing::TopicReader reader(commands_);
  auto all = reader.ReadUntil([](auto& m) { return !m.empty(); }, 30s);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].offset, 0);
}

TEST_F(WalkingSkeleton, UnreachableBrokerAnswers503WithinTheBoundAndCreatesNothing) {
  auto producer = StartProducer("127.0.0.1:" + std::to_string(testing::FreePort()),
                                {"--delivery-timeout-ms=1500"});
  auto start = std::chrono::steady_clock::now();
  auto res = Post(SeedRequest());
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  auto j = json::parse(res->body);
  EXPECT_EQ(j["Error"]["ErrorCode"], "ServiceUnavailable");
  EXPECT_TRUE(j["ResponseData"].is_null());
  EXPECT_LT(took, 10s);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(WalkingSkeleton, ReplayedCommandLeavesOneTaskOneRunOneNotification) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-worker-1");
  std::string first = CreateTask(SeedRequest());
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(WaitForStatus(first, "Succeeded"), "Succeeded") << worker->Log();

  // Publish the very same command event again, as a redelivery would bring it.
  testing::TopicReader commands(commands_);
  auto original = commands.ReadUntil([](auto& m) { return !m.empty(); }, 30s);
  ASSERT_EQ(original.size(), 1u);
  KafkaSettings s;
  s.brokers = testing::KafkaBrokers();
  auto replay = KafkaProducer::Create(s, "e2e-replay", 10s);
  ASSERT_TRUE(replay.has_value());
  ASSERT_TRUE((*replay)->Publish({commands_, original[0].key, original[0].value, {}}).has_value());
  // The copy lands in the same partition (same key). Once the worker group has committed past
  // it, the worker has processed it.
  auto both = commands.ReadUntil([](auto& m) { return m.size() >= 2; }, 30s);
  ASSERT_EQ(both.size(), 2u);
  ASSERT_EQ(both[1].value, original[0].value);
  ASSERT_EQ(both[1].partition, original[0].partition);
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        return testing::CommittedOffset(commands_, commands_, both[1].partition) > both[1].offset;
      },
      60s))
      << worker->Log();

  const std::string& f = first;
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE id = '" + f + "'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE task_id = '" + f + "'"), 1);
  EXPECT_EQ(Count("SELECT start_count FROM runs WHERE task_id = '" + f + "'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE key = '" + f + "' AND topic = '" +
                  notifications_ + "'"),
            1);
  // The task's states: its create (whose run started in the same statement) and its run's
  // end; the replay wrote none.
  EXPECT_EQ(
      Count("SELECT count(*) FROM outbox WHERE key = '" + f + "' AND topic = '" + tasks_ + "'"), 2);
}

}  // namespace
}  // namespace conveyor

namespace conveyor {
namespace {

class DeadLetters : public testing::E2eTest {};

TEST_F(DeadLetters, PoisonEventsOfEachKindLandInTheDlqAndTheNextGoodEventIsApplied) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-dlq");
  KafkaSettings s;
  s.brokers = testing::KafkaBrokers();
  auto raw = KafkaProducer::Create(s, "e2e-poison", 10s);
  ASSERT_TRUE(raw.has_value());
  // Three poison events on one key (one partition, in this order); the worker must move past
  // each of them.
  json bad_schema = {{"specversion", "1.0"}, {"id", "6b1f3c2e-0000-4000-8000-00000000000a"},
                     {"source", "/test"},    {"type", "conveyor.task.create"},
                     {"subject", "x"},       {"time", "2026-11-22T10:00:00Z"},
                     {"data", {{"id", "x"}}}};
  json unknown_type = {{"specversion", "1.0"},  {"id", "6b1f3c2e-0000-4000-8000-00000000000b"},
                       {"source", "/test"},     {"type", "conveyor.task.explode"},
                       {"subject", "x"},        {"time", "2026-11-22T10:00:00Z"},
                       {"data", json::object()}};
  ASSERT_TRUE((*raw)->Publish({commands_, "poison", "not json {", {}}).has_value());
  ASSERT_TRUE((*raw)->Publish({commands_, "poison", bad_schema.dump(), {}}).has_value());
  ASSERT_TRUE((*raw)->Publish({commands_, "poison", unknown_type.dump(), {}}).has_value());
  auto body = SeedRequest();
  body["TaskID"] = "0f0f0f0f-0000-4000-8000-000000000001";  // no such task type...
  auto refused = Post(body);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);  // ... is refused at the API, never reaching Kafka
  auto id = CreateTask(SeedRequest());
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(WaitForStatus(id, "Succeeded"), "Succeeded") << worker->Log();

  testing::TopicReader reader(dlq_);
  auto dead = reader.ReadUntil([](auto& all) { return all.size() >= 3; }, 30s);
  ASSERT_EQ(dead.size(), 3u) << worker->Log();
  std::vector<std::string> reasons;
  for (const auto& m : dead) {
    std::string reason, origin;
    for (const auto& [k, v] : m.headers) {
      if (k == "conveyor-dlq-reason") reason = v;
      if (k == "conveyor-origin-topic") origin = v;
    }
    EXPECT_EQ(origin, commands_);
    reasons.push_back(reason);
  }
  EXPECT_TRUE(reasons[0].starts_with("the message is not a JSON document (")) << reasons[0];
  EXPECT_NE(reasons[1].find("/data"), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("unknown command type conveyor.task.explode"), std::string::npos)
      << reasons[2];
}

}  // namespace
}  // namespace conveyor

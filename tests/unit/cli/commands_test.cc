#include "commands.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <sstream>

#include "api_client.h"
#include "kafka_commands.h"

namespace conveyor::cli {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The producer's answers, queued per "METHOD path"; the last one repeats.
class FakeApi : public TaskApi {
 public:
  void Answer(const std::string& call, Result<json> answer) {
    answers_[call].push_back(std::move(answer));
  }
  Result<json> Get(const std::string& path) override { return Next("GET " + path, {}); }
  Result<json> Post(const std::string& path, const json& body) override {
    return Next("POST " + path, body);
  }
  Result<json> Put(const std::string& path, const json& body) override {
    return Next("PUT " + path, body);
  }
  std::vector<std::pair<std::string, json>> calls;

 private:
  Result<json> Next(const std::string& call, const json& body) {
    calls.emplace_back(call, body);
    auto& q = answers_[call];
    if (q.empty()) return Fail(ErrorCode::kNotFound, call + ": no answer set");
    auto a = q.front();
    if (q.size() > 1) q.pop_front();
    return a;
  }
  std::map<std::string, std::deque<Result<json>>> answers_;
};

json Info(std::int64_t id, const std::string& state, int percent = 0) {
  return {{"Id", id},
          {"Name", "sleep"},
          {"State", state},
          {"ProgressPercent", percent},
          {"LastStarted", "2027-01-15T08:00:00.0000000+00:00"}};
}

class Commands : public ::testing::Test {
 protected:
  int RunWatch(const std::vector<std::int64_t>& ids, std::chrono::seconds timeout = 0s) {
    WatchOptions o;
    o.timeout = timeout;
    return Watch(api_, ids, o, io_, clock_,
                 [&](std::chrono::milliseconds d) { clock_.Advance(d); });
  }
  FakeApi api_;
  std::ostringstream out_, err_;
  Output io_{out_, err_};
  FakeClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
};

TEST_F(Commands, WatchReadsUntilEveryTaskIsFinalAndSucceedsOnlyIfAllSucceeded) {
  api_.Answer("GET /api/v1/BatchTask/1", Info(1, "Started", 50));
  api_.Answer("GET /api/v1/BatchTask/1", Info(1, "Succeeded", 100));
  api_.Answer("GET /api/v1/BatchTask/2", Info(2, "Failed", 30));
  EXPECT_EQ(RunWatch({1, 2}), 1);
  EXPECT_NE(out_.str().find("Succeeded"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("Failed"), std::string::npos) << out_.str();
  EXPECT_EQ(err_.str(), "");

  FakeApi ok;
  ok.Answer("GET /api/v1/BatchTask/1", Info(1, "SucceededManualCleanup", 100));
  WatchOptions o;
  EXPECT_EQ(Watch(ok, {1}, o, io_, clock_, [](auto) {}), 0);
}

TEST_F(Commands, WatchGivesUpAfterItsTimeoutWithoutSleepingForReal) {
  api_.Answer("GET /api/v1/BatchTask/1", Info(1, "Started", 10));
  auto began = clock_.Now();
  EXPECT_EQ(RunWatch({1}, 2s), 1);
  EXPECT_EQ(err_.str(), "conveyor: not every task was final after 2 s\n");
  EXPECT_GE(clock_.Now() - began, 2s);
  EXPECT_LT(clock_.Now() - began, 3s);
}

TEST_F(Commands, WatchOfATaskItCannotReadSaysWhyInOneLine) {
  api_.Answer("GET /api/v1/BatchTask/9",
              Fail(ErrorCode::kNotFound, "GET /api/v1/BatchTask/9: 404 no task 9"));
  EXPECT_EQ(RunWatch({9}), 1);
  EXPECT_EQ(err_.str(), "conveyor: GET /api/v1/BatchTask/9: 404 no task 9\n");
}

TEST_F(Commands, SubmitSendsABatchTaskInfoPerTaskAndPrintsTheirIds) {
  api_.Answer("POST /api/v1/BatchTask", json(1001));
  api_.Answer("POST /api/v1/BatchTask", json(1002));
  SubmitOptions o;
  o.type = "sleep";
  o.parameters = R"({"seconds": 2})";
  o.count = 2;
  std::vector<std::int64_t> created;
  EXPECT_EQ(Submit(api_, o, io_, &created), 0);
  EXPECT_EQ(out_.str(), "1001\n1002\n");
  EXPECT_EQ(created, (std::vector<std::int64_t>{1001, 1002}));
  ASSERT_EQ(api_.calls.size(), 2u);
  EXPECT_EQ(api_.calls[0].second, json({{"Name", "sleep"}, {"ParameterObject", {{"seconds", 2}}}}));
}

TEST_F(Commands, SubmitRefusesParametersThatAreNotAJsonObjectBeforeCallingAnything) {
  for (const char* p : {"[1,2]", "{not json"}) {
    SubmitOptions o;
    o.type = "sleep";
    o.parameters = p;
    EXPECT_EQ(Submit(api_, o, io_, nullptr), 1) << p;
  }
  EXPECT_TRUE(api_.calls.empty());
  EXPECT_NE(err_.str().find("conveyor: --parameters: "), std::string::npos) << err_.str();
}

TEST_F(Commands, StopSaysWhenThereWasNothingToStop) {
  api_.Answer("POST /api/v1/BatchTask/1/Stop", json(true));
  api_.Answer("POST /api/v1/BatchTask/2/Stop", json(false));
  EXPECT_EQ(Stop(api_, {1, 2}, io_), 1);
  EXPECT_EQ(out_.str(), "1 stop requested\n2 not stopped: its run is over\n");
}

TEST_F(Commands, ListKeepsTheStateAskedForAndGetAnswersAListInJson) {
  api_.Answer("GET /api/v1/BatchTask", json::array({Info(1, "Failed"), Info(2, "Succeeded")}));
  EXPECT_EQ(List(api_, "Failed", io_), 0);
  EXPECT_NE(out_.str().find("\n1 "), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("\n2 "), std::string::npos) << out_.str();

  std::ostringstream json_out;
  Output as_json{json_out, err_, false, true};
  api_.Answer("GET /api/v1/BatchTask/1", Info(1, "Failed"));
  EXPECT_EQ(Get(api_, {1}, as_json), 0);
  auto parsed = json::parse(json_out.str());
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed.size(), 1u);
}

TEST(ProducerMessage, ReadsEachDialectsErrorBody) {
  EXPECT_EQ(ProducerMessage(R"({"Error":"unknown task type 'x'","ErrorType":"InvalidArgument",)"
                            R"("Field":"BatchTaskInfo/Name"})"),
            "BatchTaskInfo/Name: unknown task type 'x'");
  EXPECT_EQ(ProducerMessage(R"({"Error":{"ErrorCode":"Unauthorized","ErrorReason":"wrong secret"},)"
                            R"("ResponseData":null})"),
            "wrong secret");
  EXPECT_EQ(ProducerMessage("<html>\nbad gateway\n</html>"), "<html> bad gateway </html>")
      << "one line, whatever the body";
  EXPECT_EQ(ProducerMessage(std::string(300, 'x')).size(), 203u);
}

TEST(ParseMessageRef, TakesAnOffsetOrAPartitionAndAnOffset) {
  auto plain = ParseMessageRef("12");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->partition, 0);
  EXPECT_EQ(plain->offset, 12);
  auto both = ParseMessageRef("2:7");
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->partition, 2);
  EXPECT_EQ(both->offset, 7);
  for (const char* bad : {"", "x", "1:", ":1", "-1", "1:2:3", "1.5"})
    EXPECT_FALSE(ParseMessageRef(bad).has_value()) << bad;
}

TEST(NotificationLine, SaysWhenWhatWhichTaskAndHowItEnded) {
  json e = {{"specversion", "1.0"},
            {"id", "6b1f3c2e-0000-4000-8000-00000000000a"},
            {"source", "/conveyor/worker/w1"},
            {"type", "conveyor.run.succeeded"},
            {"subject", "task-1"},
            {"time", "2027-01-15T08:00:05Z"},
            {"data", {{"state", "succeeded"}, {"result", "slept 2 s"}}}};
  EXPECT_EQ(
      NotificationLine(e.dump()),
      "2027-01-15T08:00:05.000000Z  conveyor.run.succeeded  task task-1  succeeded  slept 2 s");
  e["type"] = "conveyor.run.progress";
  e["data"] = {{"percent", 40}, {"description", "step 4 of 10"}};
  EXPECT_EQ(NotificationLine(e.dump()),
            "2027-01-15T08:00:05.000000Z  conveyor.run.progress  task task-1  40% step 4 of 10");
  EXPECT_EQ(NotificationLine("not an event"), "not an event");
}

}  // namespace
}  // namespace conveyor::cli

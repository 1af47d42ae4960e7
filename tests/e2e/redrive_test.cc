// End to end (label: e2e): a create Kafka acknowledged that never reached the workers is
// published again and run (producer/commands/create_redrive.h, docs/faults.md). The loss is
// made on purpose: one producer publishes to a commands topic no worker reads, so its create
// is acknowledged and recorded, and never applied. A second producer, on the real topic, finds
// it once the workers' group has passed everything acknowledged before it.
#include <httplib.h>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

class Redrive : public testing::E2eTest {
 protected:
  // The redriving producer's conveyor_creates_republished_total ("" when not rendered).
  std::string Republished() {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/metrics");
    if (!r) return "";
    auto at = r->body.find("\nconveyor_creates_republished_total ");
    if (at == std::string::npos) return "";
    auto start = at + std::string("\nconveyor_creates_republished_total ").size();
    return r->body.substr(start, r->body.find('\n', start) - start);
  }
};

TEST_F(Redrive, ACreateAcknowledgedButNeverReadIsPublishedAgainAndRunOnce) {
  auto holding = StartProducerHoldingCommands();
  const auto lost = CreateTask(SeedRequest());
  ASSERT_FALSE(lost.empty());
  ASSERT_EQ(Count("SELECT count(*) FROM accepted_tasks WHERE id = '" + lost + "'"), 1);
  // Its delivery timeout makes the margin after a mark 11 s (10 s for the producers' clocks).
  auto producer = StartProducer(testing::KafkaBrokers(),
                                {"--redrive-every-ms=200", "--delivery-timeout-ms=1000"});
  auto worker = StartWorker("e2e-redrive");
  ASSERT_NO_FATAL_FAILURE(WaitUntilTheWorkersConsume());
  EXPECT_EQ(WaitForStatus(lost, "Succeeded"), "Succeeded") << producer->Log();
  EXPECT_EQ(Count("SELECT count(*) FROM inbox WHERE subject = '" + lost + "'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE task_id = '" + lost + "'"), 1);
  EXPECT_NE(producer->Log().find("task=" + lost + " event="), std::string::npos);
  // The 20 tasks that reached the workers were not published again.
  EXPECT_EQ(Republished(), "1");
}

}  // namespace
}  // namespace conveyor

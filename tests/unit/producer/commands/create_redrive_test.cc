// CreateRedrive on in-memory ports: a create is published again only once the workers' group
// has passed every command acknowledged before a mark, under its own event id, and once per
// mark.
#include "commands/create_redrive.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"
#include "conveyor/time_format.h"
#include "support/producer_fakes.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

// The records the test says no worker applied.
class ListedRecords final : public UnappliedCreates {
 public:
  Result<std::vector<AcceptedTask>> Unapplied(const UnappliedQuery& q) override {
    std::vector<AcceptedTask> out;
    for (const auto& r : records)
      if (r.modified_at >= q.after && r.modified_at < q.before &&
          std::ranges::find(q.excluded, r.task.id) == q.excluded.end() && out.size() < q.limit)
        out.push_back(r);
    return out;
  }
  std::vector<AcceptedTask> records;
};

class CreateRedriveTest : public ::testing::Test {
 protected:
  // A create recorded at `at`, at offset 3, whose command no worker read.
  AcceptedTask& Lost(Timestamp at) {
    AcceptedTask a;
    a.task.id = Uuid::Random();
    a.task.number = 7;
    a.task.task_type_id = NoopTaskTypeId();
    a.task.parameters = "{}";
    a.task.content_type = "application/json";
    a.task.created_at = at;
    a.modified_at = at;
    a.event_id = Uuid::Random();
    a.offset = 3;
    records_.records.push_back(a);
    return records_.records.back();
  }
  // The group on one partition: its end, and what the group committed.
  void Group(std::int64_t end, std::int64_t committed) {
    PartitionProgress p;
    p.partition = 0;
    p.end = end;
    p.committed = committed;
    progress_ = {p};
  }
  // A pass one minute after the last.
  std::size_t Pass() {
    clock_.Advance(1min);
    auto sent = redrive_.RunOnce();
    EXPECT_TRUE(sent.has_value()) << sent.error().Describe();
    return sent.value_or(0);
  }

  FakeClock clock_{*ParseDateTime("2026-12-06T10:00:00Z")};
  testing::FakeCatalog catalog_;
  testing::FakeNumbers numbers_;
  testing::NoClients clients_;
  testing::RecordingPublisher publisher_;
  testing::RecordingAcceptedWrites accepted_;
  TaskCommandService commands_{catalog_,  numbers_, clients_,   publisher_,
                               accepted_, clock_,   "commands", "/test"};
  ListedRecords records_;
  std::vector<PartitionProgress> progress_;
  metrics::Registry registry_;
  RedriveSettings settings_{30s, 20s, std::chrono::hours(24), 100};
  CreateRedrive redrive_{[this] { return Result<std::vector<PartitionProgress>>(progress_); },
                         records_,
                         commands_,
                         clock_,
                         settings_,
                         registry_};
};

TEST_F(CreateRedriveTest, ACreateTheGroupPassedWithoutReadingIsPublishedAgainUnderItsOwnEventId) {
  const auto lost = Lost(clock_.Now());
  Group(10, 5);
  EXPECT_EQ(Pass(), 0u) << "the first pass only takes its mark";
  Group(12, 10);
  EXPECT_EQ(Pass(), 1u);
  ASSERT_EQ(publisher_.sent.size(), 1u);
  const auto& m = publisher_.sent[0];
  EXPECT_EQ(m.topic, "commands");
  EXPECT_EQ(m.key, lost.task.id.ToString());
  auto event = CloudEvent::Parse(m.value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, kTaskCreateCommand);
  EXPECT_EQ(event->id, lost.event_id) << "a worker that read the first one ignores this one";
  EXPECT_EQ(event->data["id"], lost.task.id.ToString());
  EXPECT_NE(registry_.Render().find("conveyor_creates_republished_total 1\n"), std::string::npos)
      << registry_.Render();
}

TEST_F(CreateRedriveTest, NothingIsPublishedWhileTheGroupIsBehindTheMark) {
  Lost(clock_.Now());
  Group(10, 5);
  EXPECT_EQ(Pass(), 0u);
  for (int i = 0; i < 3; ++i) {
    Group(20 + i, 9);  // a backlog: the group has not reached the mark's end (10)
    EXPECT_EQ(Pass(), 0u);
  }
  Group(30, 10);  // the mark is still the first one: its end is passed now
  EXPECT_EQ(Pass(), 1u);
}

TEST_F(CreateRedriveTest, ARecordFromWithinTheMarginOfTheMarkWaitsForALaterMark) {
  Group(10, 10);
  Lost(clock_.Now() + 55s);  // 5 s before the first mark: its ack may have come after the mark
  EXPECT_EQ(Pass(), 0u);
  EXPECT_EQ(Pass(), 0u) << "within the margin (20 s) of the mark it passed";
  EXPECT_EQ(Pass(), 1u);
}

TEST_F(CreateRedriveTest, ACreatePublishedAgainGoesAgainOnlyOnceALaterMarkPassedIt) {
  Lost(clock_.Now());
  Group(10, 10);
  EXPECT_EQ(Pass(), 0u);
  EXPECT_EQ(Pass(), 1u);  // published again at this pass's time, P
  EXPECT_EQ(Pass(), 0u) << "this pass's mark came before P's copy could be read";
  EXPECT_EQ(Pass(), 1u) << "its mark came after P, and the record is still unapplied: lost again";
  records_.records.clear();  // a worker applied it
  EXPECT_EQ(Pass(), 0u);
  EXPECT_EQ(publisher_.sent.size(), 2u);
}

TEST_F(CreateRedriveTest, ACreateNoWorkerTakesIsGivenUpAfterItsLastCopyAndOthersStillGo) {
  const auto poison = Lost(clock_.Now()).task.id;  // dead-lettered by every worker
  Group(10, 10);
  EXPECT_EQ(Pass(), 0u);
  int copies = 0;
  for (int i = 0; i < 12; ++i) copies += static_cast<int>(Pass());
  EXPECT_EQ(copies, CreateRedrive::kMaxCopies);
  const auto later = Lost(clock_.Now()).task.id;
  EXPECT_EQ(Pass(), 0u);
  EXPECT_EQ(Pass(), 1u) << "the given-up create does not hold the others up";
  EXPECT_EQ(publisher_.sent.back().key, later.ToString());
  EXPECT_NE(later, poison);
}

TEST_F(CreateRedriveTest, ARecordOlderThanTheMaxAgeIsLeftAlone) {
  Lost(clock_.Now() - std::chrono::hours(25));
  Group(10, 10);
  EXPECT_EQ(Pass(), 0u);
  EXPECT_EQ(Pass(), 0u);
  EXPECT_TRUE(publisher_.sent.empty());
}

TEST_F(CreateRedriveTest, AnEmptyPartitionIsPassedAndAMissingOneIsNot) {
  Lost(clock_.Now());
  PartitionProgress empty, busy;
  empty.partition = 0;  // nothing ever written, nothing committed
  busy.partition = 1;
  busy.end = 4;
  busy.committed = 4;
  progress_ = {empty, busy};
  EXPECT_EQ(Pass(), 0u);
  progress_ = {empty};  // partition 1 not answered
  EXPECT_EQ(Pass(), 0u);
  progress_ = {empty, busy};
  EXPECT_EQ(Pass(), 1u);
}

TEST_F(CreateRedriveTest, AGroupProgressThatFailsIsTheErrorOfThePass) {
  metrics::Registry registry;
  CreateRedrive failing{[] {
                          return Result<std::vector<PartitionProgress>>(
                              Fail(ErrorCode::kUnavailable, "brokers away"));
                        },
                        records_,
                        commands_,
                        clock_,
                        settings_,
                        registry};
  auto pass = failing.RunOnce();
  ASSERT_FALSE(pass.has_value());
  EXPECT_EQ(pass.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace conveyor

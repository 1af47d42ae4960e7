// GroupedAcceptedWrites: records that come while one is written go together in the next
// write; of one task the highest offset is written; a group's callers share its status;
// RecordThen does not wait for the write.
#include "commands/grouped_accepted_writes.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <thread>
#include <utility>

#include "support/wait.h"

namespace conveyor {
namespace {

using std::chrono_literals::operator""s;

// Records each write; the first write waits until the test opens the gate.
class GatedWrites final : public AcceptedWrites {
 public:
  Status Record(const std::vector<AcceptedTask>& tasks,
                const std::vector<AcceptedNote>& notes) override {
    std::unique_lock lock(mutex);
    writes.push_back({tasks, notes});
    opened.wait(lock, [&] { return open; });
    if (std::exchange(throw_next, false)) throw std::runtime_error("connection lost (fake)");
    if (fail_after_first && writes.size() > 1)
      return Fail(ErrorCode::kUnavailable, "database away (fake)");
    return {};
  }
  void Open() {
    std::lock_guard lock(mutex);
    open = true;
    opened.notify_all();
  }
  std::size_t Writes() {
    std::lock_guard lock(mutex);
    return writes.size();
  }

  struct Write {
    std::vector<AcceptedTask> tasks;
    std::vector<AcceptedNote> notes;
  };
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
  bool fail_after_first = false;
  bool throw_next = false;
  std::vector<Write> writes;
};

AcceptedTask TaskAt(const Uuid& id, std::int64_t offset) {
  AcceptedTask t;
  t.task.id = id;
  t.offset = offset;
  return t;
}

class GroupedAcceptedWritesTest : public ::testing::Test {
 protected:
  // Starts a Record on its own thread.
  std::future<Status> RecordAsync(std::vector<AcceptedTask> tasks,
                                  std::vector<AcceptedNote> notes = {}) {
    return std::async(std::launch::async,
                      [this, tasks = std::move(tasks), notes = std::move(notes)] {
                        return grouped_.Record(tasks, notes);
                      });
  }
  // The first record is being written (held at the gate) and `n` more wait for the next.
  void WaitUntilWritingOneAndWaiting(std::size_t n) {
    ASSERT_TRUE(testing::PollUntil([&] { return inner_.Writes() == 1; }, 10s));
    ASSERT_TRUE(testing::PollUntil([&] { return grouped_.Waiting() == n; }, 10s))
        << grouped_.Waiting() << " waiting";
  }

  GatedWrites inner_;
  GroupedAcceptedWrites grouped_{inner_};
};

TEST_F(GroupedAcceptedWritesTest, ALoneRecordIsWrittenAtOnceAsItCame) {
  inner_.Open();
  auto id = Uuid::Random();
  ASSERT_TRUE(grouped_.Record({TaskAt(id, 3)}, {}).has_value());
  ASSERT_EQ(inner_.writes.size(), 1u);
  ASSERT_EQ(inner_.writes[0].tasks.size(), 1u);
  EXPECT_EQ(inner_.writes[0].tasks[0].task.id, id);
  EXPECT_EQ(grouped_.Waiting(), 0u);
}

TEST_F(GroupedAcceptedWritesTest, RecordsThatComeDuringAWriteGoTogetherInTheNextOne) {
  auto first = RecordAsync({TaskAt(Uuid::Random(), 1)});
  ASSERT_TRUE(testing::PollUntil([&] { return inner_.Writes() == 1; }, 10s));
  std::vector<std::future<Status>> waiting;
  AcceptedNote note;
  note.note.id = 77;
  for (int i = 0; i < 3; ++i) waiting.push_back(RecordAsync({TaskAt(Uuid::Random(), 2 + i)}));
  waiting.push_back(RecordAsync({}, {note}));
  WaitUntilWritingOneAndWaiting(4);
  inner_.Open();
  EXPECT_TRUE(first.get().has_value());
  for (auto& w : waiting) EXPECT_TRUE(w.get().has_value());
  ASSERT_EQ(inner_.writes.size(), 2u);  // four requests, one write
  EXPECT_EQ(inner_.writes[1].tasks.size(), 3u);
  ASSERT_EQ(inner_.writes[1].notes.size(), 1u);
  EXPECT_EQ(inner_.writes[1].notes[0].note.id, 77);
}

TEST_F(GroupedAcceptedWritesTest, OfOneTaskInAGroupTheRecordAtTheHighestOffsetIsWritten) {
  auto id = Uuid::Random();
  auto first = RecordAsync({TaskAt(Uuid::Random(), 1)});
  ASSERT_TRUE(testing::PollUntil([&] { return inner_.Writes() == 1; }, 10s));
  auto later = RecordAsync({TaskAt(id, 9)});
  WaitUntilWritingOneAndWaiting(1);
  auto earlier = RecordAsync({TaskAt(id, 5)});
  WaitUntilWritingOneAndWaiting(2);
  inner_.Open();
  EXPECT_TRUE(first.get().has_value());
  EXPECT_TRUE(later.get().has_value());
  EXPECT_TRUE(earlier.get().has_value());
  ASSERT_EQ(inner_.writes.size(), 2u);
  ASSERT_EQ(inner_.writes[1].tasks.size(), 1u);  // one row per task: the statement's rule
  EXPECT_EQ(inner_.writes[1].tasks[0].offset, 9);
}

TEST_F(GroupedAcceptedWritesTest, AWriteThatFailsFailsEveryCallerOfItsGroupAndNoOther) {
  inner_.fail_after_first = true;
  auto first = RecordAsync({TaskAt(Uuid::Random(), 1)});
  ASSERT_TRUE(testing::PollUntil([&] { return inner_.Writes() == 1; }, 10s));
  auto a = RecordAsync({TaskAt(Uuid::Random(), 2)});
  auto b = RecordAsync({TaskAt(Uuid::Random(), 3)});
  WaitUntilWritingOneAndWaiting(2);
  inner_.Open();
  EXPECT_TRUE(first.get().has_value());
  auto failed_a = a.get(), failed_b = b.get();
  ASSERT_FALSE(failed_a.has_value());
  ASSERT_FALSE(failed_b.has_value());
  EXPECT_EQ(failed_a.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(failed_b.error().message, "database away (fake)");
}

TEST_F(GroupedAcceptedWritesTest, AWriteThatThrowsIsAnErrorAndTheNextRecordIsWrittenStill) {
  inner_.Open();
  inner_.throw_next = true;
  auto thrown = grouped_.Record({TaskAt(Uuid::Random(), 1)}, {});
  ASSERT_FALSE(thrown.has_value());
  EXPECT_EQ(thrown.error().code, ErrorCode::kInternal);
  EXPECT_NE(thrown.error().message.find("connection lost (fake)"), std::string::npos);
  EXPECT_TRUE(grouped_.Record({TaskAt(Uuid::Random(), 2)}, {}).has_value());
  EXPECT_EQ(inner_.Writes(), 2u);
}

TEST_F(GroupedAcceptedWritesTest, RecordThenReturnsAtOnceAndItsCallbackGetsTheWritesStatus) {
  std::promise<Status> written;
  auto status = written.get_future();
  grouped_.RecordThen({TaskAt(Uuid::Random(), 1)}, {},
                      [&written](Status s) { written.set_value(std::move(s)); });
  // Returned while the write is held at the gate: the caller's thread did not wait for it.
  ASSERT_TRUE(testing::PollUntil([&] { return inner_.Writes() == 1; }, 10s));
  EXPECT_EQ(status.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  inner_.Open();
  EXPECT_TRUE(status.get().has_value());
}

TEST_F(GroupedAcceptedWritesTest, NothingToRecordWritesNothing) {
  inner_.Open();
  EXPECT_TRUE(grouped_.Record({}, {}).has_value());
  EXPECT_EQ(inner_.Writes(), 0u);
}

}  // namespace
}  // namespace conveyor

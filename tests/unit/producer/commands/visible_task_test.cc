// The one visibility rule of every dialect (commands/visible_task.h): a client finds its own
// tasks, an admin key every task, and another client's task is as missing as one that is not.
#include "commands/visible_task.h"

#include <gtest/gtest.h>

#include "support/producer_fakes.h"

namespace conveyor {
namespace {

class VisibleTaskTest : public ::testing::Test {
 protected:
  VisibleTaskTest() {
    own_.task.id = Uuid::Random();
    own_.task.number = 1;
    own_.task.client_id = client_.id;
    others_.task.id = Uuid::Random();
    others_.task.number = 2;
    others_.task.client_id = Uuid::Random();
    reader_.views = {own_, others_};
  }
  Caller client_{Caller::Kind::kClient, Uuid::Random(), "acme"};
  Caller admin_{Caller::Kind::kAdmin, Uuid::Random(), "ops"};
  TaskView own_, others_;
  testing::FakeReader reader_;
};

TEST_F(VisibleTaskTest, AClientFindsItsOwnTaskByIdAndByNumber) {
  ASSERT_TRUE(VisibleTask(reader_, own_.task.id, client_).has_value());
  auto by_number = VisibleTask(reader_, std::int64_t{1}, client_);
  ASSERT_TRUE(by_number.has_value());
  EXPECT_EQ(by_number->task.id, own_.task.id);
}

TEST_F(VisibleTaskTest, AnotherClientsTaskAnswersExactlyAsAMissingOne) {
  auto others = VisibleTask(reader_, others_.task.id, client_);
  auto missing_id = Uuid::Random();
  auto missing = VisibleTask(reader_, missing_id, client_);
  ASSERT_FALSE(others.has_value());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(others.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(others.error().message, "no task " + others_.task.id.ToString());
  EXPECT_EQ(missing.error().message, "no task " + missing_id.ToString());
  auto by_number = VisibleTask(reader_, std::int64_t{2}, client_);
  ASSERT_FALSE(by_number.has_value());
  EXPECT_EQ(by_number.error().message, "no task with id 2");
}

TEST_F(VisibleTaskTest, AnAdminKeyFindsEveryTask) {
  EXPECT_TRUE(VisibleTask(reader_, others_.task.id, admin_).has_value());
  EXPECT_TRUE(VisibleTask(reader_, std::int64_t{1}, admin_).has_value());
}

}  // namespace
}  // namespace conveyor

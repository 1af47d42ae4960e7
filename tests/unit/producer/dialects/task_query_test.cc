// The dialects' list requests as TaskQuery: TwoSms's paged list (ListQuery) and SuperOffice's
// filters (FilterQuery) are conditions on the one query PgTaskReader::QueryTasks runs (its SQL
// is tested in tests/integration/worker/pg_task_store_test.cc).
#include <gtest/gtest.h>

#include "conveyor/task_view.h"

namespace conveyor {
namespace {

TEST(TaskQueries, TwoSmsListIsOneClientsPageOldestFirstWithItsTotal) {
  auto client = Uuid::Random();
  auto q = ListQuery(client, 40, 20);
  EXPECT_EQ(q.client_id, client);
  EXPECT_EQ(q.offset, 40);
  EXPECT_EQ(q.limit, 20);
  EXPECT_TRUE(q.count_total);
  ASSERT_EQ(q.order.size(), 1u);
  EXPECT_EQ(q.order[0].field, TaskField::kCreatedAt);
  EXPECT_FALSE(q.order[0].descending);
  EXPECT_TRUE(q.conditions.empty());
  EXPECT_TRUE(q.run_states.empty());
  EXPECT_FALSE(ListQuery(std::nullopt, 0, 50).client_id.has_value());  // an admin: every client
}

TEST(TaskQueries, DefaultFilterMatchesEveryTaskOfTheClientByNumber) {
  auto client = Uuid::Random();
  auto q = FilterQuery(TaskFilter{}, client);
  EXPECT_EQ(q.client_id, client);
  EXPECT_TRUE(q.conditions.empty());
  EXPECT_TRUE(q.run_states.empty());
  EXPECT_TRUE(q.order.empty());  // by number
  EXPECT_EQ(q.limit, 1000);
  EXPECT_EQ(q.offset, 0);
  EXPECT_FALSE(q.count_total);
}

TEST(TaskQueries, FilterBecomesAssociateTypeOwnerAndRunStateConditions) {
  TaskFilter f;
  f.associate_ids = std::vector<std::int32_t>{7, 0};
  f.type_name = "Report";
  f.owner = TaskFilter::Owner::kUser;
  f.run_states = std::vector{RunState::kQueued, RunState::kStarted};
  f.or_no_run = true;
  f.limit = 25;
  auto q = FilterQuery(f, std::nullopt);
  EXPECT_FALSE(q.client_id.has_value());
  ASSERT_EQ(q.conditions.size(), 3u);
  EXPECT_EQ(q.conditions[0].field, TaskField::kAssociateId);
  EXPECT_EQ(q.conditions[0].op, CompareOp::kIn);
  EXPECT_EQ(q.conditions[0].values, (std::vector<std::string>{"7", "0"}));
  EXPECT_EQ(q.conditions[1].field, TaskField::kTypeName);
  EXPECT_EQ(q.conditions[1].op, CompareOp::kEq);  // exact, case-sensitive
  EXPECT_EQ(q.conditions[1].value, "Report");
  EXPECT_EQ(q.conditions[2].field, TaskField::kAssociateId);
  EXPECT_EQ(q.conditions[2].op, CompareOp::kNe);
  EXPECT_EQ(q.conditions[2].value, "0");
  ASSERT_EQ(q.run_states.size(), 1u);
  EXPECT_FALSE(q.run_states[0].negate);
  EXPECT_EQ(q.run_states[0].states, (std::vector<std::optional<RunState>>{
                                        RunState::kQueued, RunState::kStarted, std::nullopt}));
  EXPECT_EQ(q.limit, 25);
}

TEST(TaskQueries, SystemOwnerIsAssociateZeroAndAnEmptyStateSetStaysEmpty) {
  TaskFilter f;
  f.owner = TaskFilter::Owner::kSystem;
  f.run_states.emplace();  // matches nothing
  auto q = FilterQuery(f, std::nullopt);
  ASSERT_EQ(q.conditions.size(), 1u);
  EXPECT_EQ(q.conditions[0].field, TaskField::kAssociateId);
  EXPECT_EQ(q.conditions[0].op, CompareOp::kEq);
  EXPECT_EQ(q.conditions[0].value, "0");
  ASSERT_EQ(q.run_states.size(), 1u);
  EXPECT_TRUE(q.run_states[0].states.empty());
}

}  // namespace
}  // namespace conveyor

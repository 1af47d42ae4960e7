#include <gtest/gtest.h>

#include "commands.h"

namespace conveyor::cli {
namespace {

TEST(TaskTable, AHeaderThenOneRowPerTask) {
  auto table = TaskTable({{{"Id", 1003},
                           {"Name", "sleep"},
                           {"State", "Succeeded"},
                           {"ProgressPercent", 100},
                           {"StartCount", 1},
                           {"Result", "slept 2 s"}},
                          {{"Id", 1004}, {"Name", "noop"}, {"State", "New"}}});
  EXPECT_EQ(table,
            "ID       TYPE         STATE       DONE STARTS  RESULT\n"
            "1003     sleep        Succeeded   100%      1  slept 2 s\n"
            "1004     noop         New           0%         \n");
}

}  // namespace
}  // namespace conveyor::cli

// What `conveyor watch` shows: one line per task with its state, a progress bar, percent,
// elapsed time and progress text. On a terminal the lines are redrawn in place (ANSI cursor
// movement); otherwise a line is written each time a task's state, percent or text changes.
// Pure: the caller reads the tasks and writes the text.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/clock.h"

namespace conveyor::cli {

// A task as watched, from its BatchTaskInfo.
struct TaskProgress {
  std::int64_t id = 0;
  std::string name;   // the task type
  std::string state;  // New, Aquired, Started, Succeeded, Failed, ... (SuperOffice's names)
  int percent = 0;    // 0 to 100
  std::string text;   // ProgressDescription, or the Result once final
  std::optional<Timestamp> started_at;
};

TaskProgress ProgressOf(const nlohmann::json& batch_task_info);

// Whether the state is one a run does not leave: Succeeded, SucceededManualCleanup, Failed.
bool IsFinal(const std::string& state);
bool IsSuccess(const std::string& state);

// "[##########----------]" for 50 % in a bar `width` characters wide (brackets included).
std::string Bar(int percent, int width);

// "12s", "3m04s", "1h02m".
std::string Elapsed(std::chrono::seconds s);

class ProgressView {
 public:
  explicit ProgressView(bool terminal, int width = 80) : terminal_(terminal), width_(width) {}

  // The text to write after reading `tasks` at `now`: on a terminal the whole block again,
  // moving the cursor up over the previous one; otherwise the lines that changed.
  std::string Update(const std::vector<TaskProgress>& tasks, Timestamp now);

  // One task's line, at most the view's width.
  std::string Line(const TaskProgress& task, Timestamp now);

 private:
  bool terminal_;
  int width_;
  int drawn_ = 0;                                      // lines of the last block (terminal)
  std::map<std::int64_t, std::string> last_;           // what each task last showed (plain)
  std::map<std::int64_t, std::chrono::seconds> done_;  // elapsed, frozen when seen final
};

}  // namespace conveyor::cli

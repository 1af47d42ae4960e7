// What `conveyor watch` shows: one line per task with its state, a progress bar, percent,
// elapsed time and progress text. On a terminal the block of lines is redrawn in place (ANSI
// cursor movement) and each line is cut to the terminal's width; otherwise a line is written,
// whole, each time a task's state, percent or text changes. Pure: the caller reads the tasks
// and writes the text.
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

// A field of an answer as text: a string as it is, another value as JSON, "" when absent/null.
std::string TextOf(const nlohmann::json& object, const char* key);

// Whether the state is one a run does not leave: Succeeded, SucceededManualCleanup, Failed.
bool IsFinal(const std::string& state);
bool IsSuccess(const std::string& state);

// "[##########----------]" for 50 % in a bar `width` characters wide (brackets included).
std::string Bar(int percent, int width);

// "12s", "3m04s", "1h02m".
std::string Elapsed(std::chrono::seconds s);

// `text` with control characters (newlines, escapes: a handler writes the text) as spaces, and
// at most `columns` characters (UTF-8 code points) long; 0: not cut.
std::string Printable(const std::string& text, std::size_t columns);

class ProgressView {
 public:
  // `width`: the terminal's columns (lines are cut one short of it, so none wraps).
  explicit ProgressView(bool terminal, int width = 80) : terminal_(terminal), width_(width) {}

  // The text to write after reading `tasks` at `now`: on a terminal the whole block again,
  // moving the cursor up over the previous one and clearing what is below; otherwise the
  // lines of the tasks that changed.
  std::string Update(const std::vector<TaskProgress>& tasks, Timestamp now);

 private:
  std::string Line(const TaskProgress& task, const std::string& elapsed) const;
  // How long the task ran: until now while it runs; frozen when the view first sees it final;
  // "-" for a task that was final before the view first saw it.
  std::string ElapsedOf(const TaskProgress& task, Timestamp now);

  bool terminal_;
  int width_;
  int drawn_ = 0;                                                    // lines drawn (terminal)
  std::map<std::int64_t, std::string> last_;                         // what each task last showed
  std::map<std::int64_t, std::optional<std::chrono::seconds>> ran_;  // of the tasks seen final
};

}  // namespace conveyor::cli

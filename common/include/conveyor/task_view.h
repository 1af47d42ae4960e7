// What the read endpoints show: a task from the projection with its latest run, and the
// port that finds one (PgTaskReader reads it from PostgreSQL).
#pragma once

#include <optional>
#include <string>

#include "conveyor/clock.h"
#include "conveyor/pg.h"
#include "conveyor/result.h"
#include "conveyor/run_state.h"
#include "conveyor/task.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct RunView {
  Uuid id;
  RunState state = RunState::kQueued;
  int start_count = 0;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  std::string result;
  std::string worker;
};

struct TaskView {
  Task task;
  std::string type_name;
  Timestamp modified_at;
  std::string modified_by;
  std::optional<RunView> last_run;
};

class TaskReader {
 public:
  virtual ~TaskReader() = default;
  // The task with its latest run; std::nullopt when the projection has no such task.
  virtual Result<std::optional<TaskView>> FindTask(const Uuid& id) = 0;
};

class PgTaskReader final : public TaskReader {
 public:
  explicit PgTaskReader(PgPool& pool) : pool_(pool) {}
  Result<std::optional<TaskView>> FindTask(const Uuid& id) override;

 private:
  PgPool& pool_;
};

}  // namespace conveyor

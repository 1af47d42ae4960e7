// What a task type runs. A Handler gets the task's parameters and returns a result or an
// error that says whether a retry can help. Handlers run at least once: a run interrupted
// by a crash is started again by the worker that takes over, so handlers must be idempotent.
//
// HandlerRegistry maps handler names (task_types.handler) to handlers. It is filled before
// the worker starts and read-only afterwards, so lookups are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "conveyor/result.h"
#include "conveyor/task.h"

namespace conveyor {

struct HandlerContext {
  const Task& task;
  const Uuid& run_id;
  int start_count;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // The result text recorded on the run, or an error.
  virtual Result<std::string> Run(const HandlerContext& context) = 0;
};

// Does nothing and succeeds: for demos, tests and benchmarks.
class NoopHandler final : public Handler {
 public:
  Result<std::string> Run(const HandlerContext&) override { return std::string("ok"); }
};

class HandlerRegistry {
 public:
  // A registry holding the built-in handlers (noop).
  static HandlerRegistry WithBuiltins();

  void Register(std::string name, std::shared_ptr<Handler> handler);
  Handler* Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<Handler>> handlers_;
};

}  // namespace conveyor

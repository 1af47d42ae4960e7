#include "pg_task_states.h"

#include <set>
#include <string>

#include "conveyor/pg_rows.h"
#include "conveyor/task_view.h"
#include "pg_outbox_store.h"

namespace conveyor {

namespace {

// Each task once, in the order first named.
std::vector<Uuid> Unique(const std::vector<Uuid>& tasks) {
  std::vector<Uuid> unique;
  std::set<std::string> seen;
  for (const auto& id : tasks)
    if (seen.insert(id.ToString()).second) unique.push_back(id);
  return unique;
}

}  // namespace

void LockTasks(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks) {
  if (tasks.empty()) return;
  ExecPrepared(tx, "SELECT 1 FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE",
               UuidArrayParam(tasks));
}

void LockTasksOfRuns(pqxx::transaction_base& tx, const std::vector<Uuid>& runs) {
  if (runs.empty()) return;
  ExecPrepared(tx,
               R"(SELECT 1 FROM tasks
          WHERE id IN (SELECT task_id FROM runs WHERE id = ANY($1::uuid[]))
          ORDER BY id FOR NO KEY UPDATE)",
               UuidArrayParam(runs));
}

void WriteTaskStates(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks,
                     const TaskStateSettings& settings, Timestamp at) {
  if (!settings.enabled() || tasks.empty()) return;
  auto unique = Unique(tasks);
  LockTasks(tx, unique);
  auto views = ReadProjectedTasks(tx, unique);
  std::vector<OutgoingMessage> events;
  events.reserve(unique.size());
  for (const auto& id : unique) {
    auto it = views.find(id.ToString());
    events.push_back(it == views.end() ? TaskStateTombstone(id, settings)
                                       : TaskStateMessage(it->second, settings, at));
  }
  WriteOutbox(tx, events);
}

}  // namespace conveyor

// Writing task-state events (task_state.h) in PostgreSQL, in the transaction of the change:
// shared by the stores whose writes change what the API shows (PgTaskStore, PgScheduleStore).
#pragma once

#include <pqxx/pqxx>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/uuid.h"
#include "task_state.h"

namespace conveyor {

// Locks the tasks' rows (FOR NO KEY UPDATE, in id order) until `tx` ends. A transaction that
// writes task states takes it before it changes runs, so that two changes of one task take
// turns: the second reads the task after the first committed, and its event, written later,
// holds both changes (without it, each could read the task without the other's change, and
// the topic's last word on the task would miss one).
void LockTasks(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks);

// LockTasks for the tasks of these runs.
void LockTasksOfRuns(pqxx::transaction_base& tx, const std::vector<Uuid>& runs);

// The state events of `tasks` (each once), after the change `tx` made to them: locks them
// (LockTasks), reads them back (ReadProjectedTasks) and writes each one's state, or a
// tombstone for one that is gone, to the outbox. Nothing when `settings` is not enabled.
void WriteTaskStates(pqxx::transaction_base& tx, const std::vector<Uuid>& tasks,
                     const TaskStateSettings& settings, Timestamp at);

}  // namespace conveyor

// The task-state events (docs/events.md, conveyor.tasks): after every change the API would
// show, the task's current state, keyed by its id, for a compacted topic; a tombstone when
// the task is gone. PgTaskStore writes them to the outbox in the transaction of the change.
#pragma once

#include <string>

#include "conveyor/clock.h"
#include "conveyor/event_publisher.h"
#include "conveyor/task_view.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct TaskStateSettings {
  std::string topic;   // empty: no task-state events are written
  std::string source;  // the CloudEvents source, e.g. "/conveyor/worker/<name>"
  // The journal's topic (journal.h; PostgreSQL writes its records, given kJournalTopicSetting
  // on the session); empty: none.
  std::string journal_topic;
  bool enabled() const { return !topic.empty(); }
  // Whether the changes of one task take turns (LockTasks before a change of its runs): what
  // each state event reads back must hold every earlier change, and each journal record must
  // name the last command applied before it.
  bool serializes_tasks() const { return enabled() || !journal_topic.empty(); }
};

// The conveyor.task.state event of `view`, recorded at `at`.
OutgoingMessage TaskStateMessage(const TaskView& view, const TaskStateSettings& settings,
                                 Timestamp at);
// The tombstone of a task that is gone (deleted, or removed by retention).
OutgoingMessage TaskStateTombstone(const Uuid& task_id, const TaskStateSettings& settings);

}  // namespace conveyor

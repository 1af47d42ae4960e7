// The one rule every dialect applies to a read or a change of one task: the caller finds only
// a task it may see (Caller::MaySee: its own, or any for an admin key), and another client's
// task is answered exactly as a missing one, so that a client learns nothing of the tasks of
// others, not even that they exist.
#pragma once

#include <cstdint>

#include "auth/caller.h"
#include "conveyor/result.h"
#include "conveyor/task_view.h"

namespace conveyor {

// The task with this id (TwoSms) or number (SuperOffice, Oracle); kNotFound ("no task <id>")
// when there is none or the caller may not see it; the reader's error otherwise.
Result<TaskView> VisibleTask(TaskReader& reader, const Uuid& id, const Caller& caller);
Result<TaskView> VisibleTask(TaskReader& reader, std::int64_t number, const Caller& caller);

}  // namespace conveyor

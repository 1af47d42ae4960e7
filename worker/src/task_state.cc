#include "task_state.h"

#include "conveyor/cloud_event.h"
#include "conveyor/task_codec.h"

namespace conveyor {

OutgoingMessage TaskStateMessage(const TaskView& view, const TaskStateSettings& settings,
                                 Timestamp at) {
  CloudEvent e;
  e.id = Uuid::TimeOrdered();
  e.source = settings.source;
  e.type = kTaskStateEvent;
  e.subject = view.task.id.ToString();
  e.time = at;
  e.data = TaskStateToEventData(view);
  return OutgoingMessage{
      settings.topic, e.subject, e.Serialize(), {{"ce_type", e.type}, {"ce_id", e.id.ToString()}}};
}

OutgoingMessage TaskStateTombstone(const Uuid& task_id, const TaskStateSettings& settings) {
  OutgoingMessage m{settings.topic, task_id.ToString(), "", {}};
  m.tombstone = true;
  return m;
}

}  // namespace conveyor

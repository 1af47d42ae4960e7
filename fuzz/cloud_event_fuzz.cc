// Events read from Kafka (cloud_event.h, task_codec.h): CloudEvent::Parse, then each command's
// data decoder on the event's data, without the schema check the worker does first (the
// decoders guard their own conversions). What decodes must come back the same when written
// again: the event as the producer serializes it, the task as TaskToEventData writes it.
#include <cstdlib>

#include "conveyor/cloud_event.h"
#include "conveyor/task_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  auto event = CloudEvent::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!event) return 0;
  auto again = CloudEvent::Parse(event->Serialize());
  if (!again || again->id != event->id || again->time != event->time ||
      again->subject != event->subject || again->data != event->data)
    std::abort();

  if (auto task = TaskFromEventData(event->data); task) {
    auto written = TaskFromEventData(TaskToEventData(*task));
    if (!written || TaskToEventData(*written) != TaskToEventData(*task)) std::abort();
  }
  if (auto update = TaskUpdateFromEventData(event->data); update)
    if (!TaskUpdateFromEventData(TaskUpdateToEventData(*update))) std::abort();
  if (auto update = BatchTaskUpdateFromEventData(event->data); update)
    if (!BatchTaskUpdateFromEventData(BatchTaskUpdateToEventData(*update))) std::abort();
  if (auto note = NoteFromEventData(event->data); note)
    if (!NoteFromEventData(NoteToEventData(*note))) std::abort();
  return 0;
}

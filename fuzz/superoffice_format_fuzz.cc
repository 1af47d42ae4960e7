// How SuperOffice answers are shaped (dialects/superoffice/format.h): the input's first line is a
// `$select` value, its second an `SO-TimeZone` header, its third the task's creation time and the
// rest the task's Parameters (application/json, as StartBatchJob stores a ParameterObject). What
// parses is applied as the routes apply it: to a BatchTaskInfo and to an array of them, then
// written as XML; a refusal renders as the agent's error body.
#include <cstdlib>

#include "conveyor/time_format.h"
#include "dialects/superoffice/codec.h"
#include "dialects/superoffice/format.h"
#include "dialects/superoffice/xml.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  using namespace conveyor::superoffice;
  fuzz::FuzzInput in(data, size);
  auto select = FieldSelection::Parse(in.TakeLine());
  auto zone = OutputTimeZone::Parse(in.TakeLine());
  auto created = ParseDateTime(in.TakeLine());
  if (!select) ErrorXml(ErrorBody(select.error()));
  if (!zone) ErrorXml(ErrorBody(zone.error()));
  if (!select || !zone) return 0;

  TaskView view;
  view.task.id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-000000000009");
  view.task.number = 1000;
  view.task.content_type = "application/json";
  view.task.parameters = std::string(in.rest());
  view.task.created_at = created.value_or(Timestamp());
  view.type_name = "sleep";
  RunView run;
  run.state = RunState::kSucceeded;
  run.started_at = view.task.created_at;
  view.last_run = run;

  auto info = BatchTaskInfo(view, *zone);
  auto list = nlohmann::json::array({info, info});
  select->Apply(info);
  select->Apply(list);
  if (select->selects_all() && info != BatchTaskInfo(view, *zone)) std::abort();
  BatchTaskInfoXml(info);
  BatchTaskInfoArrayXml(list);
  return 0;
}

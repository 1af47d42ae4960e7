// The Oracle collection query parameters (dialects/oracle/codec.h): the first byte picks q
// (ParseQ), orderBy (ParseOrderBy) or fields (ParseFields, then Project, on a task, on the task
// collection or on the notes collection); the rest is the parameter's value as httplib decoded it.
// A refusal renders as Oracle's problem JSON.
#include <cstdlib>

#include "conveyor/time_format.h"
#include "dialects/oracle/codec.h"
#include "fuzz_input.h"

namespace conveyor::oracle {
namespace {

constexpr std::string_view kBaseUrl = "http://127.0.0.1:8080";

void RenderError(const Error& e) {
  ProblemBody(WriteProblem(e), kBaseUrl, "/services/rest/connect/v1.4/tasks")
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json SampleTask() {
  TaskView v;
  v.task.number = 12;
  v.task.name = "Return customer call";
  v.task.priority = 2;
  v.task.external_refs["contact"] = 83;
  v.task.created_at = *ParseDateTime("2016-03-17T14:00:56Z");
  v.type_name = "noop";
  v.type_number = 1;
  return TaskJson(v, kBaseUrl);
}

void Fields(std::string_view text, const nlohmann::json& sample, bool collection) {
  auto fields = ParseFields(text, sample, collection);
  if (!fields) return RenderError(fields.error());
  Project(sample, *fields);
}

}  // namespace
}  // namespace conveyor::oracle

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  using namespace conveyor::oracle;
  static const nlohmann::json task = SampleTask();
  static const nlohmann::json empty_task = TaskJson(TaskView{}, kBaseUrl);
  static const nlohmann::json note = NoteJson(TaskNote{}, 0, kBaseUrl);
  fuzz::FuzzInput in(data, size);
  auto parameter = in.TakeByte() % 5;
  auto value = in.rest();
  switch (parameter) {
    case 0: {
      TaskQuery query;
      if (auto s = ParseQ(value, &query); !s) RenderError(s.error());
      break;
    }
    case 1: {
      auto order = ParseOrderBy(value);
      if (!order) RenderError(order.error());
      break;
    }
    case 2:
      Fields(value, task, false);
      break;
    case 3:
      Fields(value, empty_task, true);
      break;
    default:
      Fields(value, note, true);
  }
  return 0;
}

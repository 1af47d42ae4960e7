// The SuperOffice agent request bodies (dialects/superoffice/codec.h): the first byte picks the
// method (GetBatchTaskInfo's {"Id"}, each Get…BatchTaskInfos… list method, StartBatchJob and
// UpdateBatchTask wrapped or as the REST body, DeleteBatchTask, DeleteBatchTasks); the rest is the
// body. What decodes goes on as the routes take it: a list query becomes a TaskQuery, a start or an
// update becomes the BatchTaskInfo answer (JSON and XML), an update is planned against tasks in
// each state. A refusal renders as the agent's error body.
#include <cstdlib>

#include "conveyor/time_format.h"
#include "dialects/superoffice/codec.h"
#include "dialects/superoffice/xml.h"
#include "fuzz_input.h"

namespace conveyor::superoffice {
namespace {

const AgentRequests& Requests() {
  static const AgentRequests requests = [] {
    auto r = AgentRequests::Create();
    if (!r) std::abort();
    return std::move(*r);
  }();
  return requests;
}

TaskView Task(std::optional<RunState> state, std::string cancellation) {
  TaskView v;
  v.task.id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-000000000009");
  v.task.number = 1000;
  v.task.parameters = R"({"seconds":"2"})";
  v.task.content_type = "application/json";
  v.task.created_at = *ParseDateTime("2026-01-15T12:00:00.5Z");
  v.type_name = "sleep";
  v.cancellation = std::move(cancellation);
  if (state) {
    RunView run;
    run.state = *state;
    v.last_run = run;
  }
  return v;
}

void Answer(const TaskView& view) {
  auto info = BatchTaskInfo(view);
  BatchTaskInfoXml(info);
}

void Plan(const UpdateRequest& request) {
  using enum RunState;
  for (auto state : {std::optional<RunState>(), std::optional(kQueued), std::optional(kStarted),
                     std::optional(kSucceeded), std::optional(kCancelled)}) {
    for (const char* cancellation : {"CanCancel", "CannotCancel"}) {
      auto view = Task(state, cancellation);
      auto update = PlanUpdate(view, request, "BatchTaskInfo/State");
      if (!update) {
        ErrorXml(ErrorBody(update.error()));
        continue;
      }
      Answer(Updated(view, *update, view.task.id));
    }
  }
}

void Start(const StartRequest& request) {
  if (request.parameters.size() > kMaxParameterObjectBytes) std::abort();
  auto view = Task(std::nullopt, "CanCancel");
  view.type_name = request.name;
  view.task.associate_id = request.associate_id;
  view.task.description = request.description;
  view.task.request = request.request;
  view.task.parameters = request.parameters;
  Answer(view);
}

}  // namespace
}  // namespace conveyor::superoffice

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  using namespace conveyor::superoffice;
  static const auto list_methods = AgentRequests::ListMethods();
  fuzz::FuzzInput in(data, size);
  auto method = in.TakeByte() % (list_methods.size() + 7);
  auto body = in.rest();
  const auto& requests = Requests();
  std::optional<Error> error;
  auto keep_error = [&](const auto& r) {
    if (!r) error = r.error();
  };
  if (method < list_methods.size()) {
    auto filter = requests.DecodeListQuery(list_methods[method], body);
    keep_error(filter);
    if (filter) {
      if (filter->limit != kMaxListedTasks) std::abort();
      FilterQuery(*filter, std::nullopt);
      FilterQuery(*filter, Uuid::Parse("6b1f3c2e-0000-4000-8000-000000000001"));
    }
  } else {
    switch (method - list_methods.size()) {
      case 0:
        keep_error(requests.DecodeId(body));
        break;
      case 1:
      case 2: {
        auto start = requests.DecodeStart(body, method - list_methods.size() == 1);
        keep_error(start);
        if (start) Start(*start);
        break;
      }
      case 3:
      case 4: {
        auto update = requests.DecodeUpdate(body, method - list_methods.size() == 3);
        keep_error(update);
        if (update) Plan(*update);
        break;
      }
      case 5:
        keep_error(requests.DecodeDeleteOne(body));
        break;
      default: {
        auto ids = requests.DecodeDeleteMany(body);
        keep_error(ids);
        if (ids && ids->size() > kMaxDeletedTasks) std::abort();
      }
    }
  }
  if (error) ErrorXml(ErrorBody(*error));
  return 0;
}

// Oracle B2C Service request bodies (dialects/oracle/codec.h), read as the routes read them:
// ParseJson, then the first byte picks DecodeCreate, DecodePatch or DecodeNote against a small
// catalogue, and what decodes is checked against its schema. A decoded create is shown as the task
// resource; a decoded PATCH is applied to a task (UpdateOf, CheckStatusChange). A refusal renders
// as Oracle's problem JSON.
#include <cstdlib>

#include "conveyor/json_schema.h"
#include "conveyor/json_text.h"
#include "conveyor/time_format.h"
#include "dialects/oracle/codec.h"
#include "fuzz_input.h"

namespace conveyor::oracle {
namespace {

constexpr std::string_view kBaseUrl = "http://127.0.0.1:8080";

JsonSchema Schema(const char* path) {
  auto s = JsonSchema::Embedded(path);
  if (!s) std::abort();
  return std::move(*s);
}

TaskType Type(std::string_view id, std::int64_t number, std::string name) {
  TaskType t;
  t.id = *Uuid::Parse(id);
  t.number = number;
  t.name = std::move(name);
  t.handler = "noop";
  return t;
}

// The built-in types and two whose names differ only in case (a lookupName matching both
// case-insensitively is ambiguous).
const std::vector<TaskType>& Catalogue() {
  static const std::vector<TaskType> types = {
      Type("00000000-0000-0000-0000-000000000001", 1, "noop"),
      Type("00000000-0000-0000-0000-000000000002", 2, "sleep"),
      Type("6b1f3c2e-0000-4000-8000-000000001000", 1000, "report"),
      Type("6b1f3c2e-0000-4000-8000-000000001001", 1001, "Report"),
  };
  return types;
}

TaskView Current() {
  TaskView v;
  v.task.id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-000000000009");
  v.task.number = 12;
  v.task.name = "Return customer call";
  v.task.task_type_id = NoopTaskTypeId();
  v.task.parameters = "{}";
  v.task.content_type = "application/json";
  v.task.created_at = *ParseDateTime("2016-03-17T14:00:56Z");
  v.type_name = "noop";
  v.type_number = 1;
  RunView run;
  run.state = RunState::kStarted;
  v.last_run = run;
  return v;
}

void RenderError(const Error& e) {
  ProblemBody(WriteProblem(e), kBaseUrl, "/services/rest/connect/v1.4/tasks")
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The body as the create, PATCH or note route reads it.
void Decode(int kind, std::string_view input) {
  static const JsonSchema create_schema = Schema("requests/oracle.task-create.json");
  static const JsonSchema patch_schema = Schema("requests/oracle.task-patch.json");
  static const JsonSchema note_schema = Schema("requests/oracle.task-note.json");
  auto body = ParseJson(input, "the body");
  if (!body) return RenderError(body.error());
  if (!body->is_object()) return;
  switch (kind) {
    case 0: {
      auto draft = DecodeCreate(*body, Catalogue());
      if (!draft) return RenderError(draft.error());
      if (auto valid = create_schema.Validate(*body); !valid) return RenderError(valid.error());
      if (draft->parameters.size() > kMaxParametersBytes) std::abort();
      TaskView view = Current();
      view.task = std::move(*draft);
      TaskJson(view, kBaseUrl).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
    case 1: {
      auto patch = DecodePatch(*body, Catalogue());
      if (!patch) return RenderError(patch.error());
      if (auto valid = patch_schema.Validate(*body); !valid) return RenderError(valid.error());
      auto current = Current();
      UpdateOf(current.task, *patch);
      bool cancel = false;
      if (patch->status)
        if (auto s = CheckStatusChange(current, *patch->status, &cancel); !s)
          RenderError(s.error());
      return;
    }
    default: {
      auto note = DecodeNote(*body);
      if (!note) return RenderError(note.error());
      if (auto valid = note_schema.Validate(*body); !valid) return RenderError(valid.error());
    }
  }
}

}  // namespace
}  // namespace conveyor::oracle

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  conveyor::fuzz::FuzzInput in(data, size);
  auto kind = in.TakeByte() % 3;
  conveyor::oracle::Decode(kind, in.rest());
  return 0;
}

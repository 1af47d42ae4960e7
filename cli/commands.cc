#include "commands.h"

#include <fstream>
#include <ostream>
#include <sstream>

#include "conveyor/json_text.h"
#include "progress_view.h"

namespace conveyor::cli {
namespace {

const std::string kTasks = "/api/v1/BatchTask";

std::string TaskPath(std::int64_t id) { return kTasks + "/" + std::to_string(id); }

// The BatchTaskInfos `submit` sends: those of --file, or `count` made from the flags.
Result<std::vector<nlohmann::json>> SubmitBodies(const SubmitOptions& o) {
  if (!o.file.empty()) {
    std::ifstream in(o.file);
    if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot read " + o.file, "--file");
    std::stringstream text;
    text << in.rdbuf();
    auto j = ParseJson(text.str(), o.file);
    if (!j) return std::unexpected(j.error());
    if (j->is_object()) return std::vector<nlohmann::json>{*j};
    if (j->is_array() && !j->empty() &&
        std::all_of(j->begin(), j->end(), [](const auto& e) { return e.is_object(); }))
      return std::vector<nlohmann::json>(j->begin(), j->end());
    return Fail(ErrorCode::kInvalidArgument,
                o.file + " holds neither a BatchTaskInfo object nor a list of them", "--file");
  }
  if (o.type.empty())
    return Fail(ErrorCode::kInvalidArgument, "name the task type, or give --file", "TYPE");
  nlohmann::json body = {{"Name", o.type}};
  if (!o.parameters.empty()) {
    auto p = ParseJson(o.parameters, "", "--parameters");
    if (!p) return std::unexpected(p.error());
    if (!p->is_object())
      return Fail(ErrorCode::kInvalidArgument, "not a JSON object: " + o.parameters,
                  "--parameters");
    body["ParameterObject"] = std::move(*p);
  }
  if (!o.description.empty()) body["Description"] = o.description;
  return std::vector<nlohmann::json>(static_cast<std::size_t>(std::max(o.count, 1)), body);
}

}  // namespace

int Failed(Output& io, const Error& e) {
  io.err << "conveyor: " << e.Describe() << "\n";
  return 1;
}

std::string TaskTable(const std::vector<nlohmann::json>& infos) {
  std::ostringstream t;
  char line[512];
  std::snprintf(line, sizeof line, "%-8s %-12s %-10s %5s %6s  %s\n", "ID", "TYPE", "STATE", "DONE",
                "STARTS", "RESULT");
  t << line;
  for (const auto& i : infos) {
    auto p = ProgressOf(i);
    std::snprintf(line, sizeof line, "%-8lld %-12.12s %-10.10s %4d%% %6s  %s\n",
                  static_cast<long long>(p.id), p.name.c_str(), p.state.c_str(), p.percent,
                  TextOf(i, "StartCount").c_str(), Printable(TextOf(i, "Result"), 60).c_str());
    t << line;
  }
  return t.str();
}

int Submit(TaskApi& api, const SubmitOptions& o, Output& io, std::vector<std::int64_t>* created) {
  auto bodies = SubmitBodies(o);
  if (!bodies) return Failed(io, bodies.error());
  for (const auto& body : *bodies) {
    auto id = api.Post(kTasks, body);
    if (!id) return Failed(io, id.error());
    if (!id->is_number_integer())
      return Failed(io,
                    MakeError(ErrorCode::kInternal, "the answer is not a task Id: " + id->dump()));
    io.out << id->get<std::int64_t>() << "\n";
    if (created) created->push_back(id->get<std::int64_t>());
  }
  return 0;
}

int Get(TaskApi& api, const std::vector<std::int64_t>& ids, Output& io) {
  std::vector<nlohmann::json> infos;
  for (auto id : ids) {
    auto info = api.Get(TaskPath(id));
    if (!info) return Failed(io, info.error());
    infos.push_back(std::move(*info));
  }
  if (io.json)
    io.out << nlohmann::json(infos).dump(2) << "\n";
  else
    io.out << TaskTable(infos);
  return 0;
}

int List(TaskApi& api, const std::string& state, Output& io) {
  // GET /api/v1/BatchTask/{state} lists only user tasks (an AssociateId); the CLI's own are
  // system tasks, so the state is kept here.
  auto infos = api.Get(kTasks);
  if (!infos) return Failed(io, infos.error());
  if (!infos->is_array())
    return Failed(io, MakeError(ErrorCode::kInternal, "the answer is not a list of tasks"));
  std::vector<nlohmann::json> kept;
  for (auto& i : *infos)
    if (state.empty() || TextOf(i, "State") == state) kept.push_back(std::move(i));
  if (io.json)
    io.out << nlohmann::json(kept).dump(2) << "\n";
  else
    io.out << TaskTable(kept);
  return 0;
}

int Watch(TaskApi& api, const std::vector<std::int64_t>& ids, const WatchOptions& o, Output& io,
          const Clock& clock, const Sleeper& sleep) {
  ProgressView view(io.terminal, o.width);
  auto deadline = clock.Now() + o.timeout;
  while (true) {
    std::vector<TaskProgress> tasks;
    for (auto id : ids) {
      auto info = api.Get(TaskPath(id));
      if (!info) return Failed(io, info.error());
      tasks.push_back(ProgressOf(*info));
    }
    io.out << view.Update(tasks, clock.Now()) << std::flush;
    bool all_final =
        std::all_of(tasks.begin(), tasks.end(), [](const auto& t) { return IsFinal(t.state); });
    if (all_final)
      return std::all_of(tasks.begin(), tasks.end(),
                         [](const auto& t) { return IsSuccess(t.state); })
                 ? 0
                 : 1;
    if (o.timeout.count() > 0 && clock.Now() >= deadline) {
      io.err << "conveyor: not every task was final after " << o.timeout.count() << " s\n";
      return 1;
    }
    sleep(o.interval);
  }
}

int Stop(TaskApi& api, const std::vector<std::int64_t>& ids, Output& io) {
  int status = 0;
  for (auto id : ids) {
    auto stopped = api.Post(TaskPath(id) + "/Stop", nlohmann::json::object());
    if (!stopped) return Failed(io, stopped.error());
    bool asked = stopped->is_boolean() && stopped->get<bool>();
    io.out << id << (asked ? " stop requested" : " not stopped: its run is over") << "\n";
    if (!asked) status = 1;
  }
  return status;
}

int Retry(TaskApi& api, const std::vector<std::int64_t>& ids, Output& io) {
  for (auto id : ids) {
    // UpdateBatchTask with State New runs a Succeeded or Failed task again (docs/superoffice.md).
    auto info = api.Put(TaskPath(id), {{"State", "New"}});
    if (!info) return Failed(io, info.error());
    io.out << id << " queued to run again\n";
  }
  return 0;
}

int Types(TaskApi& api, Output& io) {
  auto answer = api.Get("/api/v1/admin/tasktypes");
  if (!answer) return Failed(io, answer.error());
  const auto& detail = (*answer)["ResponseData"]["Detail"];
  if (!detail.is_array())
    return Failed(io, MakeError(ErrorCode::kInternal, "the answer holds no list of task types"));
  if (io.json) {
    io.out << detail.dump(2) << "\n";
    return 0;
  }
  char line[256];
  std::snprintf(line, sizeof line, "%-36s %-16s %-12s %s\n", "ID", "NAME", "HANDLER",
                "CANCELLATION");
  io.out << line;
  for (const auto& t : detail) {
    std::snprintf(line, sizeof line, "%-36s %-16.16s %-12.12s %s\n", TextOf(t, "ID").c_str(),
                  TextOf(t, "Name").c_str(), TextOf(t, "Handler").c_str(),
                  TextOf(t, "CancellationBehaviour").c_str());
    io.out << line;
  }
  return 0;
}

}  // namespace conveyor::cli

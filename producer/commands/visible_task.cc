#include "commands/visible_task.h"

#include <string>

namespace conveyor {
namespace {

Result<TaskView> Visible(Result<std::optional<TaskView>> found, const Caller& caller,
                         const std::string& name) {
  if (!found) return std::unexpected(found.error());
  if (!*found || !caller.MaySee((*found)->task))
    return Fail(ErrorCode::kNotFound, "no task " + name);
  return std::move(**found);
}

}  // namespace

Result<TaskView> VisibleTask(TaskReader& reader, const Uuid& id, const Caller& caller) {
  return Visible(reader.FindTask(id), caller, id.ToString());
}

Result<TaskView> VisibleTask(TaskReader& reader, std::int64_t number, const Caller& caller) {
  return Visible(reader.FindTaskByNumber(number), caller, "with id " + std::to_string(number));
}

}  // namespace conveyor

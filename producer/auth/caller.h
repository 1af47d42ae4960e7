// Who is calling: the identity an authenticated request carries into the route handlers
// and into the command events it publishes. A plain value; thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "conveyor/task.h"
#include "conveyor/task_types.h"
#include "conveyor/uuid.h"

namespace conveyor {

struct Caller {
  enum class Kind { kAdmin, kClient };
  Kind kind = Kind::kClient;
  Uuid id;           // the client's id, or the admin key's id
  std::string name;  // the client's Name, or the admin key's name

  bool is_admin() const { return kind == Kind::kAdmin; }
  // The client a client caller acts for; std::nullopt for an admin key.
  std::optional<Uuid> client_id() const {
    return is_admin() ? std::nullopt : std::optional<Uuid>(id);
  }
  // "client:<id>" or "admin:<id>": what events record as created_by / requested_by and
  // TwoSms shows as LastModifiedBy.
  std::string Identity() const { return (is_admin() ? "admin:" : "client:") + id.ToString(); }
  // Tenant isolation: an admin key sees every task, a client only its own.
  bool MaySee(const Task& task) const { return is_admin() || task.client_id == id; }
  // An admin key may use every task type, a client those granted to it (TaskType::clients).
  bool MayUse(const TaskType& type) const { return is_admin() || type.GrantedTo(id); }
};

}  // namespace conveyor

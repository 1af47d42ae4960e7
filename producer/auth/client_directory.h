// Clients (tenants): what is stored of one, and the port that finds one. Every task belongs
// to one client; clients are created, changed, disabled and deleted by admins
// (api/v1/admin/clients). A deleted client is found no more; its tasks stay.
#pragma once

#include <optional>
#include <string>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor {

// A client as stored; its secret hash never leaves the credential store.
struct ClientRecord {
  Uuid id;
  std::string name;
  Uuid user_id;
  Timestamp created_at;
  std::string created_by;
  bool enabled = true;  // false: none of its credentials work until it is enabled again
};

// Thread-safe implementations; FindClient may block on the database (kUnavailable when it
// does not answer).
class ClientDirectory {
 public:
  virtual ~ClientDirectory() = default;
  virtual Result<std::optional<ClientRecord>> FindClient(const Uuid& id) = 0;
};

}  // namespace conveyor

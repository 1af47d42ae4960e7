// Authentication at the HTTP layer, in one place, library-free: the Guard admits a request to
// a route (its Access) or answers why not, and the answer is rendered by the dialect that owns
// the request's path (Dialect::Prefixes, the longest prefix; the fallback dialect for paths no
// dialect owns). 401s carry WWW-Authenticate (Bearer and Basic). The Guard is built once and
// only read afterwards: thread-safe; the Authenticator and the dialects must outlive it.
#pragma once

#include <optional>
#include <vector>

#include "auth/auth.h"
#include "http/dialect.h"

namespace conveyor::http {

class Guard {
 public:
  Guard(Authenticator& auth, std::vector<const Dialect*> dialects, const Dialect& fallback);

  // The dialect that owns `path`.
  const Dialect& OwnerOf(std::string_view path) const;

  // Admits `request` to a route with `access`, setting request.caller; or returns the answer
  // that refuses it: 401 (no or bad credentials, with WWW-Authenticate), 403 (a client on an
  // admin route), 503 (the credential store did not answer), in the owning dialect's shape.
  // A public route admits everyone with a default Caller.
  std::optional<Answer> Admit(Request& request, Access access) const;

  // `error` in the owning dialect's shape (a route that threw, a path no route serves).
  Answer Refuse(const Request& request, const Error& error) const;

 private:
  Authenticator& auth_;
  std::vector<const Dialect*> dialects_;
  const Dialect& fallback_;
};

}  // namespace conveyor::http

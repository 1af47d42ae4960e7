// Authentication in the HTTP layer (cpp-httplib), in one place:
//   - RefuseAnonymous: a pre-routing handler; every request but GET /healthz, POST /Token and
//     GET /openapi.json must carry valid credentials, or it is answered 401 before routing.
//   - Guarded: wraps a route handler that needs a Caller; it authenticates (a cache hit after
//     RefuseAnonymous), refuses a client on an admin route with 403, and passes the Caller.
//   - RegisterTokenRoute: POST /Token (OAuth 2.0 client credentials). The clients resource
//     (api/v1/admin/clients) is a TwoSms route (twosms_routes.h), admin keys only.
// Failures are answered in the dialect of the path: the SuperOffice error body under
// /api/v1/Agents/ and /api/v1/BatchTask, Oracle's problem JSON under /services/rest/, the TwoSms
// Error/ResponseData envelope elsewhere; 401s carry WWW-Authenticate (Bearer and Basic).
// All handlers are thread-safe; the Authenticator and store they use must outlive the server.
#pragma once

#include <httplib.h>

#include <functional>

#include "auth/auth.h"
#include "auth/caller.h"
#include "dialects/twosms/clients.h"
#include "http/recording_server.h"

namespace conveyor {

enum class Dialect { kTwoSms, kSuperOffice, kOracle };
Dialect DialectOf(const std::string& path);

// Answers `error` (kUnauthenticated: 401 + WWW-Authenticate; kPermissionDenied: 403; anything
// else as the dialect maps it) in the dialect's error body.
void SendAuthError(const httplib::Request& req, httplib::Response& res, const Error& error);

enum class Access { kAnyCaller, kAdminOnly };
using CallerHandler =
    std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;
httplib::Server::Handler Guarded(Authenticator& auth, Access access, CallerHandler handler);

bool IsPublicRoute(const std::string& method, const std::string& path);
httplib::Server::HandlerWithResponse RefuseAnonymous(Authenticator& auth);

void RegisterTokenRoute(RecordingServer& server, Authenticator& auth);

}  // namespace conveyor

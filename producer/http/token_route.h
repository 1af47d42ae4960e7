// POST /Token: OAuth 2.0 client credentials (RFC 6749 §4.4) for a client's bearer token
// (README "Authentication", docs/adr/0005). A public route: the form body (or HTTP Basic)
// carries the client's id and secret. Errors are RFC 6749 §5.2's {"error", "error_description"}.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "http/dialect.h"

namespace conveyor::http {

Route TokenRoute(Authenticator& auth);

// An application/x-www-form-urlencoded body: '+' is a space, %XX a byte; a name given twice
// keeps both values. Written here (a dozen lines) rather than taken from the server library,
// so that the route stays a function of a plain Request.
std::multimap<std::string, std::string> ParseForm(std::string_view body);

}  // namespace conveyor::http

// POST /Token: OAuth 2.0 client credentials (RFC 6749 §4.4) for a client's bearer token, and
// POST /revoke: token revocation (RFC 7009) by the client it was issued to (README
// "Authentication", docs/adr/0005). Public routes: the form body (or HTTP Basic) carries the
// client's id and secret. Errors are RFC 6749 §5.2's {"error", "error_description"}.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "http/dialect.h"

namespace conveyor::http {

Route TokenRoute(Authenticator& auth);
// 200 with no body when the token is revoked, or was not the client's or not a token at all
// (RFC 7009 §2.2: the answer does not tell them apart).
Route RevokeRoute(Authenticator& auth);

// An application/x-www-form-urlencoded body: '+' is a space, %XX a byte; a name given twice
// keeps both values. Written here (a dozen lines) rather than taken from the server library,
// so that the route stays a function of a plain Request.
std::multimap<std::string, std::string> ParseForm(std::string_view body);

}  // namespace conveyor::http

// A request's target (RFC 9112 §3.2: "/path?query", or an absolute URI) as the routes see it:
// the path and the query's parameters, percent-decoded ('+' in the query is a space).
// Boost.URL parses it; a target that is not a URI reference (RFC 3986) — a raw space or
// non-ASCII byte, a '%' not followed by two hex digits — is refused, saying why.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "conveyor/result.h"

namespace conveyor::http {

struct Target {
  std::string path;                                // "/" when the target has none
  std::multimap<std::string, std::string> params;  // in order; a key without '=' maps to ""
};

// kInvalidArgument when `target` is not a URI reference.
Result<Target> ParseTarget(std::string_view target);

}  // namespace conveyor::http

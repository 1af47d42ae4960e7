// JSON text from outside the process: request bodies, a task's Parameters, events read from
// Kafka. Every such text is parsed by ParseJson and by nothing else.
//
// nlohmann::json parses a document of any depth without recursing, but copying, comparing
// and dumping a value, and valijson's checks, recurse once per level of nesting: a body of a
// few hundred thousand nested arrays overflows the stack of whichever thread touches the
// value next, and takes the whole process down with every tenant's requests in it. ParseJson
// refuses arrays and objects nested deeper than kMaxJsonDepth while it parses, so no value it
// returns is deep enough to do that. Thread-safe; it allocates only the value it returns.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "conveyor/result.h"

namespace conveyor {

// Arrays and objects nest at most this deep in any JSON text from outside (a scalar at the
// top is depth 0, the members of a top-level object depth 1).
inline constexpr int kMaxJsonDepth = 32;

// The JSON document in `text`. `what` names the text in an error's message ("the request
// body"; empty when `field` names it), `field` is the error's field.
// Errors: kInvalidArgument "<what> is not a JSON document (<the parser's reason>)";
// kInvalidArgument "<what> holds a number out of range (number overflow parsing '1e400')" for
// a number beyond a double's range; kTooLarge "<what> nests JSON arrays and objects deeper
// than the limit of 32 levels".
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what,
                                 std::string field = {});

}  // namespace conveyor

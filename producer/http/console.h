// The web console (console/ in the repository): a page, its script and its style, compiled
// into the producer and served under /console/ to anyone; what the page shows it reads from
// the HTTP API with the credentials a person signs in with (docs/console.md).
#pragma once

#include <vector>

#include "http/dialect.h"

namespace conveyor::http {

// GET /console and /console/ (the page) and /console/<file> (its script and style). Each
// answer forbids framing and any script, style or connection not from the producer itself.
std::vector<Route> ConsoleRoutes();

}  // namespace conveyor::http

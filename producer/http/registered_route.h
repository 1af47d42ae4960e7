// A route the producer's HTTP server serves (recording_server.h records them).
#pragma once

#include <string>

namespace conveyor {

struct RegisteredRoute {
  std::string method;   // "GET", "POST", "PUT", "PATCH" or "DELETE"
  std::string pattern;  // the regular expression httplib matches the whole path against
};

}  // namespace conveyor

// Prometheus' own `promtool check metrics` (Debian's package prometheus, which
// scripts/install-deps installs) on an exposition, for tests of /metrics. The binary's path is
// compiled in as CONVEYOR_PROMTOOL (tests/CMakeLists.txt); when promtool is missing the path
// reads "...-NOTFOUND" and PromtoolFound() says so, so that the test fails (never skips).
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace conveyor::testing {

struct PromtoolOutcome {
  int exit_status = -1;
  std::string output;  // stdout and stderr
};

inline bool PromtoolFound() { return access(CONVEYOR_PROMTOOL, X_OK) == 0; }

// Runs `promtool check metrics` with `exposition` on its standard input.
inline PromtoolOutcome CheckMetricsWithPromtool(const std::string& exposition) {
  char dir[] = "/tmp/conveyor-promtool-XXXXXX";
  if (mkdtemp(dir) == nullptr) return {};
  const std::string input = std::string(dir) + "/metrics.txt";
  const std::string output = std::string(dir) + "/promtool.out";
  std::ofstream(input, std::ios::binary) << exposition;
  const std::string command = std::string("'") + CONVEYOR_PROMTOOL + "' check metrics <'" + input +
                              "' >'" + output + "' 2>&1";
  int status = std::system(command.c_str());
  std::ifstream in(output, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  PromtoolOutcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
  std::filesystem::remove_all(dir);
  return outcome;
}

}  // namespace conveyor::testing

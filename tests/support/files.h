// Reading test data files (tests/golden/) by path relative to the repository root.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace conveyor::testing {

inline std::string ReadRepoFile(const std::string& relative) {
  std::ifstream in(std::string(CONVEYOR_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace conveyor::testing

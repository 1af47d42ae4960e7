// Reading test data files (tests/golden/) by path relative to the repository root.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace conveyor::testing {

inline std::string ReadRepoFile(const std::string& relative) {
  std::ifstream in(std::string(CONVEYOR_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The golden events (tests/golden/events/v<N>/*.json): events as each schema version wrote
// them, which every later build must still read (docs/events.md, "Versions").
struct GoldenEvent {
  std::string path;  // relative to the repository root
  std::string text;
};
inline std::vector<GoldenEvent> GoldenEvents() {
  std::vector<GoldenEvent> out;
  std::filesystem::path root(CONVEYOR_SOURCE_DIR);
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root / "tests" / "golden" / "events"))
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      auto relative = std::filesystem::relative(entry.path(), root).string();
      out.push_back({relative, ReadRepoFile(relative)});
    }
  std::ranges::sort(out, {}, &GoldenEvent::path);
  return out;
}

}  // namespace conveyor::testing

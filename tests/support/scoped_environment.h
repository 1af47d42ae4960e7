// Environment variables unset for a test's duration and restored afterwards, for the tests of
// the programs' options (which read CONVEYOR_* variables). Not thread-safe: setenv is not.
#pragma once

#include <stdlib.h>

#include <map>
#include <string>
#include <vector>

namespace conveyor::testing {

class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(std::vector<std::string> names) : names_(std::move(names)) {
    for (const auto& n : names_) {
      if (const char* value = getenv(n.c_str())) saved_[n] = value;
      unsetenv(n.c_str());
    }
  }
  ~ScopedEnvironment() {
    for (const auto& n : names_) unsetenv(n.c_str());
    for (const auto& [n, v] : saved_) setenv(n.c_str(), v.c_str(), 1);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

  // Sets one of the names for the rest of the test.
  void Set(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::vector<std::string> names_;
  std::map<std::string, std::string> saved_;
};

}  // namespace conveyor::testing

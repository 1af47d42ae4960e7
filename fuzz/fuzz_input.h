// Cutting one fuzz input into the pieces a target needs: a leading byte that picks what the
// target does with the rest, and lines for targets that take several strings (a query
// parameter, a header, a body). Every split accepts any bytes, so libFuzzer's mutations of
// the pieces stay meaningful. Header-only; used by the targets in fuzz/ alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace conveyor::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  // The first byte (0 when there is none), taken off the input.
  std::uint8_t TakeByte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // Up to the first '\n' (not included), taken off the input with the '\n'; all of the rest
  // when there is no '\n'.
  std::string_view TakeLine() {
    auto nl = rest_.find('\n');
    auto line = rest_.substr(0, nl);
    rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
    return line;
  }
  // What is left.
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace conveyor::fuzz

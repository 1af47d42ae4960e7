// A 128-bit UUID value (RFC 4122 / RFC 9562): parsed and written by libuuid, generated from the
// kernel's random bytes (getrandom).
//
// Uuid is a small regular value type: copyable, comparable, hashable. Parse accepts the
// canonical 8-4-4-4-12 hexadecimal form in either case, with or without braces (as .NET
// writes GUIDs); ToString writes lower case.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace conveyor {

class Uuid {
 public:
  Uuid() = default;  // the nil UUID

  static Uuid Random();  // version 4: 122 random bits
  // Version 7 (RFC 9562): the Unix time in milliseconds, then 74 random bits. Ids made one
  // after another sort in about the order they were made, so a B-tree index on them grows
  // at its right edge (task, event and run ids) instead of at random pages.
  static Uuid TimeOrdered();
  static std::optional<Uuid> Parse(std::string_view text);
  // Version 5 (RFC 9562 §5.5): from the SHA-1 of `name_space` and `name` (libuuid). The same
  // name in the same space is always the same UUID.
  static Uuid NameBased(const Uuid& name_space, std::string_view name);
  // The UUID of these 16 bytes, as they are (the caller sets version and variant).
  static Uuid FromBytes(const std::uint8_t (&bytes)[16]) {
    Uuid u;
    std::copy(std::begin(bytes), std::end(bytes), u.bytes_.begin());
    return u;
  }

  std::string ToString() const;
  bool is_nil() const;
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }

  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace conveyor

template <>
struct std::hash<conveyor::Uuid> {
  std::size_t operator()(const conveyor::Uuid& u) const noexcept {
    std::size_t h = 0;
    for (auto b : u.bytes()) h = h * 131 + b;
    return h;
  }
};

#include "conveyor/uuid.h"

#include <uuid/uuid.h>

#include <algorithm>
#include <cstring>

namespace conveyor {

Uuid Uuid::Random() {
  Uuid u;
  uuid_generate_random(u.bytes_.data());
  return u;
}

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) return std::nullopt;
  char buf[37];
  std::memcpy(buf, text.data(), 36);
  buf[36] = '\0';
  Uuid u;
  if (uuid_parse(buf, u.bytes_.data()) != 0) return std::nullopt;
  return u;
}

std::string Uuid::ToString() const {
  char buf[37];
  uuid_unparse_lower(bytes_.data(), buf);
  return std::string(buf, 36);
}

bool Uuid::is_nil() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace conveyor

// ASCII text helpers the decoders share: protocol tokens (header names, media types, enum
// names, field names) compare without regard to ASCII case; bytes outside ASCII are left as
// they are.
#pragma once

#include <string>
#include <string_view>

namespace conveyor {

std::string AsciiLower(std::string_view text);
bool EqualsIgnoringCase(std::string_view a, std::string_view b);
// Without leading and trailing white space (' ', '\t', '\n', '\v', '\f', '\r').
std::string_view TrimSpaces(std::string_view text);

}  // namespace conveyor

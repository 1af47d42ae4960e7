// UTF-8 validation of text from outside the process that no JSON parser has checked (XML
// bodies: pugixml takes bytes as they come). Text that is not UTF-8 cannot be written into a
// JSON event or answer, and valijson reads past its tables counting its characters.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace conveyor {

// The offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or std::nullopt when all of
// `text` is UTF-8. Written here rather than taken from a library: it is twenty lines and
// nothing the project already links offers it.
std::optional<std::size_t> FirstInvalidUtf8(std::string_view text);

}  // namespace conveyor

// RFC 4180 CSV encoding, as the export handler writes it: fields separated by ',', records
// ended by CRLF; a field is quoted when it holds ',', '"', CR or LF, or is empty text, with
// each '"' doubled. SQL NULL is an empty unquoted field, so NULL and '' stay apart.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conveyor {

// Appends one field (no separator) to `out`.
void AppendCsvField(std::string& out, std::optional<std::string_view> value);

// Appends one record, CRLF included.
void AppendCsvRecord(std::string& out, const std::vector<std::optional<std::string_view>>& fields);

}  // namespace conveyor

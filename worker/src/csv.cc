#include "csv.h"

namespace conveyor {

void AppendCsvField(std::string& out, std::optional<std::string_view> value) {
  if (!value) return;
  bool quote = value->empty() || value->find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out.append(*value);
    return;
  }
  out.push_back('"');
  for (char c : *value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRecord(std::string& out, const std::vector<std::optional<std::string_view>>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    AppendCsvField(out, fields[i]);
  }
  out.append("\r\n");
}

}  // namespace conveyor

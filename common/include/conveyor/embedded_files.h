// Files compiled into the binaries (schemas/, common/migrations/, console/), by repository
// path.
#pragma once

#include <string_view>
#include <vector>

namespace conveyor::embedded {

// The text of the file, or empty when none was embedded under that path.
std::string_view Find(std::string_view path);
// Paths that start with `prefix`, in lexicographic order.
std::vector<std::string_view> List(std::string_view prefix);

}  // namespace conveyor::embedded

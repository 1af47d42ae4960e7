// Binding a task's Parameters to a configured statement's $1..$n (query_parameters.h), as the
// sql and export handlers do before they reach PostgreSQL. The first byte picks the content
// type (application/json or application/xml), the first line lists the parameter names
// (comma-separated, as a handler's configuration lists them), the rest is the Parameters.
// What binds must give one value per name.
#include <cstdlib>

#include "fuzz_input.h"
#include "src/query_parameters.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  fuzz::FuzzInput in(data, size);
  Task task;
  task.content_type = in.TakeByte() & 1 ? "application/xml" : "application/json";
  std::vector<std::string> names;
  auto list = in.TakeLine();
  while (!list.empty() && names.size() < 16) {
    auto comma = list.find(',');
    names.emplace_back(list.substr(0, comma));
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
  }
  task.parameters = std::string(in.rest());
  auto values = BindParameters(task, names);
  if (values && values->size() != names.size()) std::abort();
  return 0;
}

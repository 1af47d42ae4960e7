// Date-times from outside (time_format.h): TwoSms StartDate/FinishDate, Oracle dueTime and q,
// CloudEvents time. Whatever ParseDateTime accepts must survive the trip every accepted date
// makes: written into an event (FormatRfc3339) or an answer (FormatDotNet) and read back by
// the worker or a client as the same instant.
#include <cstdio>
#include <cstdlib>

#include "conveyor/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  auto t = ParseDateTime(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t) return 0;
  for (const auto& text : {FormatRfc3339(*t), FormatDotNet(*t)}) {
    auto back = ParseDateTime(text);
    if (back && *back == *t) continue;
    std::fprintf(stderr, "accepted %.*s, wrote %s, %s\n", static_cast<int>(size),
                 reinterpret_cast<const char*>(data), text.c_str(),
                 back ? "read back another instant" : "cannot read it back");
    std::abort();
  }
  return 0;
}

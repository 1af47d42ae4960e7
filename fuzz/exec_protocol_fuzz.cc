// What an exec handler's program writes (exec_protocol.h): its stdout split into lines and
// parsed as the protocol, its stderr kept in a bounded log; both end up as text in
// PostgreSQL. The first byte sets the longest line kept and the log's limit; the rest is the
// program's output. Every text made safe must be valid UTF-8 without NUL.
#include <cstdlib>

#include "conveyor/utf8.h"
#include "fuzz_input.h"
#include "src/exec_protocol.h"

namespace {

void CheckSafe(const std::string& text) {
  if (conveyor::FirstInvalidUtf8(text) || text.find('\0') != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  fuzz::FuzzInput in(data, size);
  std::size_t limit = in.TakeByte() + 1;
  auto output = in.rest();

  LineSplitter lines(limit);
  auto on_line = [&](std::string_view line) {
    if (line.size() > limit) std::abort();
    auto parsed = ParseExecLine(line);
    if (parsed.kind == ExecLine::Kind::kProgress && (parsed.percent < 0 || parsed.percent > 100))
      std::abort();
    CheckSafe(SafeText(parsed.text));
  };
  // In two pieces, as a pipe may deliver them.
  lines.Feed(output.substr(0, output.size() / 2), on_line);
  lines.Feed(output.substr(output.size() / 2), on_line);
  lines.Finish(on_line);

  BoundedLog log(limit);
  log.Append(output);
  if (log.cut() != (output.size() > limit ? output.size() - limit : 0)) std::abort();
  CheckSafe(log.Text());
  CheckSafe(log.LastLine());
  return 0;
}

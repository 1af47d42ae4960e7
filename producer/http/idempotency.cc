#include "http/idempotency.h"

#include "auth/credentials.h"

namespace conveyor::http {

Status CheckIdempotencyKey(std::string_view key) {
  bool printable = !key.empty() && key.size() <= kMaxIdempotencyKeyBytes;
  for (char c : key) printable = printable && c >= 0x20 && c <= 0x7e;
  if (!printable)
    return Fail(ErrorCode::kInvalidArgument,
                "must be 1 to " + std::to_string(kMaxIdempotencyKeyBytes) +
                    " printable ASCII characters (a UUID is a good one)",
                kIdempotencyKeyHeader);
  return {};
}

std::string RequestFingerprint(const Request& request) {
  // Each part is preceded by its length, so that no two lists of parts read the same.
  std::string text;
  auto part = [&text](std::string_view p) {
    text += std::to_string(p.size()) + ':';
    text += p;
  };
  part(request.method);
  part(request.path);
  for (const auto& [name, value] : request.params) {
    part(name);
    part(value);
  }
  for (const char* header : {"Content-Type", "Accept", "SO-TimeZone"}) part(request.Header(header));
  part(request.body);
  return auth::Sha256Hex(text);
}

}  // namespace conveyor::http

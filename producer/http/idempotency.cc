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

Uuid IdempotencyKeyId(const std::string& caller, const std::string& key) {
  static const Uuid kNamespace = *Uuid::Parse("0c8e7d4a-52d1-4f7e-9b0a-3e61f2a4c9d7");
  return Uuid::NameBased(kNamespace, caller + "\n" + key);
}

std::string RequestFingerprint(const Request& request) {
  // Each part ends with a byte no part holds, so that parts cannot run into each other.
  std::string text = request.method + '\0' + request.path + '\0';
  for (const auto& [name, value] : request.params) text += name + '=' + value + '\0';
  text += '\0' + request.Header("Content-Type") + '\0' + request.body;
  return auth::Sha256Hex(text);
}

}  // namespace conveyor::http

// Value-or-error returns for expected failures.
//
// An Error carries a code, the name of the offending field (when one is to blame), a message
// a person can act on, and whether trying again later can help. Functions that can fail for
// reasons a caller must handle return Result<T>; exceptions from libraries (pqxx, nlohmann,
// librdkafka) are caught at the adapter boundary and turned into an Error there.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace conveyor {

enum class ErrorCode {
  kInvalidArgument,     // the caller sent something malformed; retrying the same is useless
  kNotFound,            // the thing named does not exist (or is not the caller's)
  kAlreadyExists,       // a create collided with an existing id
  kFailedPrecondition,  // the request is well formed but the current state forbids it
  kTooLarge,            // a size or depth limit was crossed; the message names the limit
  kUnavailable,         // a dependency (Kafka, PostgreSQL) did not answer in time; retry later
  kInternal,            // a bug or an impossible state
  kUnauthenticated,     // no credentials, or credentials that are unknown, wrong or expired
  kPermissionDenied,    // the caller is known but may not do this (a client on an admin route)
  kRateLimited,         // too many attempts lately (failed logins); retry_after says when to retry
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string field;  // empty when no single field is to blame
  // When trying again makes sense (an HTTP answer's Retry-After); zero: not said.
  std::chrono::seconds retry_after{0};

  bool retryable() const { return code == ErrorCode::kUnavailable; }
  // "field: message" or just "message".
  std::string Describe() const;
};

inline Error MakeError(ErrorCode code, std::string message, std::string field = {}) {
  return Error{code, std::move(message), std::move(field)};
}

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message, std::string field = {}) {
  return std::unexpected(MakeError(code, std::move(message), std::move(field)));
}

}  // namespace conveyor

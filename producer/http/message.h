// An HTTP request and its answer as the producer's routes see them: plain values, apart from
// any HTTP library, so that every route of every dialect is a function that unit tests call
// directly (http/server.h adapts the server library to them).
//
// Header names are matched without regard to case; a query parameter given twice keeps both
// values (Param returns the first). Neither type is thread-safe; each request has its own.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "commands/idempotent_create.h"
#include "conveyor/result.h"

namespace conveyor::http {

struct Request {
  std::string method;                              // "GET", "POST", ...
  std::string path;                                // percent-decoded, without the query
  std::multimap<std::string, std::string> params;  // the query, decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The groups of the route's pattern that matched the path, in order ("(\d{1,18})" → "42").
  std::vector<std::string> path_params;
  // The peer's IP address, as the connection shows it (a proxy's, behind one).
  std::string remote_address;
  // Set by the Router on a create with an Idempotency-Key (http/idempotency.h).
  std::optional<IdempotentCreate> idempotency;
  // Who sent it, once the Guard authenticated it (http/guard.h); a route that needs no
  // credentials sees a default Caller.
  Caller caller;

  // The header's value ("" when absent; the first when repeated).
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The query parameter's first value ("" when absent).
  std::string Param(std::string_view name) const;
  bool HasParam(std::string_view name) const;
};

struct Answer {
  int status = 200;
  std::string content_type;  // e.g. "application/json; charset=utf-8"
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  void SetHeader(std::string name, std::string value);
  // The value of a header set on the answer ("" when none).
  std::string Header(std::string_view name) const;
};

// `body` as JSON text; what a request echoes into an answer (a path, a parameter) may not be
// UTF-8, so bytes that are not become U+FFFD instead of failing the answer.
std::string JsonText(const nlohmann::json& body);
std::string JsonText(const nlohmann::ordered_json& body);
// The HTTP status an error code answers with, unless a dialect says otherwise: 400 invalid
// argument, 401, 403, 404, 409 already exists or failed precondition, 413, 429, 500, 503.
int StatusOf(ErrorCode code);
// A JSON answer ("application/json; charset=utf-8").
Answer JsonAnswer(int status, const nlohmann::json& body);

// The media type of a Content-Type or Accept item: lower-cased, parameters and spaces dropped
// ("Application/JSON; charset=utf-8" → "application/json").
std::string MediaType(std::string_view header_item);
// The media types (MediaType) of an Accept header, the most preferred first: by quality
// (RFC 9110 §12.5.1; an unreadable q counts as 1), ties in the order listed; q=0 dropped.
std::vector<std::string> AcceptedMediaTypes(std::string_view accept);

}  // namespace conveyor::http

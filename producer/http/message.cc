#include "http/message.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "conveyor/text.h"

namespace conveyor::http {
namespace {

template <typename Headers>
const std::string* Find(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (EqualsIgnoringCase(key, name)) return &value;
  return nullptr;
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  const auto* value = Find(headers, name);
  return value ? *value : std::string();
}

bool Request::HasHeader(std::string_view name) const { return Find(headers, name) != nullptr; }

std::string Request::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

bool Request::HasParam(std::string_view name) const {
  return params.find(std::string(name)) != params.end();
}

void Answer::SetHeader(std::string name, std::string value) {
  for (auto& [key, v] : headers)
    if (EqualsIgnoringCase(key, name)) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string Answer::Header(std::string_view name) const {
  const auto* value = Find(headers, name);
  return value ? *value : std::string();
}

std::string JsonText(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string JsonText(const nlohmann::ordered_json& body) {
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Answer JsonAnswer(int status, const nlohmann::json& body) {
  return Answer{status, "application/json; charset=utf-8", JsonText(body), {}};
}

std::string MediaType(std::string_view item) {
  std::string out;
  for (unsigned char c : item.substr(0, item.find(';')))
    if (!std::isspace(c)) out += static_cast<char>(c);
  return AsciiLower(out);
}

std::vector<std::string> AcceptedMediaTypes(std::string_view accept) {
  struct Item {
    std::string media;
    double q;
  };
  std::vector<Item> items;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    auto item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    double q = 1.0;
    for (auto rest = item; rest.find(';') != std::string_view::npos;) {
      rest = rest.substr(rest.find(';') + 1);
      auto param = TrimSpaces(rest.substr(0, rest.find(';')));
      if (param.size() < 2 || !EqualsIgnoringCase(param.substr(0, 2), "q=")) continue;
      std::string value(param.substr(2));
      char* end = nullptr;
      q = std::strtod(value.c_str(), &end);
      if (end == value.c_str()) q = 1.0;
    }
    auto media = MediaType(item);
    if (q > 0 && !media.empty()) items.push_back({std::move(media), q});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.q > b.q; });
  std::vector<std::string> out;
  for (auto& i : items) out.push_back(std::move(i.media));
  return out;
}

}  // namespace conveyor::http

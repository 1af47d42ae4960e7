#include "http/message.h"

#include <algorithm>
#include <cctype>

namespace conveyor::http {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

template <typename Headers>
const std::string* Find(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (SameName(key, name)) return &value;
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
    if (SameName(key, name)) {
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

Answer JsonAnswer(int status, const nlohmann::json& body) {
  return Answer{status, "application/json; charset=utf-8", JsonText(body), {}};
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string MediaType(std::string_view item) {
  std::string out;
  for (unsigned char c : item.substr(0, item.find(';')))
    if (!std::isspace(c)) out += static_cast<char>(c);
  return Lower(out);
}

}  // namespace conveyor::http

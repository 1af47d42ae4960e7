// Concrete requests for the operations of an OpenAPI document: each path parameter is
// substituted by every value its schema's `enum`, its `examples` or its `example` gives (all
// combinations), so that a test can match documented operations against the routes a server
// registers, or send them to it. Used by the OpenAPI route tests (integration and e2e).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace conveyor::testing {

struct OperationSample {
  std::string method;      // upper case: "GET"
  std::string path;        // concrete: "/api/v1/admin/tasks/account/3f25…"
  std::string documented;  // "get /api/{version}/admin/tasks/account/{id}"
  nlohmann::json operation;
};

// The values to try for one parameter; records a failure when it gives none.
inline std::vector<std::string> SampleValues(const nlohmann::json& param) {
  auto text = [](const nlohmann::json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  std::vector<std::string> out;
  if (param.contains("schema") && param["schema"].contains("enum"))
    for (const auto& v : param["schema"]["enum"]) out.push_back(text(v));
  else if (param.contains("examples"))
    for (const auto& [name, example] : param["examples"].items())
      out.push_back(text(example["value"]));
  else if (param.contains("example"))
    out.push_back(text(param["example"]));
  if (out.empty()) ADD_FAILURE() << "path parameter " << param.dump() << " has no example or enum";
  return out;
}

inline std::vector<OperationSample> Samples(const nlohmann::json& doc) {
  std::vector<OperationSample> out;
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items()) {
      std::vector<std::string> paths = {path};
      for (auto param : op.value("parameters", nlohmann::json::array())) {
        if (param.contains("$ref"))
          param = doc[nlohmann::json::json_pointer(param["$ref"].get<std::string>().substr(1))];
        if (param["in"] != "path") continue;
        std::string placeholder = "{" + param["name"].get<std::string>() + "}";
        std::vector<std::string> next;
        for (const auto& p : paths)
          for (const auto& value : SampleValues(param)) {
            auto q = p;
            q.replace(q.find(placeholder), placeholder.size(), value);
            next.push_back(q);
          }
        paths = std::move(next);
      }
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (const auto& p : paths) out.push_back({upper, p, method + " " + path, op});
    }
  return out;
}

}  // namespace conveyor::testing

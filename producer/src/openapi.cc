#include "openapi.h"

#include <map>
#include <string>

#include "conveyor/json_schema.h"

namespace conveyor::openapi {
namespace {

constexpr char kComponents[] = "#/components/schemas/";

// Re-points the "#/..." references inside a schema that now sits at `base` (a JSON pointer
// fragment such as "#/components/schemas/x"); any other reference is refused.
Status RebaseInternalRefs(nlohmann::json& node, const std::string& base, const std::string& file) {
  if (node.is_object()) {
    if (auto it = node.find("$ref"); it != node.end()) {
      if (!it->is_string() || !it->get<std::string>().starts_with("#"))
        return Fail(ErrorCode::kInternal,
                    file + " refers outside itself (" + it->dump() + "), which is not inlined");
      *it = base + it->get<std::string>().substr(1);
    }
    for (auto& [key, value] : node.items())
      if (auto s = RebaseInternalRefs(value, base, file); !s) return s;
  } else if (node.is_array()) {
    for (auto& value : node)
      if (auto s = RebaseInternalRefs(value, base, file); !s) return s;
  }
  return {};
}

// Replaces each reference to a schema file with one to its copy under components/schemas,
// collecting the copies in `inlined` (by component name).
Status InlineFileRefs(nlohmann::json& node, std::map<std::string, nlohmann::json>& inlined) {
  if (node.is_object()) {
    if (auto it = node.find("$ref");
        it != node.end() && it->is_string() && !it->get<std::string>().starts_with("#")) {
      auto file = it->get<std::string>();
      if (!file.ends_with(".json") || file.find('#') != std::string::npos)
        return Fail(ErrorCode::kInternal, "schemas/openapi.json: $ref '" + file +
                                              "' is neither '#/…' nor a schema file under "
                                              "schemas/ such as requests/x.json");
      auto slash = file.rfind('/');
      auto name = file.substr(slash == std::string::npos ? 0 : slash + 1);
      name.resize(name.size() - 5);
      if (!inlined.contains(name)) {
        auto text = EmbeddedSchema(file);
        if (text.empty())
          return Fail(ErrorCode::kInternal,
                      "schemas/openapi.json refers to schemas/" + file + ", which is not embedded");
        auto schema = nlohmann::json::parse(text, nullptr, false);
        if (schema.is_discarded() || !schema.is_object())
          return Fail(ErrorCode::kInternal, "schemas/" + file + " is not a JSON object");
        schema.erase("$schema");
        schema.erase("$id");
        if (auto s = RebaseInternalRefs(schema, kComponents + name, "schemas/" + file); !s)
          return s;
        inlined[name] = std::move(schema);
      }
      *it = kComponents + name;
    }
    for (auto& [key, value] : node.items())
      if (auto s = InlineFileRefs(value, inlined); !s) return s;
  } else if (node.is_array()) {
    for (auto& value : node)
      if (auto s = InlineFileRefs(value, inlined); !s) return s;
  }
  return {};
}

}  // namespace

Result<nlohmann::json> ServedDocument() {
  auto text = EmbeddedSchema("openapi.json");
  if (text.empty()) return Fail(ErrorCode::kInternal, "schemas/openapi.json is not embedded");
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Fail(ErrorCode::kInternal, "schemas/openapi.json is not a JSON object");
  std::map<std::string, nlohmann::json> inlined;
  if (auto s = InlineFileRefs(doc, inlined); !s) return std::unexpected(s.error());
  auto& schemas = doc["components"]["schemas"];
  for (auto& [name, schema] : inlined) {
    if (schemas.contains(name))
      return Fail(ErrorCode::kInternal, "schemas/openapi.json: components/schemas/" + name +
                                            " is both written there and a request schema file");
    schemas[name] = std::move(schema);
  }
  return doc;
}

}  // namespace conveyor::openapi

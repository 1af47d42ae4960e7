#include "http/openapi.h"

#include <map>
#include <string>

#include "conveyor/json_schema.h"

namespace conveyor::openapi {
namespace {

constexpr char kComponents[] = "#/components/schemas/";

using Inlined = std::map<std::string, nlohmann::json>;

Result<std::string> InlineFile(const std::string& file, const std::string& referrer,
                               Inlined& inlined);

// Re-points the references inside a schema from schemas/`file` that now sits at `base` (a
// JSON pointer fragment such as "#/components/schemas/x"): "#/..." ones to where they now
// point, and ones to another schema file (a path relative to `file`'s folder, as
// twosms.account-task-bulk.json refers to twosms.account-task-create.json) to that file's own
// copy, inlined too.
Status RepointRefs(nlohmann::json& node, const std::string& base, const std::string& file,
                   Inlined& inlined) {
  if (node.is_object()) {
    if (auto it = node.find("$ref"); it != node.end()) {
      if (!it->is_string())
        return Fail(ErrorCode::kInternal, "schemas/" + file + ": $ref " + it->dump());
      auto ref = it->get<std::string>();
      if (ref.starts_with("#")) {
        *it = base + ref.substr(1);
      } else {
        auto slash = file.rfind('/');
        auto folder = slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
        auto target = InlineFile(folder + ref, "schemas/" + file, inlined);
        if (!target) return std::unexpected(target.error());
        *it = *target;
      }
    }
    for (auto& [key, value] : node.items())
      if (auto s = RepointRefs(value, base, file, inlined); !s) return s;
  } else if (node.is_array()) {
    for (auto& value : node)
      if (auto s = RepointRefs(value, base, file, inlined); !s) return s;
  }
  return {};
}

// Places a copy of schemas/`file` (a path such as requests/x.json; `referrer` names who
// referred to it) under components/schemas, once, and returns the reference to it.
Result<std::string> InlineFile(const std::string& file, const std::string& referrer,
                               Inlined& inlined) {
  if (!file.ends_with(".json") || file.find('#') != std::string::npos)
    return Fail(ErrorCode::kInternal, referrer + ": $ref '" + file +
                                          "' is neither '#/…' nor a schema file under "
                                          "schemas/ such as requests/x.json");
  auto slash = file.rfind('/');
  auto name = file.substr(slash == std::string::npos ? 0 : slash + 1);
  name.resize(name.size() - 5);
  if (!inlined.contains(name)) {
    auto text = EmbeddedSchema(file);
    if (text.empty())
      return Fail(ErrorCode::kInternal,
                  referrer + " refers to schemas/" + file + ", which is not embedded");
    auto schema = nlohmann::json::parse(text, nullptr, false);
    if (schema.is_discarded() || !schema.is_object())
      return Fail(ErrorCode::kInternal, "schemas/" + file + " is not a JSON object");
    schema.erase("$schema");
    schema.erase("$id");
    inlined[name] = nlohmann::json::object();  // taken: a file that refers back stops here
    if (auto s = RepointRefs(schema, kComponents + name, file, inlined); !s)
      return std::unexpected(s.error());
    inlined[name] = std::move(schema);
  }
  return kComponents + name;
}

// Replaces each reference to a schema file with one to its copy under components/schemas,
// collecting the copies in `inlined` (by component name); `document` names the referrer.
Status InlineFileRefs(nlohmann::json& node, const std::string& document, Inlined& inlined) {
  if (node.is_object()) {
    if (auto it = node.find("$ref");
        it != node.end() && it->is_string() && !it->get<std::string>().starts_with("#")) {
      auto target = InlineFile(it->get<std::string>(), document, inlined);
      if (!target) return std::unexpected(target.error());
      *it = *target;
    }
    for (auto& [key, value] : node.items())
      if (auto s = InlineFileRefs(value, document, inlined); !s) return s;
  } else if (node.is_array()) {
    for (auto& value : node)
      if (auto s = InlineFileRefs(value, document, inlined); !s) return s;
  }
  return {};
}

// schemas/`file` made self-contained, as the header describes.
Result<nlohmann::json> SelfContained(const std::string& file) {
  const std::string document = "schemas/" + file;
  auto text = EmbeddedSchema(file);
  if (text.empty()) return Fail(ErrorCode::kInternal, document + " is not embedded");
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Fail(ErrorCode::kInternal, document + " is not a JSON object");
  Inlined inlined;
  if (auto s = InlineFileRefs(doc, document, inlined); !s) return std::unexpected(s.error());
  auto& schemas = doc["components"]["schemas"];
  for (auto& [name, schema] : inlined) {
    if (schemas.contains(name))
      return Fail(ErrorCode::kInternal, document + ": components/schemas/" + name +
                                            " is both written there and a schema file");
    schemas[name] = std::move(schema);
  }
  return doc;
}

}  // namespace

Result<nlohmann::json> ServedDocument() { return SelfContained("openapi.json"); }

Result<nlohmann::json> AsyncApiDocument() { return SelfContained("asyncapi.json"); }

}  // namespace conveyor::openapi

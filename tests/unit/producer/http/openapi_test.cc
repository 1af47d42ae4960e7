// The OpenAPI document the producer serves (producer/http/openapi.h): its structure, that it
// is self-contained and that the request schemas in it are the files the producer enforces.
// The official OpenAPI 3.1 schema check is tests/openapi/validate.py (ctest
// openapi.official_schema); that every route is documented and served, and that the public
// operations are the public routes, tests/unit/producer/http/router_test.cc and
// tests/e2e/openapi_test.cc.
#include "http/openapi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "conveyor/json_schema.h"

namespace conveyor {
namespace {

using nlohmann::json;

const std::set<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                        "options", "head", "patch", "trace"};

json Served() {
  auto doc = openapi::ServedDocument();
  EXPECT_TRUE(doc.has_value()) << doc.error().Describe();
  return doc ? *doc : json::object();
}

// Every "$ref" value in the document, with the JSON pointer of the object holding it.
void CollectRefs(const json& node, const std::string& at,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) out.emplace_back(at, value.get<std::string>());
      CollectRefs(value, at + "/" + key, out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      CollectRefs(node[i], at + "/" + std::to_string(i), out);
  }
}

// A "#/…" reference resolved in `doc` (one level); null when it points nowhere.
json Resolve(const json& doc, const json& node) {
  if (!node.is_object() || !node.contains("$ref")) return node;
  auto ref = node["$ref"].get<std::string>();
  if (!ref.starts_with("#/")) return nullptr;
  json::json_pointer pointer(ref.substr(1));
  return doc.contains(pointer) ? doc[pointer] : json(nullptr);
}

TEST(OpenApi, ServedDocumentIsOpenApi31WithInfoPathsAndSecuritySchemes) {
  auto doc = Served();
  EXPECT_EQ(doc.value("openapi", ""), "3.1.0");
  ASSERT_TRUE(doc["info"].is_object());
  EXPECT_FALSE(doc["info"].value("title", "").empty());
  EXPECT_FALSE(doc["info"].value("version", "").empty());
  ASSERT_TRUE(doc["paths"].is_object());
  EXPECT_GE(doc["paths"].size(), 10u);
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
  EXPECT_EQ(doc["components"]["securitySchemes"]["basic"]["scheme"], "basic");
  EXPECT_EQ(doc["security"], json::parse(R"([{"bearer": []}, {"basic": []}])"));
}

TEST(OpenApi, EveryReferenceResolvesInsideTheServedDocument) {
  auto doc = Served();
  std::vector<std::pair<std::string, std::string>> refs;
  CollectRefs(doc, "", refs);
  ASSERT_GT(refs.size(), 50u);
  for (const auto& [at, ref] : refs) {
    EXPECT_TRUE(ref.starts_with("#/")) << at << ": '" << ref << "' points outside the document";
    if (!ref.starts_with("#/")) continue;
    json::json_pointer pointer(ref.substr(1));
    EXPECT_TRUE(doc.contains(pointer)) << at << ": '" << ref << "' points nowhere";
  }
}

TEST(OpenApi, EveryOperationHasAnIdResponsesWithDescriptionsAndItsPathParameters) {
  auto doc = Served();
  std::set<std::string> ids;
  int operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> in_path;
    static const std::regex kTemplate(R"(\{([^}]+)\})");
    for (std::sregex_iterator it(path.begin(), path.end(), kTemplate), end; it != end; ++it)
      in_path.insert((*it)[1].str());
    for (const auto& [method, op] : item.items()) {
      ASSERT_TRUE(kMethods.contains(method)) << path << ": '" << method << "' is not a method";
      ++operations;
      auto where = method + " " + path;
      auto id = op.value("operationId", "");
      EXPECT_FALSE(id.empty()) << where << " has no operationId";
      EXPECT_TRUE(ids.insert(id).second) << where << ": operationId " << id << " is used twice";
      ASSERT_TRUE(op.contains("responses") && op["responses"].is_object()) << where;
      EXPECT_FALSE(op["responses"].empty()) << where << " has no responses";
      bool success = false;
      for (const auto& [code, response] : op["responses"].items()) {
        auto r = Resolve(doc, response);
        EXPECT_TRUE(r.is_object() && r.contains("description"))
            << where << " " << code << " has no description";
        success = success || code.starts_with("2");
      }
      EXPECT_TRUE(success) << where << " documents no 2xx answer";
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", json::array())) {
        auto param = Resolve(doc, p);
        ASSERT_TRUE(param.is_object()) << where << ": a parameter points nowhere";
        if (param["in"] == "path") {
          EXPECT_TRUE(param.value("required", false)) << where << ": path parameters are required";
          declared.insert(param["name"].get<std::string>());
        }
      }
      EXPECT_EQ(declared, in_path) << where << ": declared path parameters differ from the path";
    }
  }
  EXPECT_GE(operations, 25);
}

TEST(OpenApi, EveryRequestSchemaFileIsARequestBodyAsTheProducerEnforcesIt) {
  auto doc = Served();
  const auto& components = doc["components"]["schemas"];
  std::vector<std::pair<std::string, std::string>> refs;
  CollectRefs(doc["paths"], "", refs);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CONVEYOR_SOURCE_DIR) +
                                                               "/schemas/requests")) {
    auto name = entry.path().stem().string();
    ++files;
    // What the producer enforces is the embedded file (JsonSchema::Embedded).
    auto text = EmbeddedSchema("requests/" + name + ".json");
    ASSERT_FALSE(text.empty()) << name;
    ASSERT_TRUE(components.contains(name))
        << "schemas/requests/" << name << ".json is not referred to by schemas/openapi.json";
    auto file = json::parse(text);
    file.erase("$schema");
    file.erase("$id");
    // Files with their own "#/..." references are compared in ServedDocument's own terms by
    // EveryReferenceResolvesInsideTheServedDocument; the others must be copied unchanged.
    if (text.find("\"$ref\"") == std::string_view::npos) {
      EXPECT_EQ(components[name], file) << name << " differs from its file";
    }
    EXPECT_TRUE(
        std::any_of(refs.begin(), refs.end(),
                    [&](const auto& r) { return r.second == "#/components/schemas/" + name; }))
        << name << " is no operation's request body";
  }
  EXPECT_GE(files, 14);
}

}  // namespace
}  // namespace conveyor

#include "conveyor/json_schema.h"

// Without it valijson reports a schema it cannot compile, and a value it cannot read, by
// printing a line and calling abort().
#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "conveyor/embedded_files.h"

namespace conveyor {

struct JsonSchema::Compiled {
  valijson::Schema schema;
};

std::string_view EmbeddedSchema(std::string_view path) {
  return embedded::Find("schemas/" + std::string(path));
}

namespace {

// Whether an ECMA-262 pattern has a quantifier without an upper bound (*, + or {n,}) outside
// a character class.
bool HasUnboundedQuantifier(std::string_view pattern) {
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;  // an escaped character quantifies nothing
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '*' || c == '+') {
      return true;
    } else if (c == '{') {
      auto close = pattern.find('}', i);
      if (close != std::string_view::npos && pattern[close - 1] == ',') return true;
    }
  }
  return false;
}

// The first "pattern" in `schema` (walked with an explicit stack) that HasUnboundedQuantifier,
// as a message naming it and its place; empty when there is none.
std::string FirstUnboundedPattern(const nlohmann::json& schema) {
  std::vector<std::pair<const nlohmann::json*, std::string>> pending{{&schema, ""}};
  while (!pending.empty()) {
    auto [node, where] = pending.back();
    pending.pop_back();
    if (node->is_array())
      for (std::size_t i = 0; i < node->size(); ++i)
        pending.emplace_back(&(*node)[i], where + "/" + std::to_string(i));
    if (!node->is_object()) continue;
    for (const auto& [key, value] : node->items()) {
      if (key == "pattern" && value.is_string() &&
          HasUnboundedQuantifier(value.get_ref<const std::string&>()))
        return "the pattern at " + where + "/pattern (" + value.get<std::string>() +
               ") has a quantifier without an upper bound (*, + or {n,}); bound it, e.g. "
               "{0,64}: std::regex recurses once per character it matches";
      pending.emplace_back(&value, where + "/" + key);
    }
  }
  return {};
}

}  // namespace

Result<JsonSchema> JsonSchema::Compile(std::string_view schema_text) {
  auto doc = nlohmann::json::parse(schema_text, nullptr, false);
  if (doc.is_discarded()) return Fail(ErrorCode::kInvalidArgument, "the schema is not JSON");
  if (auto unbounded = FirstUnboundedPattern(doc); !unbounded.empty())
    return Fail(ErrorCode::kInvalidArgument, std::move(unbounded));
  auto compiled = std::make_shared<Compiled>();
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("the schema does not compile: ") + e.what());
  }
  JsonSchema s;
  s.compiled_ = std::move(compiled);
  return s;
}

Result<JsonSchema> JsonSchema::Embedded(std::string_view path) {
  auto text = EmbeddedSchema(path);
  if (text.empty()) return Fail(ErrorCode::kInternal, "no embedded schema " + std::string(path));
  auto s = Compile(text);
  if (!s) return Fail(ErrorCode::kInternal, std::string(path) + ": " + s.error().message);
  return s;
}

namespace {

// valijson names the place of an error as a list like {"<root>", "[Frequency]"}; this turns
// it into a JSON pointer ("/Frequency").
std::string Pointer(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string p = part;
    if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
    if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
    out += "/" + p;
  }
  return out;
}

}  // namespace

Status JsonSchema::Validate(const nlohmann::json& document) const {
  // A valijson Validator compiles each "pattern" into a std::regex on first use and caches it
  // in itself; a fresh one per call compiled them on every request. Validators are not
  // thread-safe, hence one per thread (the cache is keyed by the pattern text, so one serves
  // every schema).
  thread_local valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(document);
  try {
    if (validator.validate(compiled_->schema, target, &results)) return {};
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("the document cannot be checked against its schema: ") + e.what());
  }
  // valijson reports from the outside in; the innermost error is the one that says why.
  valijson::ValidationResults::Error error, innermost;
  bool have = false;
  while (results.popError(error)) {
    if (!have || error.context.size() > innermost.context.size()) innermost = error;
    have = true;
  }
  std::string field = Pointer(innermost.context);
  return Fail(ErrorCode::kInvalidArgument, innermost.description, field);
}

}  // namespace conveyor

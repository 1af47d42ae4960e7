// JSON Schema validation (draft 7, valijson over nlohmann::json) of request bodies and events.
//
// The schema files in schemas/ are compiled into the binaries (EmbeddedSchema) so that what
// is enforced is exactly what is published. A JsonSchema is immutable after Compile and safe
// to share between threads.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "conveyor/result.h"

namespace conveyor {

// The text of schemas/<path>, e.g. EmbeddedSchema("events/conveyor.task.create.json").
// Empty when there is no such file.
std::string_view EmbeddedSchema(std::string_view path);

class JsonSchema {
 public:
  // kInvalidArgument when the text is not a JSON schema valijson can compile, or when one of
  // its "pattern"s can match an unbounded run of characters (*, + or {n,}): valijson matches
  // with std::regex, whose matcher recurses once per character, so such a pattern lets one
  // long string overflow the validating thread's stack. Bound it ({0,64}) instead.
  static Result<JsonSchema> Compile(std::string_view schema_text);
  // Compiles an embedded schema; a missing or broken embedded schema is a bug (kInternal).
  static Result<JsonSchema> Embedded(std::string_view path);

  // kInvalidArgument naming the first offending field (a JSON pointer such as "/Frequency",
  // or the name of a missing required property) and why.
  Status Validate(const nlohmann::json& document) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace conveyor

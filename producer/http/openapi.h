// The OpenAPI 3.1 document the producer serves at GET /openapi.json (no credentials needed).
//
// Its source is schemas/openapi.json, compiled into the binary like the other schema files.
// There the request bodies refer to the JSON Schemas the producer enforces by their path
// relative to schemas/ ({"$ref": "requests/twosms.account-task-create.json"}), so the file
// reads correctly from the repository and nothing is copied. The served document is
// self-contained: each file so referred to is placed under components/schemas, named by its
// file name without ".json", with its "$schema" and "$id" left out (the request schemas are
// draft-07; the keywords they use mean the same in JSON Schema 2020-12, OpenAPI 3.1's dialect)
// and its own references re-pointed to where they now sit ("#/..." ones, and ones to another
// schema file by its path relative to the referring file, which is inlined likewise); the
// reference becomes "#/components/schemas/<name>". A client therefore resolves every $ref
// inside the one document it fetched.
#pragma once

#include <nlohmann/json.hpp>

#include "conveyor/result.h"

namespace conveyor::openapi {

// The document as served. kInternal when schemas/openapi.json or a file it refers to is not
// embedded or is not JSON, or a reference has a form other than the above: build defects
// that tests/unit/producer/http/openapi_test.cc catches. Pure; thread-safe.
Result<nlohmann::json> ServedDocument();

}  // namespace conveyor::openapi

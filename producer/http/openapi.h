// The documents the producer serves without credentials: the OpenAPI 3.1 document of its routes
// at GET /openapi.json, and the AsyncAPI 3.0 document of the Kafka topics at GET /asyncapi.json.
//
// Their sources are schemas/openapi.json and schemas/asyncapi.json, compiled into the binary
// like the other schema files. There the request bodies and event payloads refer to their JSON
// Schemas by their path relative to schemas/ ({"$ref":
// "requests/twosms.account-task-create.json"}), so the file reads correctly from the repository and
// nothing is copied. The served document is self-contained: each file so referred to is placed
// under components/schemas, named by its file name without ".json", with its "$schema" and "$id"
// left out (the request and event schemas are draft-07, AsyncAPI's default schema dialect; the
// keywords they use mean the same in JSON Schema 2020-12, OpenAPI 3.1's dialect) and its own
// references re-pointed to where they now sit ("#/..." ones, and ones to another schema file by its
// path relative to the referring file, which is inlined likewise); the reference becomes
// "#/components/schemas/<name>". A client therefore resolves every $ref inside the one document it
// fetched.
#pragma once

#include <nlohmann/json.hpp>

#include "conveyor/result.h"

namespace conveyor::openapi {

// The document as served. kInternal when schemas/openapi.json or a file it refers to is not
// embedded or is not JSON, or a reference has a form other than the above: build defects
// that tests/unit/producer/http/openapi_test.cc catches. Pure; thread-safe.
Result<nlohmann::json> ServedDocument();

// The AsyncAPI document as served, built the same way from schemas/asyncapi.json (its message
// payloads refer to schemas/events/; tests/unit/producer/http/asyncapi_test.cc).
Result<nlohmann::json> AsyncApiDocument();

}  // namespace conveyor::openapi

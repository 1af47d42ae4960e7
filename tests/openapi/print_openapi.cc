// Prints a document the producer serves on stdout: the OpenAPI document
// (openapi::ServedDocument, for tests/openapi/validate.py), or with the argument "asyncapi" the
// AsyncAPI one (openapi::AsyncApiDocument, for tests/asyncapi/validate.mjs). Exit status 1, with
// the reason on stderr, when it cannot be built.
#include <iostream>
#include <string_view>

#include "http/openapi.h"

int main(int argc, char** argv) {
  bool asyncapi = argc > 1 && std::string_view(argv[1]) == "asyncapi";
  auto doc = asyncapi ? conveyor::openapi::AsyncApiDocument() : conveyor::openapi::ServedDocument();
  if (!doc) {
    std::cerr << doc.error().Describe() << "\n";
    return 1;
  }
  std::cout << doc->dump(2) << "\n";
  return 0;
}

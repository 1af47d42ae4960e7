// Prints the AsyncAPI document the producer serves (openapi::AsyncApiDocument) on stdout, for
// tests/asyncapi/validate.mjs. Exit status 1, with the reason on stderr, when it cannot be built.
#include <iostream>

#include "http/openapi.h"

int main() {
  auto doc = conveyor::openapi::AsyncApiDocument();
  if (!doc) {
    std::cerr << doc.error().Describe() << "\n";
    return 1;
  }
  std::cout << doc->dump(2) << "\n";
  return 0;
}

// Prints the OpenAPI document the producer serves (openapi::ServedDocument) on stdout, for
// tests/openapi/validate.py. Exit status 1, with the reason on stderr, when it cannot be built.
#include <iostream>

#include "http/openapi.h"

int main() {
  auto doc = conveyor::openapi::ServedDocument();
  if (!doc) {
    std::cerr << doc.error().Describe() << "\n";
    return 1;
  }
  std::cout << doc->dump(2) << "\n";
  return 0;
}

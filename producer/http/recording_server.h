// An httplib::Server that remembers the (method, path pattern) of every route registered on
// it, so that the routes the producer serves can be listed and compared with the OpenAPI
// document (schemas/openapi.json; tests/integration/openapi_routes_test.cc).
//
// Get/Post/Put/Patch/Delete hide httplib::Server's: register routes through a
// RecordingServer& (the route files take one), since a call through an httplib::Server&
// serves the route without recording it, and the OpenAPI test then names it as undocumented.
// Routes are registered before the server starts (not thread-safe against that); routes()
// may be read from any thread afterwards.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "http/registered_route.h"

namespace conveyor {

class RecordingServer : public httplib::Server {
 public:
  RecordingServer& Get(const std::string& pattern, Handler handler) {
    return Record("GET", pattern, &httplib::Server::Get, std::move(handler));
  }
  RecordingServer& Post(const std::string& pattern, Handler handler) {
    return Record("POST", pattern, &httplib::Server::Post, std::move(handler));
  }
  RecordingServer& Put(const std::string& pattern, Handler handler) {
    return Record("PUT", pattern, &httplib::Server::Put, std::move(handler));
  }
  RecordingServer& Patch(const std::string& pattern, Handler handler) {
    return Record("PATCH", pattern, &httplib::Server::Patch, std::move(handler));
  }
  RecordingServer& Delete(const std::string& pattern, Handler handler) {
    return Record("DELETE", pattern, &httplib::Server::Delete, std::move(handler));
  }

  // Every route registered, in registration order (the order httplib tries them in).
  const std::vector<RegisteredRoute>& routes() const { return routes_; }

 private:
  using Registrar = httplib::Server& (httplib::Server::*)(const std::string&, Handler);
  RecordingServer& Record(const char* method, const std::string& pattern, Registrar registrar,
                          Handler handler) {
    routes_.push_back({method, pattern});
    (static_cast<httplib::Server&>(*this).*registrar)(pattern, std::move(handler));
    return *this;
  }

  std::vector<RegisteredRoute> routes_;
};

}  // namespace conveyor

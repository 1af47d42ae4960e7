#include "http/console.h"

#include <array>

#include "conveyor/embedded_files.h"

namespace conveyor::http {
namespace {

constexpr char kFolder[] = "console/";

// The page runs only what the producer served; API text is set as text, never as markup.
constexpr char kPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string ContentTypeOf(std::string_view name) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
  }};
  for (const auto& [suffix, type] : kTypes)
    if (name.ends_with(suffix)) return std::string(type);
  return "application/octet-stream";
}

Answer FileAnswer(std::string_view name) {
  auto text = embedded::Find(std::string(kFolder) + std::string(name));
  if (text.empty())
    return {404, "text/plain; charset=utf-8", "the console has no file " + std::string(name), {}};
  Answer answer{200, ContentTypeOf(name), std::string(text), {}};
  answer.SetHeader("Content-Security-Policy", kPolicy);
  answer.SetHeader("X-Content-Type-Options", "nosniff");
  answer.SetHeader("Referrer-Policy", "no-referrer");
  // A new producer serves a new console: the browser asks again rather than keep an old one.
  answer.SetHeader("Cache-Control", "no-cache");
  return answer;
}

}  // namespace

std::vector<Route> ConsoleRoutes() {
  return {{"GET", "/console/?", Access::kPublic,
           [](const Request&, Answer& res) { res = FileAnswer("index.html"); }},
          {"GET", "/console/([a-z][a-z.-]{0,63})", Access::kPublic,
           [](const Request& req, Answer& res) { res = FileAnswer(req.path_params[0]); }}};
}

}  // namespace conveyor::http

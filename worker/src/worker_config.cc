#include "worker_config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "conveyor/json_schema.h"

namespace conveyor {
namespace {

using nlohmann::json;

constexpr std::string_view kBuiltins[] = {"noop", "sleep"};

class Problem {
 public:
  explicit Problem(const std::string& origin) : origin_(origin) {}
  std::unexpected<Error> operator()(const std::string& pointer, const std::string& what) const {
    std::string message = origin_ + ": ";
    if (!pointer.empty()) message += "at " + pointer + ": ";
    return Fail(ErrorCode::kInvalidArgument, message + what, pointer);
  }

 private:
  const std::string& origin_;
};

// The names task types may refer to (schemas/requests/admin.task-type-register.json).
bool ValidHandlerName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  auto plain = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!plain(name[0])) return false;
  for (char c : name)
    if (!plain(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key))
    for (const auto& v : j[key]) out.push_back(v.get<std::string>());
  return out;
}

Result<std::string> PgUrl(const json& h, const std::string& pointer, const Problem& problem) {
  if (!h.contains("pg_url_env")) return std::string();
  auto name = h["pg_url_env"].get<std::string>();
  const char* value = std::getenv(name.c_str());
  if (!value || !*value)
    return problem(pointer + "/pg_url_env", "environment variable " + name + " is not set");
  return std::string(value);
}

ProgramLimits LimitsOf(const json& h) {
  ProgramLimits limits;
  if (!h.contains("limits")) return limits;
  const auto& l = h["limits"];
  auto get = [&l](const char* key) -> std::optional<std::uint64_t> {
    if (!l.contains(key)) return std::nullopt;
    return l[key].get<std::uint64_t>();
  };
  limits.cpu_seconds = get("cpu_seconds");
  limits.memory_bytes = get("memory_bytes");
  limits.open_files = get("open_files");
  limits.processes = get("processes");
  return limits;
}

}  // namespace

Result<WorkerConfig> ParseWorkerConfig(std::string_view text, const std::string& origin) {
  Problem problem(origin);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return problem("", std::string("not valid JSON: ") + e.what());
  }
  // Names first: the schema's complaint about a property name does not say which one.
  if (doc.is_object() && doc.contains("handlers") && doc["handlers"].is_object())
    for (const auto& [name, h] : doc["handlers"].items())
      if (!ValidHandlerName(name))
        return problem("/handlers/" + name,
                       "a handler name is 1 to 64 of a-z 0-9 . _ - and starts with a letter or "
                       "digit");
  static const auto schema = JsonSchema::Embedded("config/worker-config.json");
  if (!schema) return std::unexpected(schema.error());
  if (auto s = schema->Validate(doc); !s) return problem(s.error().field, s.error().message);

  WorkerConfig config;
  if (!doc.contains("handlers")) return config;
  for (const auto& [name, h] : doc["handlers"].items()) {
    std::string at = "/handlers/" + name;
    for (auto builtin : kBuiltins)
      if (name == builtin)
        return problem(at, "'" + name + "' is a built-in handler and cannot be redefined");
    HandlerSpec spec;
    spec.concurrency = h.value("concurrency", std::size_t{0});
    auto kind = h["kind"].get<std::string>();
    if (kind == "exec") {
      ExecHandlerSettings e;
      e.command = Strings(h, "command");
      if (!e.command[0].starts_with("/"))
        return problem(at + "/command/0", "the program must be an absolute path, not '" +
                                              e.command[0] + "' (no PATH lookup, no shell)");
      if (h.contains("environment"))
        for (const auto& [var, value] : h["environment"].items()) {
          if (var.starts_with("CONVEYOR_"))
            return problem(at + "/environment/" + var,
                           "CONVEYOR_* variables are set by the worker and cannot be configured");
          e.environment[var] = value.get<std::string>();
        }
      e.working_directory = h.value("working_directory", std::string());
      if (!e.working_directory.empty() && !e.working_directory.starts_with("/"))
        return problem(at + "/working_directory", "must be an absolute path");
      e.grace = std::chrono::milliseconds(h.value("grace_ms", e.grace.count()));
      e.log_limit_bytes = h.value("log_limit_bytes", e.log_limit_bytes);
      e.timeout = std::chrono::milliseconds(h.value("timeout_ms", e.timeout.count()));
      e.user = h.value("user", std::string());
      e.limits = LimitsOf(h);
      spec.kind = std::move(e);
    } else if (kind == "sql") {
      SqlHandlerSettings s;
      s.statement = h["statement"].get<std::string>();
      s.parameters = Strings(h, "parameters");
      auto url = PgUrl(h, at, problem);
      if (!url) return std::unexpected(url.error());
      s.pg_url = *url;
      spec.kind = std::move(s);
    } else {
      ExportHandlerSettings x;
      x.query = h["query"].get<std::string>();
      x.parameters = Strings(h, "parameters");
      x.folder = h["folder"].get<std::string>();
      if (!x.folder.starts_with("/")) return problem(at + "/folder", "must be an absolute path");
      auto url = PgUrl(h, at, problem);
      if (!url) return std::unexpected(url.error());
      x.pg_url = *url;
      spec.kind = std::move(x);
    }
    config.handlers.emplace(name, std::move(spec));
  }
  return config;
}

Result<WorkerConfig> LoadWorkerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Fail(ErrorCode::kInvalidArgument,
                path + ": cannot read the configuration file: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return ParseWorkerConfig(text.str(), path);
}

}  // namespace conveyor

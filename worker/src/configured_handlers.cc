#include "configured_handlers.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "conveyor/logging.h"
#include "exec_handler.h"
#include "export_handler.h"
#include "sql_handler.h"

namespace conveyor {

Status AddConfiguredHandlers(const WorkerConfig& config, const std::string& worker_pg_url,
                             HandlerRegistry& registry,
                             std::map<std::string, std::size_t>& limits) {
  auto log = logging::Get("worker");
  for (const auto& [name, spec] : config.handlers) {
    std::string at = "/handlers/" + name;
    if (spec.concurrency > 0) limits.emplace(name, spec.concurrency);
    if (const auto* e = std::get_if<ExecHandlerSettings>(&spec.kind)) {
      if (access(e->command.front().c_str(), X_OK) != 0)
        log->warn("handler {}: {} is not executable now ({}); its runs fail until it is", name,
                  e->command.front(), std::strerror(errno));
      if (!e->user.empty())
        if (auto user = ProgramUserNamed(e->user); !user)
          return Fail(ErrorCode::kInvalidArgument, "handler " + name + ": " + user.error().message,
                      at + "/user");
      registry.Register(name, std::make_shared<ExecHandler>(name, *e));
      log->info("handler {}: exec {}", name, e->command.front());
    } else if (const auto* s = std::get_if<SqlHandlerSettings>(&spec.kind)) {
      registry.Register(name, std::make_shared<SqlHandler>(
                                  name, *s, s->pg_url.empty() ? worker_pg_url : s->pg_url));
      log->info("handler {}: sql statement with {} parameter(s)", name, s->parameters.size());
    } else if (const auto* x = std::get_if<ExportHandlerSettings>(&spec.kind)) {
      std::error_code ec;
      std::filesystem::create_directories(x->folder, ec);
      if (ec)
        return Fail(ErrorCode::kInvalidArgument,
                    "handler " + name + ": cannot create the export folder " + x->folder + ": " +
                        ec.message(),
                    at + "/folder");
      if (access(x->folder.c_str(), W_OK | X_OK) != 0)
        return Fail(ErrorCode::kInvalidArgument,
                    "handler " + name + ": cannot write to the export folder " + x->folder + ": " +
                        std::strerror(errno),
                    at + "/folder");
      registry.Register(name, std::make_shared<ExportHandler>(
                                  name, *x, x->pg_url.empty() ? worker_pg_url : x->pg_url));
      log->info("handler {}: export to {}", name, x->folder);
    }
  }
  return {};
}

}  // namespace conveyor

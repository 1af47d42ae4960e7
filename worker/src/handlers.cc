#include "handlers.h"

namespace conveyor {

HandlerRegistry HandlerRegistry::WithBuiltins() {
  HandlerRegistry r;
  r.Register("noop", std::make_shared<NoopHandler>());
  return r;
}

void HandlerRegistry::Register(std::string name, std::shared_ptr<Handler> handler) {
  handlers_[std::move(name)] = std::move(handler);
}

Handler* HandlerRegistry::Find(const std::string& name) const {
  auto it = handlers_.find(name);
  return it == handlers_.end() ? nullptr : it->second.get();
}

}  // namespace conveyor

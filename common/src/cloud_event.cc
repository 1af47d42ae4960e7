#include "conveyor/cloud_event.h"

#include "conveyor/json_text.h"
#include "conveyor/time_format.h"
#include "conveyor/trace_context.h"

namespace conveyor {

nlohmann::json CloudEvent::ToJson() const {
  nlohmann::json j = {
      {"specversion", "1.0"},
      {"id", id.ToString()},
      {"source", source},
      {"type", type},
      {"subject", subject},
      {"time", FormatRfc3339(time)},
      {"datacontenttype", "application/json"},
      {"data", data},
  };
  if (!traceparent.empty()) j["traceparent"] = traceparent;
  return j;
}

Result<CloudEvent> CloudEvent::Parse(std::string_view text) {
  auto j = ParseJson(text, "the event");
  if (!j) return std::unexpected(j.error());
  return TakeFromJson(*j);
}

namespace {

// The envelope's attributes, checked; `data` is left to the caller.
Result<CloudEvent> Attributes(const nlohmann::json& j) {
  if (!j.is_object()) return Fail(ErrorCode::kInvalidArgument, "the event is not a JSON object");
  auto text_attr = [&](const char* name) -> Result<std::string> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
      return Fail(ErrorCode::kInvalidArgument, "required CloudEvents attribute is missing", name);
    return it->get<std::string>();
  };
  auto spec = text_attr("specversion");
  if (!spec) return std::unexpected(spec.error());
  if (*spec != "1.0")
    return Fail(ErrorCode::kInvalidArgument, "only CloudEvents 1.0 is understood", "specversion");
  CloudEvent e;
  auto id = text_attr("id");
  if (!id) return std::unexpected(id.error());
  auto uuid = Uuid::Parse(*id);
  if (!uuid) return Fail(ErrorCode::kInvalidArgument, "Conveyor event ids are UUIDs", "id");
  e.id = *uuid;
  for (auto [name, target] : {std::pair{"source", &e.source}, std::pair{"type", &e.type},
                              std::pair{"subject", &e.subject}}) {
    auto v = text_attr(name);
    if (!v) return std::unexpected(v.error());
    *target = std::move(*v);
  }
  auto time = text_attr("time");
  if (!time) return std::unexpected(time.error());
  auto ts = ParseDateTime(*time);
  if (!ts) return Fail(ErrorCode::kInvalidArgument, ts.error().message, "time");
  e.time = *ts;
  if (auto tp = j.find("traceparent");
      tp != j.end() && tp->is_string() && ParseTraceparent(tp->get_ref<const std::string&>()))
    e.traceparent = tp->get<std::string>();
  return e;
}

}  // namespace

Result<CloudEvent> CloudEvent::FromJson(const nlohmann::json& j) {
  auto e = Attributes(j);
  if (e)
    if (auto it = j.find("data"); it != j.end()) e->data = *it;
  return e;
}

Result<CloudEvent> CloudEvent::TakeFromJson(nlohmann::json& j) {
  auto e = Attributes(j);
  if (e)
    if (auto it = j.find("data"); it != j.end()) e->data = std::move(*it);
  return e;
}

}  // namespace conveyor

#include "conveyor/cloud_event.h"

#include "conveyor/json_text.h"
#include "conveyor/time_format.h"
#include "conveyor/trace_context.h"

namespace conveyor {

namespace {
constexpr std::string_view kSchemaBase = "https://conveyor.dev/schemas/events/";
}  // namespace

const EventSchema* SchemaOfType(std::string_view type) {
  for (const auto& s : kEventSchemas)
    if (s.type == type) return &s;
  return nullptr;
}

std::string DataSchemaUri(std::string_view file, int version) {
  return std::string(kSchemaBase) + std::string(file) + ".v" + std::to_string(version) + ".json";
}

Status CheckDataSchema(const CloudEvent& event) {
  const auto* schema = SchemaOfType(event.type);
  if (event.dataschema.empty() || !schema) return {};
  for (int v = 1; v <= schema->version; ++v)
    if (event.dataschema == DataSchemaUri(schema->file, v)) return {};
  std::string prefix = std::string(kSchemaBase) + std::string(schema->file) + ".v";
  std::string newest = "version " + std::to_string(schema->version);
  if (event.dataschema.starts_with(prefix) && event.dataschema.ends_with(".json"))
    return Fail(
        ErrorCode::kInvalidArgument,
        "the event follows version " +
            event.dataschema.substr(prefix.size(), event.dataschema.size() - prefix.size() - 5) +
            " of schema " + std::string(schema->file) + "; this build reads up to " + newest +
            " (upgrade the workers first)",
        "dataschema");
  return Fail(ErrorCode::kInvalidArgument,
              "dataschema " + event.dataschema + " is not a schema of " + event.type + " (" +
                  DataSchemaUri(schema->file, schema->version) + " is " + newest + ")",
              "dataschema");
}

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
  if (!dataschema.empty())
    j["dataschema"] = dataschema;
  else if (const auto* schema = SchemaOfType(type))
    j["dataschema"] = DataSchemaUri(schema->file, schema->version);
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
  if (auto ds = j.find("dataschema"); ds != j.end()) {
    if (!ds->is_string() || ds->get_ref<const std::string&>().empty())
      return Fail(ErrorCode::kInvalidArgument, "dataschema is not a URI", "dataschema");
    e.dataschema = ds->get<std::string>();
  }
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

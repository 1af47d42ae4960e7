#include "dialects/twosms/xml.h"

#include <charconv>
#include <sstream>
#include <utility>
#include <vector>

#include "conveyor/text.h"
#include "conveyor/utf8.h"
#include "dialects/twosms/codec.h"

namespace conveyor::twosms::xml {
namespace {

std::string_view LocalName(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool IsNil(const pugi::xml_node& element) {
  for (auto a : element.attributes()) {
    if (LocalName(a.name()) != "nil") continue;
    std::string_view v = a.value();
    return v == "true" || v == "1";
  }
  return false;
}

// XmlSerializer writes a [Flags] enum as names separated by spaces ("SUCCESS PROGRESS"); the
// JSON form separates them with commas.
std::string FlagsWithCommas(std::string_view text) {
  std::string out;
  bool gap = false;
  for (char c : TrimSpaces(text)) {
    if (c == ' ' || c == ',') {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out += ", ";
    gap = false;
    out += c;
  }
  return out;
}

// The request fields that XML may carry, by element name.
constexpr std::string_view kFields[] = {"Enabled",      "TaskID",     "Frequency",  "StartDate",
                                        "ClientID",     "FinishDate", "Parameters", "ContentType",
                                        "Notification", "Recurrence", "TimeZone",   "CatchUp",
                                        "CatchUpLimit", "Overlap"};

void WriteValue(pugi::xml_node parent, std::string_view name, const nlohmann::ordered_json& v,
                std::string_view item) {
  auto element = parent.append_child(std::string(name).c_str());
  if (v.is_null()) {
    element.append_attribute("xsi:nil") = "true";
  } else if (v.is_object()) {
    for (const auto& [key, value] : v.items()) WriteValue(element, key, value, item);
  } else if (v.is_array()) {
    for (const auto& value : v) WriteValue(element, item, value, item);
  } else if (v.is_string()) {
    element.text().set(v.get_ref<const std::string&>().c_str());
  } else if (v.is_boolean()) {
    element.text().set(v.get<bool>() ? "true" : "false");
  } else {
    element.text().set(v.dump().c_str());
  }
}

// The root element of `text`, which must be named `root`; `doc` owns it.
Result<pugi::xml_node> RootElement(std::string_view text, std::string_view root,
                                   pugi::xml_document& doc, std::size_t max_elements) {
  if (auto ok = ParseWithinLimits(text, doc, "the request body", "", max_elements); !ok)
    return std::unexpected(ok.error());
  auto top = doc.document_element();
  if (LocalName(top.name()) != root)
    return Fail(ErrorCode::kInvalidArgument, "the XML root element is <" + std::string(top.name()) +
                                                 ">; expected <" + std::string(root) + ">");
  return top;
}

// The JSON document of one request element whose fields are `fields`.
Result<nlohmann::json> ElementToJson(const pugi::xml_node& top,
                                     std::span<const std::string_view> fields) {
  nlohmann::json body = nlohmann::json::object();
  for (auto element : top.children()) {
    if (element.type() != pugi::node_element) continue;
    std::string name(LocalName(element.name()));
    bool known = false;
    for (auto f : fields) known = known || f == name;
    if (!known) continue;  // as XmlSerializer: unknown elements are ignored
    if (body.contains(name))
      return Fail(ErrorCode::kInvalidArgument, "appears more than once", name);
    if (IsNil(element)) {
      body[name] = nullptr;
      continue;
    }
    std::string value;
    for (auto child : element.children()) {
      if (child.type() == pugi::node_element)
        return Fail(ErrorCode::kInvalidArgument,
                    "must be text, not XML elements (escape a document as text or wrap it in "
                    "CDATA)",
                    name);
      if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata)
        value += child.value();
    }
    if (name == "Enabled") {
      auto v = TrimSpaces(value);  // xs:boolean
      if (v == "true" || v == "1")
        body[name] = true;
      else if (v == "false" || v == "0")
        body[name] = false;
      else
        body[name] = value;  // the schema refuses it, naming Enabled
    } else if (name == "Notification") {
      body[name] = FlagsWithCommas(value);
    } else if (name == "Frequency" || name == "CatchUp" || name == "Overlap") {
      body[name] = std::string(TrimSpaces(value));
    } else if (name == "CatchUpLimit") {  // xs:int
      auto v = TrimSpaces(value);
      int n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && p == v.data() + v.size())
        body[name] = n;
      else
        body[name] = value;  // the schema refuses it, naming CatchUpLimit
    } else {
      body[name] = std::move(value);
    }
  }
  return body;
}

// Whether the node's name, attributes and text are UTF-8: a character reference such as
// &#xD800; decodes to bytes that are not, although the document's own bytes were.
bool NodeIsUtf8(const pugi::xml_node& node) {
  auto ok = [](const char* text) { return !FirstInvalidUtf8(text).has_value(); };
  if (!ok(node.name()) || !ok(node.value())) return false;
  for (auto a : node.attributes())
    if (!ok(a.name()) || !ok(a.value())) return false;
  return true;
}

Error NotUtf8(std::string_view what, std::string_view field, std::string where) {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(what) + " is not UTF-8 text (" + where + ")", std::string(field));
}

}  // namespace

Status ParseWithinLimits(std::string_view text, pugi::xml_document& doc, std::string_view what,
                         std::string_view field, std::size_t max_elements) {
  if (auto bad = FirstInvalidUtf8(text))
    return std::unexpected(NotUtf8(what, field, "at byte " + std::to_string(*bad)));
  auto parsed = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return Fail(ErrorCode::kInvalidArgument,
                std::string(what) + " is not well-formed XML (" + parsed.description() +
                    " at offset " + std::to_string(parsed.offset) + ")",
                std::string(field));
  // Walked with an explicit stack: a deep document must not exhaust this thread's stack.
  std::vector<std::pair<pugi::xml_node, int>> pending;
  for (auto child : doc.children())
    if (child.type() == pugi::node_element) pending.emplace_back(child, 1);
  std::size_t elements = 0;
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (++elements > max_elements)
      return Fail(ErrorCode::kTooLarge,
                  std::string(what) + " has more than " + std::to_string(max_elements) +
                      " XML elements; the limit is " + std::to_string(max_elements),
                  std::string(field));
    if (depth > kMaxXmlDepth)
      return Fail(ErrorCode::kTooLarge,
                  std::string(what) + " nests XML elements deeper than the limit of " +
                      std::to_string(kMaxXmlDepth) + " levels",
                  std::string(field));
    bool utf8 = NodeIsUtf8(node);
    for (auto child : node.children()) {
      if (child.type() == pugi::node_element)
        pending.emplace_back(child, depth + 1);
      else
        utf8 = utf8 && NodeIsUtf8(child);
    }
    if (!utf8)
      return std::unexpected(NotUtf8(
          what, field, "a character reference in <" + std::string(LocalName(node.name())) + ">"));
  }
  return {};
}

Result<nlohmann::json> RequestToJson(std::string_view text, std::string_view root) {
  return RequestToJson(text, root, kFields);
}

Result<nlohmann::json> RequestToJson(std::string_view text, std::string_view root,
                                     std::span<const std::string_view> fields) {
  pugi::xml_document doc;
  auto top = RootElement(text, root, doc, kMaxXmlElements);
  if (!top) return std::unexpected(top.error());
  return ElementToJson(*top, fields);
}

Result<nlohmann::json> BulkRequestToJson(std::string_view text, std::string_view root,
                                         std::string_view list, std::string_view item) {
  pugi::xml_document doc;
  auto top = RootElement(text, root, doc, kMaxBulkXmlElements);
  if (!top) return std::unexpected(top.error());
  nlohmann::json body = nlohmann::json::object();
  std::string list_name(list);
  for (auto element : top->children()) {
    if (element.type() != pugi::node_element || LocalName(element.name()) != list) continue;
    if (body.contains(list_name))
      return Fail(ErrorCode::kInvalidArgument, "appears more than once", list_name);
    auto& tasks = body[list_name] = nlohmann::json::array();
    for (auto child : element.children()) {
      if (child.type() != pugi::node_element) continue;
      if (LocalName(child.name()) != item)
        return Fail(ErrorCode::kInvalidArgument,
                    "holds <" + std::string(child.name()) + ">; each task is an <" +
                        std::string(item) + ">",
                    list_name);
      auto task = ElementToJson(child, kFields);
      if (!task) return std::unexpected(InTask(tasks.size(), task.error()));
      tasks.push_back(std::move(*task));
    }
  }
  return body;
}

std::string EnvelopeToXml(const nlohmann::ordered_json& envelope, std::string_view root,
                          std::string_view item) {
  pugi::xml_document doc;
  auto top = doc.append_child(std::string(root).c_str());
  top.append_attribute("xmlns:xsd") = "http://www.w3.org/2001/XMLSchema";
  top.append_attribute("xmlns:xsi") = "http://www.w3.org/2001/XMLSchema-instance";
  for (const auto& [key, value] : envelope.items()) WriteValue(top, key, value, item);
  std::ostringstream out;
  // XML 1.0 cannot carry control characters (a log's ESC, say): they are left out.
  doc.save(out, "",
           pugi::format_raw | pugi::format_no_declaration | pugi::format_skip_control_chars,
           pugi::encoding_utf8);
  return out.str();
}

}  // namespace conveyor::twosms::xml

#include "dialects/superoffice/xml.h"

#include <pugixml.hpp>
#include <sstream>
#include <string_view>

namespace conveyor::superoffice {
namespace {

constexpr char kXsi[] = "http://www.w3.org/2001/XMLSchema-instance";

bool IsDictionaryField(std::string_view name) {
  return name == "ParameterObject" || name == "FieldProperties";
}

void WriteValue(pugi::xml_node node, const nlohmann::json& value);

void WriteDictionary(pugi::xml_node node, const nlohmann::json& dictionary) {
  for (auto it = dictionary.begin(); it != dictionary.end(); ++it) {
    auto entry = node.append_child("KeyValueOfstringstring");
    entry.append_child("Key").text().set(it.key().c_str());
    WriteValue(entry.append_child("Value"), *it);
  }
}

void WriteValue(pugi::xml_node node, const nlohmann::json& value) {
  if (value.is_null()) {
    node.append_attribute("xsi:nil").set_value("true");
  } else if (value.is_string()) {
    node.text().set(value.get_ref<const std::string&>().c_str());
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      auto child = node.append_child(it.key().c_str());
      if (IsDictionaryField(it.key()) && it->is_object())
        WriteDictionary(child, *it);
      else
        WriteValue(child, *it);
    }
  } else if (value.is_array()) {
    for (const auto& element : value) WriteValue(node.append_child("Item"), element);
  } else {
    node.text().set(value.dump().c_str());  // numbers and booleans as JSON writes them
  }
}

std::string Save(const pugi::xml_document& doc) {
  std::ostringstream out;
  // XML 1.0 cannot carry control characters (a result's ESC, say): they are left out.
  doc.save(out, "  ", pugi::format_default | pugi::format_skip_control_chars, pugi::encoding_utf8);
  return out.str();
}

pugi::xml_node Root(pugi::xml_document& doc, const char* name) {
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version").set_value("1.0");
  decl.append_attribute("encoding").set_value("utf-8");
  auto root = doc.append_child(name);
  root.append_attribute("xmlns:xsi").set_value(kXsi);
  return root;
}

}  // namespace

std::string BatchTaskInfoXml(const nlohmann::json& info) {
  pugi::xml_document doc;
  WriteValue(Root(doc, "BatchTaskInfo"), info);
  return Save(doc);
}

std::string BatchTaskInfoArrayXml(const nlohmann::json& infos) {
  pugi::xml_document doc;
  auto root = Root(doc, "ArrayOfBatchTaskInfo");
  for (const auto& info : infos) WriteValue(root.append_child("BatchTaskInfo"), info);
  return Save(doc);
}

std::string ScalarXml(const nlohmann::json& value) {
  pugi::xml_document doc;
  WriteValue(Root(doc, value.is_boolean() ? "boolean" : "int"), value);
  return Save(doc);
}

std::string ErrorXml(const nlohmann::json& error) {
  pugi::xml_document doc;
  WriteValue(Root(doc, "Error"), error);
  return Save(doc);
}

}  // namespace conveyor::superoffice

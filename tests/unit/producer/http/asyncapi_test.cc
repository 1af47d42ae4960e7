// The AsyncAPI document the producer serves (producer/http/openapi.h, AsyncApiDocument): it is
// self-contained, and its messages are exactly the event types the code publishes and accepts,
// each with the schema the worker enforces. The AsyncAPI project's own parser checks it too
// (tests/asyncapi/validate.mjs, ctest asyncapi.official_parser).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "conveyor/cloud_event.h"
#include "conveyor/json_schema.h"
#include "http/openapi.h"

namespace conveyor {
namespace {

using nlohmann::json;

json Served() {
  auto doc = openapi::AsyncApiDocument();
  EXPECT_TRUE(doc.has_value()) << doc.error().Describe();
  return doc ? *doc : json::object();
}

// The CloudEvents types of the messages on the channel at `address`.
std::set<std::string> TypesOn(const json& doc, const std::string& address) {
  std::set<std::string> types;
  for (const auto& [name, channel] : doc["channels"].items()) {
    if (channel["address"] != address) continue;
    for (const auto& [key, ref] : channel["messages"].items()) {
      auto pointer = json::json_pointer(ref["$ref"].get<std::string>().substr(1));
      types.insert(doc.at(pointer)["name"].get<std::string>());
    }
  }
  return types;
}

void CollectRefs(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) out.push_back(value.get<std::string>());
      CollectRefs(value, out);
    }
  } else if (node.is_array()) {
    for (const auto& value : node) CollectRefs(value, out);
  }
}

TEST(AsyncApiDocument, IsAsyncApi3WithEveryReferenceInsideTheDocument) {
  auto doc = Served();
  EXPECT_EQ(doc["asyncapi"], "3.0.0");
  std::vector<std::string> refs;
  CollectRefs(doc, refs);
  ASSERT_FALSE(refs.empty());
  for (const auto& ref : refs) {
    ASSERT_TRUE(ref.starts_with("#/")) << ref;
    EXPECT_TRUE(doc.contains(json::json_pointer(ref.substr(1)))) << ref << " points nowhere";
  }
}

TEST(AsyncApiDocument, CommandsAreExactlyTheTypesTheWorkersAccept) {
  std::set<std::string> code(kCommandTypes.begin(), kCommandTypes.end());
  EXPECT_EQ(TypesOn(Served(), "conveyor.commands"), code);
}

TEST(AsyncApiDocument, NotificationsAreExactlyTheTypesTheWorkersPublish) {
  std::set<std::string> code(kNotificationTypes.begin(), kNotificationTypes.end());
  EXPECT_EQ(TypesOn(Served(), "conveyor.notifications"), code);
}

TEST(AsyncApiDocument, TaskStatesAreExactlyTheTypesTheWorkersWriteThere) {
  std::set<std::string> code(kStateTypes.begin(), kStateTypes.end());
  EXPECT_EQ(TypesOn(Served(), "conveyor.tasks"), code);
}

TEST(AsyncApiDocument, TheJournalIsExactlyTheTypesPostgreSqlWritesThere) {
  std::set<std::string> code(kJournalTypes.begin(), kJournalTypes.end());
  EXPECT_EQ(TypesOn(Served(), "conveyor.journal"), code);
}

// Each message's payload is the schema file of its type (kEventSchemas), which the command
// processor enforces for commands (run.finished for the three outcomes).
TEST(AsyncApiDocument, EachPayloadIsTheSchemaFileOfItsType) {
  auto doc = Served();
  std::map<std::string, std::string> file_of;
  for (const auto& s : kEventSchemas) file_of[std::string(s.type)] = std::string(s.file);
  int checked = 0;
  for (const auto& [name, message] : doc["components"]["messages"].items()) {
    if (name == "deadLetter") continue;
    auto type = message["name"].get<std::string>();
    ASSERT_TRUE(file_of.contains(type)) << type;
    auto file = json::parse(EmbeddedSchema("events/" + file_of[type] + ".json"));
    file.erase("$schema");
    file.erase("$id");
    auto pointer = json::json_pointer(message["payload"]["$ref"].get<std::string>().substr(1));
    EXPECT_EQ(doc.at(pointer), file) << type;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(kEventSchemas.size()));
}

TEST(AsyncApiDocument, EveryEventIsKeyedByItsTaskIdAndCarriesItsTypeAndIdAsHeaders) {
  auto doc = Served();
  for (const auto& [name, message] : doc["components"]["messages"].items()) {
    if (name == "deadLetter") continue;
    EXPECT_EQ(message["bindings"]["kafka"]["key"]["format"], "uuid") << name;
    auto headers =
        doc.at(json::json_pointer(message["headers"]["$ref"].get<std::string>().substr(1)));
    EXPECT_EQ(headers["required"], json::array({"ce_type", "ce_id"})) << name;
  }
}

}  // namespace
}  // namespace conveyor

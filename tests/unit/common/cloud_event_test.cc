#include "conveyor/cloud_event.h"

#include <gtest/gtest.h>

#include <set>

#include "conveyor/json_schema.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"
#include "support/files.h"

namespace conveyor {
namespace {

Task SampleTask() {
  Task t;
  t.id = Uuid::Random();
  t.number = 1000;
  t.task_type_id = *Uuid::Parse("00000000-0000-0000-0000-000000000001");
  t.enabled = true;
  t.start_date = *ParseDateTime("2026-02-22T04:10:00.9543747+00:00");
  t.parameters = R"({"to":"+4712345678"})";
  t.content_type = "application/json";
  t.notification = TaskNotification::kCompletion;
  t.created_at = *ParseDateTime("2026-11-22T10:00:00Z");
  t.created_by = "admin";
  return t;
}

CloudEvent SampleCreateEvent(const Task& t) {
  CloudEvent e;
  e.id = Uuid::Random();
  e.source = "/conveyor/producer/test";
  e.type = kTaskCreateCommand;
  e.subject = t.id.ToString();
  e.time = t.created_at;
  e.data = TaskToEventData(t);
  return e;
}

TEST(CloudEvent, SerializeThenParseKeepsEveryAttribute) {
  Task t = SampleTask();
  CloudEvent e = SampleCreateEvent(t);
  auto back = CloudEvent::Parse(e.Serialize());
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->id, e.id);
  EXPECT_EQ(back->source, e.source);
  EXPECT_EQ(back->type, e.type);
  EXPECT_EQ(back->subject, e.subject);
  EXPECT_EQ(back->time, e.time);
  EXPECT_EQ(back->data, e.data);
}

TEST(CloudEvent, ParseNamesTheMissingAttribute) {
  auto j = SampleCreateEvent(SampleTask()).ToJson();
  j.erase("subject");
  auto e = CloudEvent::Parse(j.dump());
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field, "subject");
}

TEST(CloudEvent, ParseRefusesOtherSpecVersions) {
  auto j = SampleCreateEvent(SampleTask()).ToJson();
  j["specversion"] = "0.3";
  auto e = CloudEvent::Parse(j.dump());
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field, "specversion");
}

TEST(TaskCodec, RoundTripsEveryField) {
  Task t = SampleTask();
  t.client_id = Uuid::Random();
  t.finish_date = *ParseDateTime("2026-03-01T00:00:00Z");
  auto back = TaskFromEventData(TaskToEventData(t));
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->id, t.id);
  EXPECT_EQ(back->number, t.number);
  EXPECT_EQ(back->task_type_id, t.task_type_id);
  EXPECT_EQ(back->client_id, t.client_id);
  EXPECT_EQ(back->start_date, t.start_date);
  EXPECT_EQ(back->finish_date, t.finish_date);
  EXPECT_EQ(back->parameters, t.parameters);
  EXPECT_EQ(back->content_type, t.content_type);
  EXPECT_EQ(back->notification, t.notification);
  EXPECT_EQ(back->created_at, t.created_at);
  EXPECT_EQ(back->created_by, t.created_by);
}

TEST(TaskCodec, RoundTripsTheBatchTaskFields) {
  Task t = SampleTask();
  t.associate_id = 491;
  t.description = "nightly export";
  t.request = "export everything";
  auto back = TaskFromEventData(TaskToEventData(t));
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->associate_id, 491);
  EXPECT_EQ(back->description, "nightly export");
  EXPECT_EQ(back->request, "export everything");
}

// nlohmann turns a floating-point number (1.5, 1e300, or an integer too long for 64 bits,
// which it reads as one) into an integer with a plain cast, undefined behaviour out of range,
// where the decoders expected an exception (found by fuzz/ cloud_event: "number" with 69
// digits). The schemas refuse such numbers first; the decoders now refuse them too.
TEST(TaskCodec, NumbersThatAreNotIntegersInRangeAreRefusedNamingTheField) {
  using nlohmann::json;
  const json task = TaskToEventData(SampleTask());
  for (const auto& [field, value] :
       {std::pair{"number", json(1e300)}, std::pair{"number", json(1.5)},
        std::pair{"priority", json(-1e300)}, std::pair{"priority", json(4294967298)},
        std::pair{"associate_id", json(1e10)},
        std::pair{"external_refs", json({{"contact", 1e300}})},
        std::pair{"external_refs", json(83)}}) {
    json d = task;
    d[field] = value;
    auto r = TaskFromEventData(d);
    ASSERT_FALSE(r.has_value()) << field << " " << value;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, field) << value;
  }

  TaskUpdate u;
  u.task_id = Uuid::Random();
  u.requested_by = "admin";
  json update = TaskUpdateToEventData(u);
  update["priority"] = 1e300;
  auto r = TaskUpdateFromEventData(update);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field, "priority");

  TaskNote n;
  n.id = 7;
  json note = NoteToEventData(n);
  note["id"] = -1e300;
  auto back = NoteFromEventData(note);
  ASSERT_FALSE(back.has_value());
  EXPECT_EQ(back.error().field, "id");
}

TEST(TaskCodec, EventWrittenBeforeTheBatchTaskFieldsDecodesAsASystemTask) {
  auto data = TaskToEventData(SampleTask());
  data.erase("associate_id");
  data.erase("description");
  data.erase("request");
  auto back = TaskFromEventData(data);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->associate_id, 0);
  EXPECT_EQ(back->description, "");
  EXPECT_EQ(back->request, "");
}

TEST(TaskCodec, OptionalFieldsUnsetAreLeftOutOfTheEvent) {
  Task t = SampleTask();
  t.start_date.reset();
  t.created_by.clear();
  auto data = TaskToEventData(t);
  std::set<std::string> keys;
  for (const auto& [key, value] : data.items()) {
    keys.insert(key);
    EXPECT_FALSE(value.is_null()) << key;
  }
  EXPECT_EQ(keys,
            (std::set<std::string>{"id", "number", "task_type_id", "enabled", "frequency",
                                   "parameters", "content_type", "notification", "created_at"}));
  auto back = TaskFromEventData(data);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_FALSE(back->client_id.has_value());
  EXPECT_FALSE(back->start_date.has_value());
  EXPECT_FALSE(back->priority.has_value());
  EXPECT_TRUE(back->external_refs.empty());
  EXPECT_EQ(back->name, "");
}

TEST(TaskCodec, EventWithNullOptionalFieldsAsWrittenBeforeDecodesTheSame) {
  auto data = TaskToEventData(SampleTask());
  for (const char* key :
       {"client_id", "finish_date", "priority", "due_time", "planned_completion_time"})
    data[key] = nullptr;
  data["name"] = "";
  data["external_refs"] = nlohmann::json::object();
  auto schema = JsonSchema::Embedded("events/conveyor.task.create.json");
  ASSERT_TRUE(schema.has_value());
  auto event = SampleCreateEvent(SampleTask()).ToJson();
  event["data"] = data;
  auto valid = schema->Validate(event);
  EXPECT_TRUE(valid.has_value()) << valid.error().Describe();
  auto back = TaskFromEventData(data);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_FALSE(back->client_id.has_value());
  EXPECT_FALSE(back->finish_date.has_value());
  EXPECT_FALSE(back->priority.has_value());
}

TEST(CreateCommandSchema, AcceptsWhatTheProducerWrites) {
  auto schema = JsonSchema::Embedded("events/conveyor.task.create.json");
  ASSERT_TRUE(schema.has_value()) << schema.error().message;
  auto valid = schema->Validate(SampleCreateEvent(SampleTask()).ToJson());
  EXPECT_TRUE(valid.has_value()) << valid.error().Describe();
}

TEST(CreateCommandSchema, RejectsAnUnknownNotificationNamingTheField) {
  auto schema = JsonSchema::Embedded("events/conveyor.task.create.json");
  ASSERT_TRUE(schema.has_value());
  auto j = SampleCreateEvent(SampleTask()).ToJson();
  j["data"]["notification"] = "SOMETIMES";
  auto valid = schema->Validate(j);
  ASSERT_FALSE(valid.has_value());
  EXPECT_EQ(valid.error().field, "/data/notification");
}

TEST(CloudEvent, ParseRefusesAnEventNestedDeeperThanTheLimit) {
  auto text = SampleCreateEvent(SampleTask()).ToJson().dump();
  text.replace(text.find("\"data\":{") + 7, 1,
               "{\"x\":" + std::string(200000, '[') + std::string(200000, ']') + ",");
  auto e = CloudEvent::Parse(text);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(e.error().message.find("limit of 32 levels"), std::string::npos) << e.error().message;
}

TEST(EventVersions, ToJsonNamesTheSchemaVersionThisBuildWritesAndParseKeepsIt) {
  auto j = SampleCreateEvent(SampleTask()).ToJson();
  EXPECT_EQ(j["dataschema"], "https://conveyor.dev/schemas/events/conveyor.task.create.v1.json");
  auto parsed = CloudEvent::Parse(j.dump());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().Describe();
  EXPECT_EQ(parsed->dataschema, j["dataschema"].get<std::string>());
  CloudEvent finished;
  finished.type = kRunCancelledEvent;
  EXPECT_EQ(finished.ToJson()["dataschema"],
            "https://conveyor.dev/schemas/events/conveyor.run.finished.v1.json");
  CloudEvent other;
  other.type = "com.example.other";
  EXPECT_FALSE(other.ToJson().contains("dataschema"));
}

TEST(EventVersions, EachSchemaFilesIdIsTheUriOfTheVersionThisBuildWrites) {
  for (const auto& s : kEventSchemas) {
    auto file = nlohmann::json::parse(
        testing::ReadRepoFile("schemas/events/" + std::string(s.file) + ".json"));
    EXPECT_EQ(file["$id"], DataSchemaUri(s.file, s.version)) << s.type;
  }
}

TEST(EventVersions, AnEventWithoutDataschemaIsVersionOneAndReadable) {
  CloudEvent e;
  e.type = kTaskCreateCommand;
  EXPECT_TRUE(CheckDataSchema(e).has_value());
}

TEST(EventVersions, ANewerVersionOrAForeignSchemaIsRefusedNamingWhatThisBuildReads) {
  CloudEvent e;
  e.type = kTaskFireCommand;
  e.dataschema = "https://conveyor.dev/schemas/events/conveyor.task.fire.v3.json";
  auto newer = CheckDataSchema(e);
  ASSERT_FALSE(newer.has_value());
  EXPECT_EQ(newer.error().field, "dataschema");
  EXPECT_EQ(newer.error().message,
            "the event follows version 3 of schema conveyor.task.fire; this build reads up to "
            "version 1 (upgrade the workers first)");
  e.dataschema = "https://example.com/fire.json";
  auto foreign = CheckDataSchema(e);
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().message,
            "dataschema https://example.com/fire.json is not a schema of conveyor.task.fire "
            "(https://conveyor.dev/schemas/events/conveyor.task.fire.v1.json is version 1)");
  e.dataschema = "https://conveyor.dev/schemas/events/conveyor.task.create.v1.json";
  EXPECT_FALSE(CheckDataSchema(e).has_value()) << "the schema of another type";
}

TEST(EventVersions, ParseRefusesADataschemaThatIsNotAString) {
  auto j = SampleCreateEvent(SampleTask()).ToJson();
  j["dataschema"] = 1;
  auto e = CloudEvent::Parse(j.dump());
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field, "dataschema");
}

// Every golden event (tests/golden/events/v<N>/: events as version N of their schema wrote
// them) still passes the schema of its type and is readable by this build; each type and
// each version it has had keeps at least one. docs/events.md, "Versions".
TEST(EventVersions, EveryGoldenEventPassesTheCurrentSchemaOfItsType) {
  std::set<std::pair<std::string, int>> covered;
  for (const auto& golden : testing::GoldenEvents()) {
    auto j = nlohmann::json::parse(golden.text);
    auto event = CloudEvent::FromJson(j);
    ASSERT_TRUE(event.has_value()) << golden.path << ": " << event.error().Describe();
    const auto* schema = SchemaOfType(event->type);
    ASSERT_NE(schema, nullptr) << golden.path << ": no schema for " << event->type;
    auto readable = CheckDataSchema(*event);
    EXPECT_TRUE(readable.has_value()) << golden.path << ": " << readable.error().Describe();
    auto current = JsonSchema::Embedded("events/" + std::string(schema->file) + ".json");
    ASSERT_TRUE(current.has_value());
    auto valid = current->Validate(j);
    EXPECT_TRUE(valid.has_value()) << golden.path << ": " << valid.error().Describe();
    // The directory names the version: tests/golden/events/v<N>/.
    auto dir = golden.path.substr(0, golden.path.rfind('/'));
    int version = std::stoi(dir.substr(dir.rfind("/v") + 2));
    covered.insert({event->type, version});
  }
  for (const auto& s : kEventSchemas)
    for (int v = 1; v <= s.version; ++v)
      EXPECT_TRUE(covered.contains({std::string(s.type), v}))
          << "no golden event of " << s.type << " version " << v;
}

}  // namespace
}  // namespace conveyor

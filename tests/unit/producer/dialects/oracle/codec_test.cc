// The Oracle B2C Service dialect's codec (producer/dialects/oracle/codec.h): namedID
// resolution, the status derived from run states, the q subset, fields projection, the create
// decoder against the seed's samples, and the error shape.
#include "dialects/oracle/codec.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"
#include "conveyor/json_schema.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"
#include "src/command_processor.h"
#include "support/fakes.h"
#include "support/files.h"
#include "support/producer_fakes.h"

namespace conveyor::oracle {
namespace {

using conveyor::testing::ReadRepoFile;
using nlohmann::json;

TaskType Type(Uuid id, std::int64_t number, std::string name) {
  TaskType t;
  t.id = id;
  t.number = number;
  t.name = t.handler = std::move(name);
  return t;
}

std::vector<TaskType> Catalogue() {
  return {Type(*Uuid::Parse("00000000-0000-0000-0000-000000000001"), 1, "noop"),
          Type(*Uuid::Parse("00000000-0000-0000-0000-000000000002"), 2, "sleep"),
          Type(Uuid::Random(), 1000, "Report"), Type(Uuid::Random(), 1001, "report")};
}

// --- namedIDs ---------------------------------------------------------------------------

TEST(OracleNamedId, ResolvesById) {
  auto r = ResolveNamedId(json{{"id", 3}}, Priorities(), "priority");
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->id, 3);
  EXPECT_EQ(r->lookup_name, "High");
}

TEST(OracleNamedId, ResolvesByLookupNameExactlyOrIgnoringCase) {
  auto exact = ResolveNamedId(json{{"lookupName", "Critical"}}, Priorities(), "priority");
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->id, 4);
  auto any_case = ResolveNamedId(json{{"lookupName", "low"}}, Priorities(), "priority");
  ASSERT_TRUE(any_case.has_value());
  EXPECT_EQ(any_case->id, 1);
}

TEST(OracleNamedId, ExactNameWinsOverCaseInsensitiveMatches) {
  auto r = ResolveNamedId(json{{"lookupName", "report"}}, TaskTypeIds(Catalogue()), "taskType");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, 1001);
}

TEST(OracleNamedId, AmbiguousNameIsAnErrorNamingTheFieldAndTheCandidates) {
  auto r = ResolveNamedId(json{{"lookupName", "REPORT"}}, TaskTypeIds(Catalogue()), "taskType");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().field, "taskType.lookupName");
  EXPECT_NE(r.error().message.find("cannot uniquely determine"), std::string::npos);
  EXPECT_NE(r.error().message.find("id 1000"), std::string::npos);
  EXPECT_NE(r.error().message.find("id 1001"), std::string::npos);
}

TEST(OracleNamedId, UnknownIdOrNameIsAnErrorNamingTheField) {
  auto id = ResolveNamedId(json{{"id", 9}}, Priorities(), "priority");
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().field, "priority.id");
  EXPECT_NE(id.error().message.find("namedIDs/tasks/priority"), std::string::npos);
  auto name = ResolveNamedId(json{{"lookupName", "Urgent"}}, Priorities(), "priority");
  ASSERT_FALSE(name.has_value());
  EXPECT_EQ(name.error().field, "priority.lookupName");
}

TEST(OracleNamedId, BothIdAndLookupNameIsRefused) {
  auto r = ResolveNamedId(json{{"id", 2}, {"lookupName", "Normal"}}, Priorities(), "priority");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "Only ID or lookupName can be provided");
  EXPECT_EQ(r.error().field, "priority");
}

TEST(OracleNamedId, NotAnObjectOrAWrongTypeIsRefused) {
  EXPECT_EQ(ResolveNamedId(json(2), Priorities(), "priority").error().field, "priority");
  EXPECT_EQ(ResolveNamedId(json{{"id", "2"}}, Priorities(), "priority").error().field,
            "priority.id");
  EXPECT_EQ(ResolveNamedId(json{{"name", "x"}}, Priorities(), "priority").error().field,
            "priority");
}

// --- status derivation ------------------------------------------------------------------

std::optional<RunView> RunIn(RunState s) {
  RunView r;
  r.state = s;
  return r;
}

TEST(OracleStatus, DerivedFromTheLatestRunState) {
  struct Case {
    std::optional<RunView> run;
    std::int64_t status;
    std::string name;
    std::int64_t type;
  };
  std::vector<Case> cases = {
      {std::nullopt, 16, "Not Started", 14},
      {RunIn(RunState::kQueued), 16, "Not Started", 14},
      {RunIn(RunState::kAcquired), 16, "Not Started", 14},
      {RunIn(RunState::kStarted), 17, "In Progress", 14},
      {RunIn(RunState::kRetryWait), 18, "Waiting", 14},
      {RunIn(RunState::kSucceeded), 19, "Completed", 15},
      {RunIn(RunState::kCancelled), 20, "Deferred", 15},
      {RunIn(RunState::kFailed), 21, "Failed", 15},
  };
  for (const auto& c : cases) {
    auto s = DeriveStatus(c.run);
    EXPECT_EQ(s.status.id, c.status) << c.name;
    EXPECT_EQ(s.status.lookup_name, c.name);
    EXPECT_EQ(s.type.id, c.type) << c.name;
  }
}

TEST(OracleStatus, RunStatesOfAStatusAreExactlyThoseThatDeriveIt) {
  std::vector<std::optional<RunState>> all = {
      std::nullopt,         RunState::kQueued,    RunState::kAcquired, RunState::kStarted,
      RunState::kRetryWait, RunState::kSucceeded, RunState::kFailed,   RunState::kCancelled};
  for (const auto& status : Statuses()) {
    auto states = RunStatesOfStatus(status.id);
    EXPECT_FALSE(states.empty()) << status.lookup_name;
    for (const auto& s : all) {
      std::optional<RunView> run;
      if (s) run = RunIn(*s);
      bool derives = DeriveStatus(run).status.id == status.id;
      bool listed = std::find(states.begin(), states.end(), s) != states.end();
      EXPECT_EQ(derives, listed) << status.lookup_name;
    }
  }
}

// --- q ----------------------------------------------------------------------------------

TEST(OracleQuery, NameEqualsAndLikeBecomeConditions) {
  TaskQuery q;
  ASSERT_TRUE(ParseQ("name = 'it''s' and lookupName like 'Ret%'", &q).has_value());
  ASSERT_EQ(q.conditions.size(), 2u);
  EXPECT_EQ(q.conditions[0].field, TaskField::kName);
  EXPECT_EQ(q.conditions[0].op, CompareOp::kEq);
  EXPECT_EQ(q.conditions[0].value, "it's");
  EXPECT_EQ(q.conditions[1].op, CompareOp::kLike);
  EXPECT_EQ(q.conditions[1].value, "Ret%");
}

TEST(OracleQuery, StatusLookupNameBecomesTheRunStatesThatDeriveIt) {
  TaskQuery q;
  ASSERT_TRUE(ParseQ("statusWithType.status.lookupName = 'Completed'", &q).has_value());
  ASSERT_EQ(q.run_states.size(), 1u);
  EXPECT_FALSE(q.run_states[0].negate);
  EXPECT_EQ(q.run_states[0].states, (std::vector<std::optional<RunState>>{RunState::kSucceeded}));
  TaskQuery not_started;
  ASSERT_TRUE(ParseQ("statusWithType.status.id != 16", &not_started).has_value());
  EXPECT_TRUE(not_started.run_states[0].negate);
  EXPECT_EQ(not_started.run_states[0].states.size(), 3u);  // no run, queued, acquired
}

TEST(OracleQuery, TaskTypePriorityAndTimesBecomeConditions) {
  TaskQuery q;
  auto s = ParseQ(
      "taskType.id = 2 AND priority.lookupName = 'High' and createdTime >= '2026-01-01' "
      "and dueTime is not null",
      &q);
  ASSERT_TRUE(s.has_value()) << s.error().Describe();
  ASSERT_EQ(q.conditions.size(), 4u);
  EXPECT_EQ(q.conditions[0].field, TaskField::kTypeNumber);
  EXPECT_EQ(q.conditions[0].value, "2");
  EXPECT_EQ(q.conditions[1].field, TaskField::kPriority);
  EXPECT_EQ(q.conditions[1].value, "3");
  EXPECT_EQ(q.conditions[2].op, CompareOp::kGe);
  EXPECT_EQ(q.conditions[2].value, "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(q.conditions[3].op, CompareOp::kIsNotNull);
}

TEST(OracleQuery, WhatIsNotSupportedIsNamed) {
  struct Case {
    std::string q;
    std::string named;
  };
  std::vector<Case> cases = {
      {"name = 'a' or name = 'b'", "'or'"},
      {"contact.id = 83", "'contact.id'"},
      {"(name = 'a')", "'('"},
      {"name > 'a'", "'name' supports =, !=, <> and like only"},
      {"id like '1%'", "'like' on 'id'"},
      {"name = 'open", "not closed"},
      {"id = 'x'", "'id' compares with an integer"},
      {"createdTime > 'yesterday'", "'yesterday' is not one"},
      {"statusWithType.status.lookupName = 'Done'", "no value is named 'Done'"},
      {"name = 'a' name = 'b'", "'name' (conditions are joined with 'and' only)"},
      {"", "is empty"},
  };
  for (const auto& c : cases) {
    TaskQuery q;
    auto s = ParseQ(c.q, &q);
    ASSERT_FALSE(s.has_value()) << c.q;
    EXPECT_EQ(s.error().field, "q") << c.q;
    EXPECT_NE(s.error().message.find(c.named), std::string::npos)
        << c.q << " → " << s.error().message;
  }
}

TEST(OracleQuery, OverTheLengthLimitIsRefusedNamingTheLimit) {
  TaskQuery q;
  auto s = ParseQ("name = '" + std::string(kMaxQueryLength, 'a') + "'", &q);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find(std::to_string(kMaxQueryLength)), std::string::npos);
}

TEST(OracleQuery, OrderByTakesFieldsAndDirections) {
  auto o = ParseOrderBy("id:desc, name,createdTime:ASC");
  ASSERT_TRUE(o.has_value()) << o.error().Describe();
  ASSERT_EQ(o->size(), 3u);
  EXPECT_EQ((*o)[0].field, TaskField::kNumber);
  EXPECT_TRUE((*o)[0].descending);
  EXPECT_EQ((*o)[1].field, TaskField::kName);
  EXPECT_FALSE((*o)[1].descending);
  EXPECT_EQ((*o)[2].field, TaskField::kCreatedAt);
  EXPECT_EQ(ParseOrderBy("contact").error().field, "orderBy");
  EXPECT_EQ(ParseOrderBy("id:sideways").error().field, "orderBy");
}

// --- the resource, fields ---------------------------------------------------------------

TaskView SampleView() {
  TaskView v;
  v.task.number = 12;
  v.task.name = "Return customer call";
  v.task.created_at = *ParseDateTime("2016-03-17T14:00:56Z");
  v.task.parameters = "{}";
  v.task.external_refs["contact"] = 83;
  v.modified_at = v.task.created_at;
  v.type_name = "noop";
  v.type_number = 1;
  return v;
}

TEST(OracleTask, HasEveryAttributeOfTheSeedResponseSample) {
  auto seed = json::parse(ReadRepoFile("tests/golden/oracle/seed004-create-response.json"));
  auto ours = TaskJson(SampleView(), "https://mysite.example.com");
  for (const auto& [key, value] : seed.items()) {
    ASSERT_TRUE(ours.contains(key)) << key;
    if (value.is_object() && key != "customFields") {
      for (const auto& [inner, v] : value.items()) EXPECT_TRUE(ours[key].contains(inner)) << key;
    }
  }
  for (const auto& [key, value] : ours.items()) EXPECT_TRUE(seed.contains(key)) << key;
  // The values the sample shows for a new task.
  EXPECT_EQ(ours["id"], 12);
  EXPECT_EQ(ours["lookupName"], "Return customer call");
  EXPECT_EQ(ours["createdTime"], "2016-03-17T14:00:56.000Z");
  EXPECT_EQ(ours["contact"], seed["contact"]);
  EXPECT_EQ(ours["links"], seed["links"]);
  EXPECT_EQ(ours["notes"], seed["notes"]);
  EXPECT_EQ(ours["statusWithType"]["status"]["lookupName"], "Not Started");
  EXPECT_EQ(ours["statusWithType"]["status"]["id"], seed["statusWithType"]["status"]["id"]);
  EXPECT_EQ(ours["statusWithType"]["statusType"], seed["statusWithType"]["statusType"]);
  EXPECT_TRUE(ours["percentComplete"].is_null());
  EXPECT_TRUE(ours["priority"].is_null());
}

TEST(OracleTask, ShowsTheRunningRunsProgressAndTimes) {
  auto v = SampleView();
  RunView r;
  r.state = RunState::kStarted;
  r.started_at = *ParseDateTime("2016-03-17T14:01:00Z");
  r.progress_percent = 40;
  v.last_run = r;
  v.task.priority = 3;
  auto j = TaskJson(v, "http://h");
  EXPECT_EQ(j["percentComplete"], 40);
  EXPECT_EQ(j["startTime"], "2016-03-17T14:01:00.000Z");
  EXPECT_TRUE(j["completedTime"].is_null());
  EXPECT_EQ(j["statusWithType"]["status"]["lookupName"], "In Progress");
  EXPECT_EQ(j["priority"], (json{{"id", 3}, {"lookupName", "High"}}));
}

TEST(OracleFields, ProjectsTopLevelAndDottedFieldsKeepingLinks) {
  auto full = TaskJson(SampleView(), "http://h");
  auto fields = ParseFields("name, statusWithType.status", full, false);
  ASSERT_TRUE(fields.has_value()) << fields.error().Describe();
  auto p = Project(full, *fields);
  EXPECT_EQ(p["name"], "Return customer call");
  EXPECT_EQ(p["statusWithType"], (json{{"status", full["statusWithType"]["status"]}}));
  EXPECT_EQ(p["links"], full["links"]);
  EXPECT_EQ(p.size(), 3u);
}

TEST(OracleFields, UnknownFieldAndSubFieldsOnCollectionsAreRefused) {
  auto full = TaskJson(SampleView(), "http://h");
  auto unknown = ParseFields("name,colour", full, false);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().field, "fields");
  EXPECT_NE(unknown.error().message.find("'colour'"), std::string::npos);
  auto dotted = ParseFields("statusWithType.status", full, true);
  ASSERT_FALSE(dotted.has_value());
  EXPECT_NE(dotted.error().message.find("single objects only"), std::string::npos);
}

// --- create ------------------------------------------------------------------------------

TEST(OracleCreate, SeedRequestDecodesAndPassesTheSchema) {
  auto body = json::parse(ReadRepoFile("tests/golden/oracle/seed004-create-request.json"));
  auto t = DecodeCreate(body, Catalogue());
  ASSERT_TRUE(t.has_value()) << t.error().Describe();
  EXPECT_EQ(t->name, "Return customer call");
  EXPECT_EQ(t->external_refs.at("contact"), 83);
  EXPECT_EQ(t->task_type_id.ToString(), "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(t->parameters, "{}");
  auto schema = JsonSchema::Embedded("requests/oracle.task-create.json");
  ASSERT_TRUE(schema.has_value()) << schema.error().message;
  EXPECT_TRUE(schema->Validate(body).has_value());
}

TEST(OracleCreate, TakesNamedIdsTimesAndParameters) {
  json body = {{"name", "n"},
               {"priority", {{"lookupName", "High"}}},
               {"taskType", {{"id", 2}}},
               {"dueTime", "2026-12-01T10:00:00Z"},
               {"plannedCompletionTime", nullptr},
               {"customFields", {{"c", {{"parameters", R"({"seconds":1})"}}}}}};
  auto t = DecodeCreate(body, Catalogue());
  ASSERT_TRUE(t.has_value()) << t.error().Describe();
  EXPECT_EQ(t->priority, 3);
  EXPECT_EQ(t->task_type_id.ToString(), "00000000-0000-0000-0000-000000000002");
  EXPECT_EQ(FormatRfc3339(*t->due_time), "2026-12-01T10:00:00.000000Z");
  EXPECT_FALSE(t->planned_completion_time.has_value());
  EXPECT_EQ(t->parameters, R"({"seconds":1})");
  EXPECT_TRUE(JsonSchema::Embedded("requests/oracle.task-create.json")->Validate(body).has_value());
}

TEST(OracleCreate, EachBadFieldIsRefusedNamingIt) {
  struct Case {
    json body;
    std::string field;
    std::string says;
  };
  std::string long_name(kMaxNameLength + 1, 'x');
  std::vector<Case> cases = {
      {json::object(), "name", "required"},
      {{{"name", ""}}, "name", "required"},
      {{{"name", 5}}, "name", "string"},
      {{{"name", long_name}}, "name", "240"},
      {{{"name", "n"}, {"id", 4}}, "id", "read-only"},
      {{{"name", "n"}, {"dueTime", "tomorrow"}}, "dueTime", "not a date-time"},
      {{{"name", "n"}, {"priority", {{"id", 2}, {"lookupName", "Normal"}}}},
       "priority",
       "Only ID or lookupName"},
      {{{"name", "n"}, {"taskType", {{"lookupName", "nope"}}}}, "taskType.lookupName", "nope"},
      {{{"name", "n"}, {"statusWithType", {{"status", {{"lookupName", "Completed"}}}}}},
       "statusWithType.status",
       "Not Started"},
      {{{"name", "n"}, {"contact", {{"lookupName", "Ann"}}}}, "contact", "give the id"},
      {{{"name", "n"}, {"customFields", {{"c", {{"parameters", "{nope"}}}}}},
       "customFields.c.parameters",
       "is not a JSON document"},
      {{{"name", "n"}, {"salesSettings", {{"opportunity", {{"id", 1}}}}}},
       "salesSettings",
       "not supported"},
  };
  for (const auto& c : cases) {
    auto t = DecodeCreate(c.body, Catalogue());
    ASSERT_FALSE(t.has_value()) << c.body.dump();
    EXPECT_EQ(t.error().field, c.field) << c.body.dump();
    EXPECT_NE(t.error().message.find(c.says), std::string::npos)
        << c.body.dump() << " → " << t.error().message;
  }
}

TEST(OracleCreate, SchemaRefusesAttributesConveyorDoesNotKnow) {
  auto schema = JsonSchema::Embedded("requests/oracle.task-create.json");
  ASSERT_TRUE(schema.has_value());
  auto s = schema->Validate(json{{"name", "n"}, {"colour", "red"}});
  EXPECT_FALSE(s.has_value());
}

TEST(OracleNote, TextIsRequiredAndLimited) {
  EXPECT_EQ(*DecodeNote(json{{"text", "hello"}}), "hello");
  EXPECT_EQ(DecodeNote(json::object()).error().field, "text");
  auto over = DecodeNote(json{{"text", std::string(kMaxNoteLength + 1, 'a')}});
  ASSERT_FALSE(over.has_value());
  EXPECT_NE(over.error().message.find("349525"), std::string::npos);
  // The limit counts characters, not bytes: 349525 two-byte characters are allowed.
  std::string at_limit;
  for (std::size_t i = 0; i < kMaxNoteLength; ++i) at_limit += "\xc3\xa9";
  EXPECT_TRUE(DecodeNote(json{{"text", at_limit}}).has_value());
  EXPECT_EQ(DecodeNote(json{{"text", "x"}, {"createdTime", "2026-01-01"}}).error().field,
            "createdTime");
  auto schema = JsonSchema::Embedded("requests/oracle.task-note.json");
  ASSERT_TRUE(schema.has_value());
  EXPECT_TRUE(schema->Validate(json{{"text", "hello"}}).has_value());
  EXPECT_FALSE(schema->Validate(json{{"text", "hello"}, {"other", 1}}).has_value());
}

// --- PATCH -------------------------------------------------------------------------------

TEST(OraclePatch, SetsOnlyTheGivenFieldsAndNullClears) {
  auto p = DecodePatch(json{{"name", "renamed"}, {"priority", nullptr}, {"dueTime", nullptr}},
                       Catalogue());
  ASSERT_TRUE(p.has_value()) << p.error().Describe();
  EXPECT_EQ(p->name, "renamed");
  ASSERT_TRUE(p->priority.has_value());
  EXPECT_FALSE(p->priority->has_value());
  ASSERT_TRUE(p->due_time.has_value());
  EXPECT_FALSE(p->due_time->has_value());
  EXPECT_FALSE(p->planned_completion_time.has_value());
  EXPECT_FALSE(p->task_type_id.has_value());
  EXPECT_FALSE(p->parameters.has_value());
  EXPECT_FALSE(p->status.has_value());
  EXPECT_TRUE(p->ChangesFields());
  auto only_status = DecodePatch(
      json{{"statusWithType", {{"status", {{"lookupName", "Deferred"}}}}}}, Catalogue());
  ASSERT_TRUE(only_status.has_value());
  EXPECT_EQ(only_status->status, kStatusDeferred);
  EXPECT_FALSE(only_status->ChangesFields());
  auto schema = JsonSchema::Embedded("requests/oracle.task-patch.json");
  ASSERT_TRUE(schema.has_value()) << schema.error().message;
  EXPECT_TRUE(schema->Validate(json{{"priority", nullptr}}).has_value());
  EXPECT_FALSE(schema->Validate(json{{"contact", {{"id", 1}}}}).has_value());
}

TEST(OraclePatch, EachBadFieldIsRefusedNamingIt) {
  struct Case {
    json body;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"name", ""}}, "name"},
      {{{"name", nullptr}}, "name"},
      {{{"taskType", nullptr}}, "taskType"},
      {{{"contact", {{"id", 5}}}}, "contact"},
      {{{"updatedTime", "2026-01-01T00:00:00Z"}}, "updatedTime"},
      {{{"plannedCompletionTime", 7}}, "plannedCompletionTime"},
      {{{"statusWithType", {{"status", {{"id", 99}}}}}}, "statusWithType.status.id"},
  };
  for (const auto& c : cases) {
    auto p = DecodePatch(c.body, Catalogue());
    ASSERT_FALSE(p.has_value()) << c.body.dump();
    EXPECT_EQ(p.error().field, c.field) << c.body.dump();
  }
}

TEST(OraclePatch, UpdateKeepsEveryFieldThePatchDoesNotSet) {
  Task current;
  current.id = Uuid::Random();
  current.task_type_id = Uuid::Random();
  current.parameters = R"({"a":1})";
  current.content_type = "application/json";
  current.notification = TaskNotification::kCompletion;
  current.start_date = *ParseDateTime("2026-01-01T00:00:00Z");
  TaskPatch p;
  p.priority = std::optional<int>(4);
  auto u = UpdateOf(current, p);
  EXPECT_EQ(u.task_id, current.id);
  EXPECT_EQ(u.task_type_id, current.task_type_id);
  EXPECT_EQ(u.parameters, current.parameters);
  EXPECT_EQ(u.notification, TaskNotification::kCompletion);
  EXPECT_EQ(u.start_date, current.start_date);
  EXPECT_FALSE(u.enabled.has_value());
  EXPECT_FALSE(u.name.has_value());
  EXPECT_EQ(u.priority, std::optional<std::optional<int>>(4));
  auto applied = ApplyUpdate(current, u);
  EXPECT_EQ(applied.priority, 4);
  // The update event carries the Oracle fields only when set; decoded, they come back.
  auto data = TaskUpdateToEventData(u);
  EXPECT_FALSE(data.contains("name"));
  EXPECT_EQ(data["priority"], 4);
  auto back = TaskUpdateFromEventData(data);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->priority, u.priority);
  EXPECT_FALSE(back->name.has_value());
  EXPECT_FALSE(back->due_time.has_value());
}

TEST(OraclePatch, OnlyDeferredCancelsAndOnlyALiveRunOfACancellableType) {
  auto view = SampleView();
  bool cancel = true;
  // The status it has already: nothing to do.
  EXPECT_TRUE(CheckStatusChange(view, kStatusNotStarted, &cancel).has_value());
  EXPECT_FALSE(cancel);
  // No run yet (not applied, or disabled): nothing to defer.
  EXPECT_EQ(CheckStatusChange(view, kStatusDeferred, &cancel).error().field,
            "statusWithType.status");
  view.last_run = RunIn(RunState::kStarted);
  ASSERT_TRUE(CheckStatusChange(view, kStatusDeferred, &cancel).has_value());
  EXPECT_TRUE(cancel);
  auto completed = CheckStatusChange(view, kStatusCompleted, &cancel);
  ASSERT_FALSE(completed.has_value());
  EXPECT_NE(completed.error().message.find("only status that can be set is Deferred"),
            std::string::npos);
  view.cancellation = "CannotCancel";
  EXPECT_NE(CheckStatusChange(view, kStatusDeferred, &cancel).error().message.find("CannotCancel"),
            std::string::npos);
  view.cancellation = "CanCancel";
  view.last_run = RunIn(RunState::kSucceeded);
  EXPECT_NE(CheckStatusChange(view, kStatusDeferred, &cancel).error().message.find("Completed"),
            std::string::npos);
}

TEST(OracleDelete, RefusedOnlyWhileTheRunOfACannotCancelTypeIsLive) {
  auto view = SampleView();
  view.cancellation = "CannotCancel";
  EXPECT_FALSE(DeleteProblem(view).has_value());  // no run
  view.last_run = RunIn(RunState::kStarted);
  auto p = DeleteProblem(view);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->status, 409);
  EXPECT_EQ(p->code, "OSC-CREST-00009");
  EXPECT_NE(p->detail.find("In Progress"), std::string::npos) << p->detail;
  EXPECT_NE(p->detail.find("CannotCancel"), std::string::npos) << p->detail;
  view.last_run = RunIn(RunState::kSucceeded);
  EXPECT_FALSE(DeleteProblem(view).has_value());
  view.last_run = RunIn(RunState::kStarted);
  view.cancellation = "CancelWithWarning";
  EXPECT_FALSE(DeleteProblem(view).has_value());
}

// --- errors ------------------------------------------------------------------------------

TEST(OracleProblem, HasOraclesFieldsWithTheRequestUriAsInstance) {
  auto body = ProblemBody({404, kUnknownResource, "no task with id 7"}, "http://h:1",
                          "/services/rest/connect/v1.4/tasks/7");
  EXPECT_EQ(body["type"], "http://h:1/services/rest/connect/exceptions/OSC-CREST-00013");
  EXPECT_EQ(body["title"], "Not Found");
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["detail"], "no task with id 7");
  EXPECT_EQ(body["instance"], "http://h:1/services/rest/connect/v1.4/tasks/7");
  EXPECT_EQ(body["o:errorCode"], "OSC-CREST-00013");
  EXPECT_EQ(body.size(), 6u);
}

TEST(OracleProblem, ConveyorErrorsMapToCodesAndStatuses) {
  auto field = WriteProblem(MakeError(ErrorCode::kInvalidArgument, "is required", "name"));
  EXPECT_EQ(field.status, 400);
  EXPECT_EQ(field.code, kWriteFailed);
  EXPECT_EQ(field.detail, "name: is required");
  auto away = WriteProblem(MakeError(ErrorCode::kUnavailable, "Kafka did not acknowledge"));
  EXPECT_EQ(away.status, 503);
  EXPECT_EQ(away.code, kInternalError);
  EXPECT_EQ(WriteProblem(MakeError(ErrorCode::kNotFound, "x")).code, kUnknownResource);
}

TEST(OracleProblem, MissingCredentialsAre401AndAnAdminOnlyPath403BothOscCrest00014) {
  auto anonymous = WriteProblem(MakeError(ErrorCode::kUnauthenticated, "no credentials"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.code, kNotAuthorized);
  EXPECT_EQ(ProblemBody(anonymous, "http://h", "/services/rest/connect/v1.4/tasks")["title"],
            "Unauthorized");
  auto client = WriteProblem(MakeError(ErrorCode::kPermissionDenied, "needs an admin key"));
  EXPECT_EQ(client.status, 403);
  EXPECT_EQ(client.code, "OSC-CREST-00014");
  EXPECT_EQ(ProblemBody(client, "http://h", "/x")["title"], "Forbidden");
}

// --- events ------------------------------------------------------------------------------

TEST(OracleEvents, NewTaskFieldsRoundTripAndOldEventsStillDecode) {
  Task t;
  t.id = Uuid::Random();
  t.number = 5;
  t.task_type_id = Uuid::Random();
  t.content_type = "application/json";
  t.created_at = *ParseDateTime("2026-01-01T00:00:00Z");
  t.name = "call back";
  t.priority = 2;
  t.due_time = *ParseDateTime("2026-02-01T00:00:00Z");
  t.external_refs["contact"] = 83;
  auto data = TaskToEventData(t);
  auto back = TaskFromEventData(data);
  ASSERT_TRUE(back.has_value()) << back.error().Describe();
  EXPECT_EQ(back->name, "call back");
  EXPECT_EQ(back->priority, 2);
  EXPECT_EQ(back->due_time, t.due_time);
  EXPECT_EQ(back->external_refs, t.external_refs);

  for (const char* added :
       {"name", "priority", "due_time", "planned_completion_time", "external_refs"})
    data.erase(added);
  auto old = TaskFromEventData(data);
  ASSERT_TRUE(old.has_value()) << old.error().Describe();
  EXPECT_EQ(old->name, "");
  EXPECT_FALSE(old->priority.has_value());
  EXPECT_TRUE(old->external_refs.empty());
}

TEST(OracleEvents, NoteRoundTripsThroughItsEventSchema) {
  TaskNote n{77, Uuid::Random(), "called, no answer", *ParseDateTime("2026-01-01T00:00:00Z"), ""};
  json event = {{"specversion", "1.0"},
                {"id", Uuid::Random().ToString()},
                {"source", "/test"},
                {"type", "conveyor.task.note.add"},
                {"subject", n.task_id.ToString()},
                {"time", "2026-01-01T00:00:00Z"},
                {"data", NoteToEventData(n)}};
  auto schema = JsonSchema::Embedded("events/conveyor.task.note.add.json");
  ASSERT_TRUE(schema.has_value());
  EXPECT_TRUE(schema->Validate(event).has_value());
  auto back = NoteFromEventData(event["data"]);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, 77);
  EXPECT_EQ(back->task_id, n.task_id);
  EXPECT_EQ(back->text, n.text);
  EXPECT_EQ(back->created_at, n.created_at);
}

TEST(OracleEvents, WorkerDecodesAndAppliesANoteCommandAndDeadLettersABrokenOne) {
  testing::FakeTaskStore store;
  testing::RecordingPublisher publisher;
  auto processor = CommandProcessor::Create({"dlq"}, store, publisher);
  ASSERT_TRUE(processor.has_value()) << processor.error().Describe();
  TaskNote n{78, Uuid::Random(), "left a message", *ParseDateTime("2026-01-01T00:00:00Z"), ""};
  CloudEvent e;
  e.id = Uuid::Random();
  e.source = "/test";
  e.type = kTaskNoteAddCommand;
  e.subject = n.task_id.ToString();
  e.time = n.created_at;
  e.data = NoteToEventData(n);
  ConsumedMessage good{"commands", 0, 1, e.subject, e.Serialize(), {}};
  e.id = Uuid::Random();
  e.data["text"] = 5;  // not a string: fails the event schema
  ConsumedMessage broken{"commands", 0, 2, e.subject, e.Serialize(), {}};
  auto report = processor->Ingest({good, broken});
  ASSERT_TRUE(report.has_value()) << report.error().Describe();
  EXPECT_EQ(report->applied, 1u);
  EXPECT_EQ(report->dead_lettered, 1u);
  EXPECT_EQ(report->done.size(), 2u);
  EXPECT_TRUE(report->runs.empty());
  ASSERT_EQ(store.notes.size(), 1u);
  EXPECT_EQ(store.notes[0].id, 78);
  EXPECT_EQ(store.notes[0].text, "left a message");
  EXPECT_EQ(publisher.On("dlq").size(), 1u);
}

TEST(OracleCreate, ParametersTextNestedDeeperThanTheLimitIsRefusedNamingIt) {
  json body = {{"name", "n"},
               {"customFields",
                {{"c", {{"parameters", std::string(30000, '[') + std::string(30000, ']')}}}}}};
  auto t = DecodeCreate(body, Catalogue());
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(t.error().field, "customFields.c.parameters");
}

}  // namespace
}  // namespace conveyor::oracle

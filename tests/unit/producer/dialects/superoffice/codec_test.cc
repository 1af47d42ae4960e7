// The SuperOffice dialect without I/O: BatchTaskState names and numbers, $select,
// SO-TimeZone, the request bodies against their schemas, and the XML writer's shapes.
#include "dialects/superoffice/codec.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "conveyor/time_format.h"
#include "dialects/superoffice/format.h"
#include "dialects/superoffice/xml.h"
#include "support/files.h"

namespace conveyor::superoffice {
namespace {

using nlohmann::json;

TaskView SampleView() {
  TaskView v;
  v.task.id = *Uuid::Parse("6b1f3c2e-0000-4000-8000-000000000009");
  v.task.number = 1000;
  v.task.parameters = R"({"seconds":"2","to":"+4712345678"})";
  v.task.content_type = "application/json";
  v.task.created_at = *ParseDateTime("2026-01-15T12:00:00.5Z");
  v.task.associate_id = 491;
  v.task.description = "nightly export";
  v.task.request = "all rows";
  v.type_name = "sleep";
  RunView r;
  r.state = RunState::kSucceeded;
  r.start_count = 1;
  r.started_at = *ParseDateTime("2026-07-15T12:00:00Z");
  r.result = "slept 2 s";
  r.progress_percent = 100;
  v.last_run = r;
  return v;
}

// --- BatchTaskState ---------------------------------------------------------------------------

TEST(BatchTaskStateName, AquiredIsSpelledAsTheApiSpellsIt) {
  auto s = ParseState("Aquired", "State");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, BatchTaskState::kAquired);
  EXPECT_EQ(StateName(*s), "Aquired");
}

TEST(BatchTaskStateName, NamesMatchWithoutRegardToCase) {
  EXPECT_EQ(ParseState("succeeded", "State").value(), BatchTaskState::kSucceeded);
  EXPECT_EQ(ParseState("ALL", "State").value(), BatchTaskState::kAll);
}

TEST(BatchTaskStateName, AllIsTheNameAndTheNumber99999) {
  EXPECT_EQ(ParseState("All", "State").value(), BatchTaskState::kAll);
  EXPECT_EQ(ParseState(99999, "State").value(), BatchTaskState::kAll);
  EXPECT_EQ(ParseState("99999", "State").value(), BatchTaskState::kAll);
  EXPECT_EQ(ParseState(4, "State").value(), BatchTaskState::kSucceeded);
}

TEST(BatchTaskStateName, UnknownNameIsRefusedNamingTheFieldAndListingTheNames) {
  auto s = ParseState("Acquired", "State");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().field, "State");
  for (auto name : {"Unknown", "New", "Aquired", "Started", "Succeeded", "Failed",
                    "SucceededManualCleanup", "All"})
    EXPECT_NE(s.error().message.find(name), std::string::npos) << name;
}

TEST(BatchTaskStateName, NumberOutsideTheEnumIsRefused) {
  EXPECT_FALSE(ParseState(7, "State").has_value());
  EXPECT_FALSE(ParseState(json::array(), "State").has_value());
}

TEST(BatchTaskStateOfRun, MapsRunStatesOntoTheApisStates) {
  auto of = [](RunState s) {
    RunView r;
    r.state = s;
    return StateName(std::optional<RunView>(r));
  };
  EXPECT_EQ(StateName(std::optional<RunView>()), "Unknown");
  EXPECT_EQ(of(RunState::kQueued), "New");
  EXPECT_EQ(of(RunState::kRetryWait), "New");
  EXPECT_EQ(of(RunState::kAcquired), "Aquired");
  EXPECT_EQ(of(RunState::kStarted), "Started");
  EXPECT_EQ(of(RunState::kSucceeded), "Succeeded");
  EXPECT_EQ(of(RunState::kFailed), "Failed");
  EXPECT_EQ(of(RunState::kCancelled), "Failed");
}

TEST(BatchTaskStateFilter, EachStateSelectsTheRunStatesThatMapToIt) {
  TaskFilter f;
  RestrictToState(BatchTaskState::kFailed, f);
  EXPECT_EQ(f.run_states, (std::vector{RunState::kFailed, RunState::kCancelled}));
  EXPECT_FALSE(f.or_no_run);
  RestrictToState(BatchTaskState::kNew, f);
  EXPECT_EQ(f.run_states, (std::vector{RunState::kQueued, RunState::kRetryWait}));
  RestrictToState(BatchTaskState::kUnknown, f);
  EXPECT_EQ(f.run_states, std::vector<RunState>());
  EXPECT_TRUE(f.or_no_run);
  RestrictToState(BatchTaskState::kSucceededManualCleanup, f);
  EXPECT_EQ(f.run_states, std::vector<RunState>());
  EXPECT_FALSE(f.or_no_run);
  RestrictToState(BatchTaskState::kAll, f);
  EXPECT_FALSE(f.run_states.has_value());
}

// --- BatchTaskInfo ----------------------------------------------------------------------------

TEST(BatchTaskInfoEncoder, WritesEveryFieldOfTheSeedSample) {
  auto info = BatchTaskInfo(SampleView());
  auto sample = json::parse(conveyor::testing::ReadRepoFile(
      "tests/golden/superoffice/seed003-batch-task-infos-response.json"));
  ASSERT_TRUE(sample.is_array());
  std::vector<std::string> ours, theirs;
  for (auto it = info.begin(); it != info.end(); ++it) ours.push_back(it.key());
  for (auto it = sample[0].begin(); it != sample[0].end(); ++it) theirs.push_back(it.key());
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  EXPECT_EQ(ours, theirs);
  EXPECT_EQ(info["Id"], 1000);
  EXPECT_EQ(info["Name"], "sleep");
  EXPECT_EQ(info["AssociateId"], 491);
  EXPECT_EQ(info["IsSystemTask"], false);
  EXPECT_EQ(info["ParameterObject"], (json{{"seconds", "2"}, {"to", "+4712345678"}}));
  EXPECT_EQ(info["Description"], "nightly export");
  EXPECT_EQ(info["Request"], "all rows");
  EXPECT_EQ(info["State"], "Succeeded");
  EXPECT_EQ(info["Created"], "2026-01-15T12:00:00.5000000+00:00");
}

TEST(BatchTaskInfoEncoder, AssociateZeroIsASystemTaskAndXmlParametersStayText) {
  auto v = SampleView();
  v.task.associate_id = 0;
  v.task.parameters = "<p/>";
  v.task.content_type = "application/xml";
  auto info = BatchTaskInfo(v);
  EXPECT_EQ(info["IsSystemTask"], true);
  EXPECT_EQ(info["ParameterObject"],
            (json{{"Parameters", "<p/>"}, {"ContentType", "application/xml"}}));
}

// --- $select ----------------------------------------------------------------------------------

TEST(Select, NullsTheFieldsNotSelectedWithoutRemovingThem) {
  auto info = BatchTaskInfo(SampleView());
  auto s = FieldSelection::Parse("Id,State");
  ASSERT_TRUE(s.has_value()) << s.error().Describe();
  s->Apply(info);
  EXPECT_EQ(info.size(), 24u);
  EXPECT_EQ(info["Id"], 1000);
  EXPECT_EQ(info["State"], "Succeeded");
  EXPECT_TRUE(info["Name"].is_null());
  EXPECT_TRUE(info["ParameterObject"].is_null());
}

TEST(Select, FieldNamesMatchWithoutRegardToCaseAndSpaces) {
  auto info = BatchTaskInfo(SampleView());
  auto s = FieldSelection::Parse(" name , associateid");
  ASSERT_TRUE(s.has_value());
  s->Apply(info);
  EXPECT_EQ(info["Name"], "sleep");
  EXPECT_EQ(info["AssociateId"], 491);
  EXPECT_TRUE(info["Id"].is_null());
}

TEST(Select, NestedPathKeepsOnlyThatMemberOfTheObject) {
  auto info = BatchTaskInfo(SampleView());
  auto s = FieldSelection::Parse("Id,ParameterObject/seconds");
  ASSERT_TRUE(s.has_value());
  s->Apply(info);
  EXPECT_EQ(info["ParameterObject"], (json{{"seconds", "2"}, {"to", nullptr}}));
}

TEST(Select, WholeObjectWinsOverANestedPathIntoIt) {
  auto info = BatchTaskInfo(SampleView());
  auto s = FieldSelection::Parse("ParameterObject/seconds,ParameterObject");
  ASSERT_TRUE(s.has_value());
  s->Apply(info);
  EXPECT_EQ(info["ParameterObject"]["to"], "+4712345678");
}

TEST(Select, AppliesToEachElementOfAnArrayAndLeavesScalarsAlone) {
  json infos = json::array({BatchTaskInfo(SampleView()), BatchTaskInfo(SampleView())});
  auto s = FieldSelection::Parse("Id");
  ASSERT_TRUE(s.has_value());
  s->Apply(infos);
  for (const auto& i : infos) EXPECT_TRUE(i["Name"].is_null());
  json number = 1000, nothing = nullptr;
  s->Apply(number);
  s->Apply(nothing);
  EXPECT_EQ(number, 1000);
  EXPECT_TRUE(nothing.is_null());
}

TEST(Select, EmptyValueSelectsEverything) {
  auto s = FieldSelection::Parse("");
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->selects_all());
  auto info = BatchTaskInfo(SampleView());
  s->Apply(info);
  EXPECT_EQ(info, BatchTaskInfo(SampleView()));
}

TEST(Select, UnknownFieldIsRefusedNamingIt) {
  auto s = FieldSelection::Parse("Id,department");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "$select");
  EXPECT_NE(s.error().message.find("'department'"), std::string::npos) << s.error().message;
}

TEST(Select, PathIntoAFieldWithoutMembersIsRefused) {
  auto s = FieldSelection::Parse("Name/first");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "$select");
  EXPECT_NE(s.error().message.find("Name/first"), std::string::npos) << s.error().message;
}

// --- SO-TimeZone ------------------------------------------------------------------------------

const Timestamp kWinter = *ParseDateTime("2026-01-15T12:00:00.25Z");
const Timestamp kSummer = *ParseDateTime("2026-07-15T12:00:00Z");

TEST(SoTimeZone, WithoutTheHeaderDatesAreUtcWithTheirOffset) {
  auto z = OutputTimeZone::Parse("");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->Format(kWinter), "2026-01-15T12:00:00.2500000+00:00");
}

TEST(SoTimeZone, OsloInWinterIsOneHourAheadWithoutAnOffsetWritten) {
  auto z = OutputTimeZone::Parse("Europe/Oslo");
  ASSERT_TRUE(z.has_value()) << z.error().Describe();
  EXPECT_EQ(z->Format(kWinter), "2026-01-15T13:00:00.2500000");
}

TEST(SoTimeZone, OsloInSummerIsTwoHoursAhead) {
  auto z = OutputTimeZone::Parse("Europe/Oslo");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->Format(kSummer), "2026-07-15T14:00:00.0000000");
}

TEST(SoTimeZone, IncludeTzOffsetWritesTheOffsetOfThatInstant) {
  auto z = OutputTimeZone::Parse("Europe/Oslo, includeTZOffset");
  ASSERT_TRUE(z.has_value()) << z.error().Describe();
  EXPECT_EQ(z->Format(kWinter), "2026-01-15T13:00:00.2500000+01:00");
  EXPECT_EQ(z->Format(kSummer), "2026-07-15T14:00:00.0000000+02:00");
  auto west = OutputTimeZone::Parse("America/New_York,includetzoffset");
  ASSERT_TRUE(west.has_value());
  EXPECT_EQ(west->Format(kWinter), "2026-01-15T07:00:00.2500000-05:00");
}

TEST(SoTimeZone, ConvertsTheDatesOfABatchTaskInfo) {
  auto z = OutputTimeZone::Parse("Europe/Oslo");
  ASSERT_TRUE(z.has_value());
  auto info = BatchTaskInfo(SampleView(), *z);
  EXPECT_EQ(info["Created"], "2026-01-15T13:00:00.5000000");
  EXPECT_EQ(info["LastStarted"], "2026-07-15T14:00:00.0000000");
}

TEST(SoTimeZone, UnknownZoneIsRefusedNamingTheHeader) {
  auto z = OutputTimeZone::Parse("Nowhere/Atlantis");
  ASSERT_FALSE(z.has_value());
  EXPECT_EQ(z.error().field, "SO-TimeZone");
  EXPECT_NE(z.error().message.find("Nowhere/Atlantis"), std::string::npos);
}

TEST(SoTimeZone, UnknownOptionIsRefusedNamingTheHeader) {
  auto z = OutputTimeZone::Parse("Europe/Oslo, withOffset");
  ASSERT_FALSE(z.has_value());
  EXPECT_EQ(z.error().field, "SO-TimeZone");
  EXPECT_NE(z.error().message.find("withOffset"), std::string::npos);
}

// --- request bodies ---------------------------------------------------------------------------

class AgentRequestBody : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = AgentRequests::Create();
    ASSERT_TRUE(r.has_value()) << r.error().Describe();
    requests_.emplace(std::move(*r));
  }
  std::optional<AgentRequests> requests_;
};

TEST_F(AgentRequestBody, SeedRequestOfGetBatchTaskInfosByAssociatesDecodes) {
  auto f = requests_->DecodeListQuery(
      "GetBatchTaskInfosByAssociates",
      conveyor::testing::ReadRepoFile(
          "tests/golden/superoffice/seed003-by-associates-request.json"));
  ASSERT_TRUE(f.has_value()) << f.error().Describe();
  EXPECT_EQ(f->associate_ids, (std::vector<std::int32_t>{491, 30}));
  EXPECT_EQ(f->owner, TaskFilter::Owner::kAny);
  EXPECT_EQ(f->limit, kMaxListedTasks);
  EXPECT_FALSE(f->run_states.has_value());
}

TEST_F(AgentRequestBody, EachListMethodFiltersAsItsDocumentationSays) {
  auto state = requests_->DecodeListQuery("GetBatchTaskInfosByState", R"({"State":"Started"})");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->owner, TaskFilter::Owner::kUser);
  EXPECT_EQ(state->run_states, std::vector{RunState::kStarted});
  auto all = requests_->DecodeListQuery("GetAllBatchTaskInfosByName", R"({"TaskName":"sleep"})");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->owner, TaskFilter::Owner::kAny);
  EXPECT_EQ(all->type_name, "sleep");
  auto system = requests_->DecodeListQuery("GetSystemBatchTaskInfosByNameAndState",
                                           R"({"TaskName":"noop","State":99999})");
  ASSERT_TRUE(system.has_value());
  EXPECT_EQ(system->owner, TaskFilter::Owner::kSystem);
  EXPECT_FALSE(system->run_states.has_value());
  auto by_name = requests_->DecodeListQuery("GetBatchTaskInfosByNameAndAssociates",
                                            R"({"Name":"noop","AssociateIds":[0]})");
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_name->associate_ids, std::vector<std::int32_t>{0});
  EXPECT_EQ(AgentRequests::ListMethods().size(), 9u);
}

TEST_F(AgentRequestBody, MissingOrWronglyTypedFieldIsRefusedNamingIt) {
  auto missing = requests_->DecodeListQuery("GetBatchTaskInfosByNameAndState", R"({"Name":"x"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().Describe().find("State"), std::string::npos)
      << missing.error().Describe();
  auto wrong =
      requests_->DecodeListQuery("GetBatchTaskInfosByAssociates", R"({"AssociateIds":["a"]})");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().field.find("AssociateIds"), std::string::npos)
      << wrong.error().Describe();
  auto id = requests_->DecodeId(R"({"Id":"x"})");
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(ErrorBody(id.error())["Field"], "Id");
}

TEST_F(AgentRequestBody, UnexpectedMemberIsRefusedNamingIt) {
  auto f = requests_->DecodeListQuery("GetBatchTaskInfosByState", R"({"State":"New","Ids":[1]})");
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().Describe().find("Ids"), std::string::npos) << f.error().Describe();
}

TEST_F(AgentRequestBody, OverlongDescriptionIsRefusedNamingItsPath) {
  json body = {{"BatchTaskInfo", {{"Name", "noop"}, {"Description", std::string(65537, 'd')}}}};
  auto r = requests_->DecodeStart(body.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(ErrorBody(r.error())["Field"], "BatchTaskInfo/Description") << r.error().Describe();
}

TEST_F(AgentRequestBody, UnknownStateIsRefusedNamingState) {
  auto f = requests_->DecodeListQuery("GetBatchTaskInfosByState", R"({"State":"Done"})");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().field, "State");
}

TEST_F(AgentRequestBody, NotJsonIsRefused) {
  auto f = requests_->DecodeListQuery("GetBatchTaskInfosByState", "{State:");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AgentRequestBody, TooManyAssociateIdsIsRefusedNamingTheLimit) {
  json ids = json::array();
  for (int i = 0; i < 1001; ++i) ids.push_back(i);
  auto f = requests_->DecodeListQuery("GetBatchTaskInfosByAssociates",
                                      json{{"AssociateIds", ids}}.dump());
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().field.find("AssociateIds"), std::string::npos) << f.error().Describe();
}

TEST_F(AgentRequestBody, StartBatchJobReadsNameOwnerTextsAndParameters) {
  auto r = requests_->DecodeStart(R"({"BatchTaskInfo":{"Name":"sleep","AssociateId":491,
      "Description":"d","Request":"q","ParameterObject":{"seconds":1,"steps":"2"},
      "State":"Started","Id":5}})");
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->name, "sleep");
  EXPECT_EQ(r->associate_id, 491);
  EXPECT_EQ(r->description, "d");
  EXPECT_EQ(r->request, "q");
  EXPECT_EQ(json::parse(r->parameters), (json{{"seconds", 1}, {"steps", "2"}}));
}

TEST_F(AgentRequestBody, StartBatchJobWithoutOwnerOrParametersIsASystemTaskWithEmptyObject) {
  auto r = requests_->DecodeStart(R"({"BatchTaskInfo":{"Name":"noop","ParameterObject":null}})");
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->associate_id, 0);
  EXPECT_EQ(r->parameters, "{}");
}

TEST_F(AgentRequestBody, StartBatchJobWithoutNameOrWithNestedParameterIsRefused) {
  auto no_name = requests_->DecodeStart(R"({"BatchTaskInfo":{"AssociateId":1}})");
  ASSERT_FALSE(no_name.has_value());
  EXPECT_NE(no_name.error().Describe().find("Name"), std::string::npos)
      << no_name.error().Describe();
  auto nested = requests_->DecodeStart(R"({"BatchTaskInfo":{"Name":"noop",
      "ParameterObject":{"a":{"b":1}}}})");
  ASSERT_FALSE(nested.has_value());
  EXPECT_NE(nested.error().field.find("ParameterObject"), std::string::npos)
      << nested.error().Describe();
}

TEST_F(AgentRequestBody, StartBatchJobOverTheParameterLimitIsRefusedNamingIt) {
  json body = {{"BatchTaskInfo",
                {{"Name", "noop"},
                 {"ParameterObject", {{"a", std::string(kMaxParameterObjectBytes, 'x')}}}}}};
  auto r = requests_->DecodeStart(body.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().field, "BatchTaskInfo/ParameterObject");
  EXPECT_NE(r.error().message.find("65536"), std::string::npos);
}

TEST_F(AgentRequestBody, RestStartTakesTheBatchTaskInfoItself) {
  auto r = requests_->DecodeStart(R"({"Name":"noop","AssociateId":7})", /*wrapped=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->associate_id, 7);
  auto bad = requests_->DecodeStart(R"({"AssociateId":7})", /*wrapped=*/false);
  ASSERT_FALSE(bad.has_value());
}

TEST(StartSchemas, TheRestBodyAndTheAgentsBatchTaskInfoHaveTheSameRules) {
  auto agent = json::parse(
      conveyor::testing::ReadRepoFile("schemas/requests/superoffice.start-batch-job.json"));
  auto rest = json::parse(
      conveyor::testing::ReadRepoFile("schemas/requests/superoffice.batch-task-info.json"));
  const auto& info = agent["properties"]["BatchTaskInfo"];
  EXPECT_EQ(info["properties"], rest["properties"]);
  EXPECT_EQ(info["required"], rest["required"]);
}

TEST_F(AgentRequestBody, UpdateReadsStateDescriptionResponseAndRequestAndIgnoresTheRest) {
  auto r = requests_->DecodeUpdate(R"({"BatchTaskInfo":{"Id":1000,"Name":"other","State":"failed",
      "Description":"d2","Request":"r2","Response":"done by hand","AssociateId":7,
      "ParameterObject":{"x":"1"},"ProgressPercent":50,"Created":"2026-01-01T00:00:00"}})");
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->id, 1000);
  EXPECT_EQ(r->state, BatchTaskState::kFailed);
  EXPECT_EQ(r->description, "d2");
  EXPECT_EQ(r->request, "r2");
  EXPECT_EQ(r->response, "done by hand");
}

TEST_F(AgentRequestBody, UpdateFieldsAbsentOrNullAreUnchanged) {
  auto r = requests_->DecodeUpdate(R"({"BatchTaskInfo":{"Id":5,"Description":null,"State":null}})");
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_FALSE(r->description.has_value());
  EXPECT_FALSE(r->request.has_value());
  EXPECT_FALSE(r->response.has_value());
  EXPECT_FALSE(r->state.has_value());
}

TEST_F(AgentRequestBody, UpdateWithoutIdOrWithABadStateIsRefusedNamingTheField) {
  auto no_id = requests_->DecodeUpdate(R"({"BatchTaskInfo":{"Description":"x"}})");
  ASSERT_FALSE(no_id.has_value());
  EXPECT_NE(no_id.error().field.find("BatchTaskInfo"), std::string::npos)
      << no_id.error().Describe();
  EXPECT_NE(no_id.error().Describe().find("Id"), std::string::npos) << no_id.error().Describe();
  auto state = requests_->DecodeUpdate(R"({"BatchTaskInfo":{"Id":5,"State":"Done"}})");
  ASSERT_FALSE(state.has_value());
  EXPECT_EQ(state.error().field, "BatchTaskInfo/State");
  auto rest_state = requests_->DecodeUpdate(R"({"State":"Done"})", /*wrapped=*/false);
  ASSERT_FALSE(rest_state.has_value());
  EXPECT_EQ(rest_state.error().field, "State");
  auto long_response = requests_->DecodeUpdate(
      json{{"BatchTaskInfo", {{"Id", 5}, {"Response", std::string(65537, 'x')}}}}.dump());
  ASSERT_FALSE(long_response.has_value());
  EXPECT_NE(long_response.error().field.find("Response"), std::string::npos)
      << long_response.error().Describe();
}

TEST_F(AgentRequestBody, RestUpdateTakesTheBatchTaskInfoItselfWithoutId) {
  auto r = requests_->DecodeUpdate(R"({"Description":"d"})", /*wrapped=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_FALSE(r->id.has_value());
  EXPECT_EQ(r->description, "d");
}

TEST_F(AgentRequestBody, DeleteBodiesDecodeAndDuplicateIdsAreDroppedInOrder) {
  EXPECT_EQ(requests_->DecodeDeleteOne(R"({"BatchTaskId":1000})").value(), 1000);
  EXPECT_EQ(requests_->DecodeDeleteMany(R"({"BatchTaskIds":[3,1,3,2,1]})").value(),
            (std::vector<std::int64_t>{3, 1, 2}));
  auto missing = requests_->DecodeDeleteOne(R"({"Id":1000})");
  ASSERT_FALSE(missing.has_value());
  auto wrong = requests_->DecodeDeleteMany(R"({"BatchTaskIds":["a"]})");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().field.find("BatchTaskIds"), std::string::npos)
      << wrong.error().Describe();
}

TEST_F(AgentRequestBody, TooManyBatchTaskIdsIsRefusedNamingTheLimit) {
  json ids = json::array();
  for (int i = 0; i < 1001; ++i) ids.push_back(i);
  auto r = requests_->DecodeDeleteMany(json{{"BatchTaskIds", ids}}.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().field.find("BatchTaskIds"), std::string::npos) << r.error().Describe();
  EXPECT_NE(r.error().Describe().find("1000"), std::string::npos) << r.error().Describe();
  ids.erase(ids.end() - 1);
  EXPECT_TRUE(requests_->DecodeDeleteMany(json{{"BatchTaskIds", ids}}.dump()).has_value());
}

TEST(UpdateSchemas, TheRestBodyAndTheAgentsBatchTaskInfoHaveTheSameFields) {
  auto agent = json::parse(
      conveyor::testing::ReadRepoFile("schemas/requests/superoffice.update-batch-task.json"));
  auto rest = json::parse(
      conveyor::testing::ReadRepoFile("schemas/requests/superoffice.batch-task-update.json"));
  EXPECT_EQ(agent["properties"]["BatchTaskInfo"]["properties"], rest["properties"]);
}

// --- UpdateBatchTask: what changes --------------------------------------------------------------

TaskView ViewIn(RunState state) {
  auto v = SampleView();
  v.last_run->state = state;
  return v;
}

UpdateRequest StateRequest(BatchTaskState state) {
  UpdateRequest r;
  r.state = state;
  return r;
}

TEST(UpdatePlan, TextFieldsAreCarriedAndNoStateIsNoRunChange) {
  UpdateRequest r;
  r.description = "d2";
  r.response = "r";
  auto u = PlanUpdate(SampleView(), r, "BatchTaskInfo/State");
  ASSERT_TRUE(u.has_value()) << u.error().Describe();
  EXPECT_EQ(u->description, "d2");
  EXPECT_FALSE(u->request.has_value());
  EXPECT_EQ(u->response, "r");
  EXPECT_EQ(u->run_change, BatchTaskUpdate::RunChange::kNone);
}

TEST(UpdatePlan, TheTasksOwnStateChangesNothing) {
  auto u = PlanUpdate(ViewIn(RunState::kSucceeded), StateRequest(BatchTaskState::kSucceeded), "S");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->run_change, BatchTaskUpdate::RunChange::kNone);
  // A cancelled run shows as Failed: Failed is its own state.
  auto c = PlanUpdate(ViewIn(RunState::kCancelled), StateRequest(BatchTaskState::kFailed), "S");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->run_change, BatchTaskUpdate::RunChange::kNone);
}

TEST(UpdatePlan, FailedOnALiveRunStopsIt) {
  for (auto state :
       {RunState::kQueued, RunState::kRetryWait, RunState::kAcquired, RunState::kStarted}) {
    auto u = PlanUpdate(ViewIn(state), StateRequest(BatchTaskState::kFailed), "S");
    ASSERT_TRUE(u.has_value()) << RunStateName(state) << ": " << u.error().Describe();
    EXPECT_EQ(u->run_change, BatchTaskUpdate::RunChange::kStop) << RunStateName(state);
  }
}

TEST(UpdatePlan, FailedOnALiveCannotCancelRunIsRefusedNamingState) {
  auto v = ViewIn(RunState::kStarted);
  v.cancellation = "CannotCancel";
  auto u = PlanUpdate(v, StateRequest(BatchTaskState::kFailed), "BatchTaskInfo/State");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(u.error().field, "BatchTaskInfo/State");
  EXPECT_NE(u.error().message.find("CannotCancel"), std::string::npos) << u.error().message;
}

TEST(UpdatePlan, NewOnAFinishedTaskRunsItAgainButNotWhenDisabled) {
  for (auto state : {RunState::kSucceeded, RunState::kFailed, RunState::kCancelled}) {
    auto u = PlanUpdate(ViewIn(state), StateRequest(BatchTaskState::kNew), "S");
    ASSERT_TRUE(u.has_value()) << u.error().Describe();
    EXPECT_EQ(u->run_change, BatchTaskUpdate::RunChange::kRunAgain) << RunStateName(state);
  }
  auto v = ViewIn(RunState::kSucceeded);
  v.task.enabled = false;
  auto disabled = PlanUpdate(v, StateRequest(BatchTaskState::kNew), "S");
  ASSERT_FALSE(disabled.has_value());
  EXPECT_EQ(disabled.error().field, "S");
}

TEST(UpdatePlan, EveryOtherStateChangeIsRefusedNamingStateAndTheAllowedOnes) {
  struct Case {
    RunState from;
    BatchTaskState to;
  };
  for (auto c : {Case{RunState::kSucceeded, BatchTaskState::kFailed},
                 Case{RunState::kFailed, BatchTaskState::kSucceeded},
                 Case{RunState::kStarted, BatchTaskState::kSucceeded},
                 Case{RunState::kStarted, BatchTaskState::kNew},
                 Case{RunState::kQueued, BatchTaskState::kStarted},
                 Case{RunState::kQueued, BatchTaskState::kAquired},
                 Case{RunState::kSucceeded, BatchTaskState::kSucceededManualCleanup},
                 Case{RunState::kSucceeded, BatchTaskState::kAll},
                 Case{RunState::kSucceeded, BatchTaskState::kUnknown}}) {
    auto u = PlanUpdate(ViewIn(c.from), StateRequest(c.to), "BatchTaskInfo/State");
    ASSERT_FALSE(u.has_value()) << RunStateName(c.from) << " -> " << StateName(c.to);
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(u.error().field, "BatchTaskInfo/State");
    EXPECT_NE(u.error().message.find("New on a Succeeded or Failed task"), std::string::npos)
        << u.error().message;
  }
  auto never_ran = SampleView();
  never_ran.last_run.reset();
  EXPECT_FALSE(PlanUpdate(never_ran, StateRequest(BatchTaskState::kNew), "S").has_value());
}

TEST(UpdateAnswer, ShowsTheFieldsSetAndTheRunAsTheUpdateLeavesIt) {
  BatchTaskUpdate u;
  u.description = "d2";
  u.request = "r2";
  u.response = "by hand";
  auto info = BatchTaskInfo(Updated(SampleView(), u, Uuid::Random()));
  EXPECT_EQ(info["Description"], "d2");
  EXPECT_EQ(info["Request"], "r2");
  EXPECT_EQ(info["Response"], "by hand");
  EXPECT_EQ(info["Result"], "slept 2 s");  // the run's result stays the Result
  EXPECT_EQ(info["State"], "Succeeded");

  BatchTaskUpdate stop;
  stop.run_change = BatchTaskUpdate::RunChange::kStop;
  EXPECT_EQ(BatchTaskInfo(Updated(ViewIn(RunState::kStarted), stop, Uuid::Random()))["State"],
            "Failed");

  BatchTaskUpdate again;
  again.run_change = BatchTaskUpdate::RunChange::kRunAgain;
  auto v = SampleView();
  v.task.response = "old";
  auto rerun = BatchTaskInfo(Updated(v, again, Uuid::Random()));
  EXPECT_EQ(rerun["State"], "New");
  EXPECT_EQ(rerun["Response"], "");  // run_again clears a response set before
  EXPECT_EQ(rerun["StartCount"], 0);
}

TEST(BatchTaskInfoEncoder, ResponseSetByUpdateIsShownInsteadOfTheRunsResult) {
  auto v = SampleView();
  EXPECT_EQ(BatchTaskInfo(v)["Response"], "slept 2 s");
  v.task.response = "checked by Ann";
  EXPECT_EQ(BatchTaskInfo(v)["Response"], "checked by Ann");
  EXPECT_EQ(BatchTaskInfo(v)["Result"], "slept 2 s");
}

TEST(DeleteRule, OnlyALiveRunOfACannotCancelTypeBlocksADelete) {
  auto v = ViewIn(RunState::kStarted);
  EXPECT_FALSE(DeleteStopsUncancellableRun(v));
  v.cancellation = "CannotCancel";
  EXPECT_TRUE(DeleteStopsUncancellableRun(v));
  v.last_run->state = RunState::kSucceeded;
  EXPECT_FALSE(DeleteStopsUncancellableRun(v));
  v.last_run.reset();
  EXPECT_FALSE(DeleteStopsUncancellableRun(v));
}

// --- XML --------------------------------------------------------------------------------------

TEST(SuperOfficeXml, BatchTaskInfoIsAnElementWithTheSameFieldsAndNilForNull) {
  auto info = BatchTaskInfo(SampleView());
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(BatchTaskInfoXml(info).c_str()));
  auto root = doc.child("BatchTaskInfo");
  ASSERT_TRUE(root);
  EXPECT_STREQ(root.attribute("xmlns:xsi").value(), "http://www.w3.org/2001/XMLSchema-instance");
  std::size_t children = 0;
  for (auto c : root.children()) {
    (void)c;
    ++children;
  }
  EXPECT_EQ(children, info.size());
  EXPECT_STREQ(root.child("Id").text().get(), "1000");
  EXPECT_STREQ(root.child("State").text().get(), "Succeeded");
  EXPECT_STREQ(root.child("IsSystemTask").text().get(), "false");
  EXPECT_STREQ(root.child("TableRight").attribute("xsi:nil").value(), "true");
  EXPECT_STREQ(root.child("FileName").attribute("xsi:nil").value(), "true");
  auto entry = root.child("ParameterObject").child("KeyValueOfstringstring");
  EXPECT_STREQ(entry.child("Key").text().get(), "seconds");
  EXPECT_STREQ(entry.child("Value").text().get(), "2");
}

TEST(SuperOfficeXml, ArrayIsArrayOfBatchTaskInfo) {
  json infos = json::array({BatchTaskInfo(SampleView()), BatchTaskInfo(SampleView())});
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(BatchTaskInfoArrayXml(infos).c_str()));
  auto root = doc.child("ArrayOfBatchTaskInfo");
  ASSERT_TRUE(root);
  int n = 0;
  for (auto c : root.children("BatchTaskInfo")) {
    EXPECT_STREQ(c.child("Name").text().get(), "sleep");
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(SuperOfficeXml, NotFoundIsANilBatchTaskInfoAndScalarsAreIntAndBoolean) {
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(BatchTaskInfoXml(nullptr).c_str()));
  EXPECT_STREQ(doc.child("BatchTaskInfo").attribute("xsi:nil").value(), "true");
  ASSERT_TRUE(doc.load_string(ScalarXml(1000).c_str()));
  EXPECT_STREQ(doc.child("int").text().get(), "1000");
  ASSERT_TRUE(doc.load_string(ScalarXml(true).c_str()));
  EXPECT_STREQ(doc.child("boolean").text().get(), "true");
}

TEST(SuperOfficeXml, TextIsEscapedAndErrorsKeepTheirFields) {
  auto v = SampleView();
  v.task.description = "a < b & \"c\"";
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(BatchTaskInfoXml(BatchTaskInfo(v)).c_str()));
  EXPECT_STREQ(doc.child("BatchTaskInfo").child("Description").text().get(), "a < b & \"c\"");
  auto body = ErrorBody(MakeError(ErrorCode::kInvalidArgument, "bad", "/State"));
  ASSERT_TRUE(doc.load_string(ErrorXml(body).c_str()));
  EXPECT_STREQ(doc.child("Error").child("Field").text().get(), "State");
  EXPECT_STREQ(doc.child("Error").child("ErrorType").text().get(),
               std::string(ErrorCodeName(ErrorCode::kInvalidArgument)).c_str());
}

TEST_F(AgentRequestBody, BodyNestedDeeperThanTheLimitIsRefusedNamingItInEveryMethod) {
  auto deep = R"({"Id": )" + std::string(200000, '[') + std::string(200000, ']') + "}";
  std::vector<Error> errors;
  auto keep = [&](const auto& r) {
    ASSERT_FALSE(r.has_value());
    errors.push_back(r.error());
  };
  keep(requests_->DecodeId(deep));
  keep(requests_->DecodeStart(deep));
  keep(requests_->DecodeUpdate(deep));
  keep(requests_->DecodeDeleteOne(deep));
  keep(requests_->DecodeDeleteMany(deep));
  for (auto method : AgentRequests::ListMethods()) keep(requests_->DecodeListQuery(method, deep));
  EXPECT_EQ(errors.size(), 5 + AgentRequests::ListMethods().size());
  for (const auto& e : errors) EXPECT_EQ(e.code, ErrorCode::kTooLarge) << e.Describe();
}

TEST(BatchTaskInfoEncoder, ParametersStoredDeeperThanTheLimitAreShownAsText) {
  auto v = SampleView();
  v.task.parameters = std::string(200000, '[') + std::string(200000, ']');
  auto info = BatchTaskInfo(v);
  EXPECT_EQ(info["ParameterObject"]["Parameters"], v.task.parameters);
}

}  // namespace
}  // namespace conveyor::superoffice

namespace conveyor::superoffice {
namespace {

// The query parameters of a request, as DecodeRestPage reads them.
std::function<std::optional<std::string>(std::string_view)> Query(
    std::map<std::string, std::string, std::less<>> params) {
  return [params = std::move(params)](std::string_view name) -> std::optional<std::string> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
}

TEST(RestPage, WithoutTopTheWholeListIsAnsweredAsBefore) {
  auto page = DecodeRestPage(Query({{"state", "Started"}}));
  ASSERT_TRUE(page.has_value());
  EXPECT_FALSE(page->has_value());
}

TEST(RestPage, TopSkipOrderStateNameClientAndSearchBecomeOneCountedQuery) {
  auto client = Uuid::Random();
  auto page = DecodeRestPage(Query({{"$top", "25"},
                                    {"$skip", "50"},
                                    {"$orderby", "id DESC"},
                                    {"state", "Started"},
                                    {"name", "sleep"},
                                    {"clientId", client.ToString()},
                                    {"search", "50% off_"}}));
  ASSERT_TRUE(page.has_value() && page->has_value()) << page.error().Describe();
  auto q = RestPageQuery(**page, std::nullopt);
  EXPECT_EQ(q.limit, 25);
  EXPECT_EQ(q.offset, 50);
  ASSERT_EQ(q.order.size(), 1u);
  EXPECT_TRUE(q.order[0].descending);
  EXPECT_TRUE(q.count_total);
  EXPECT_EQ(q.client_id, client) << "an admin key filters by the client named";
  ASSERT_EQ(q.run_states.size(), 1u);
  EXPECT_EQ(q.run_states[0].states, (std::vector<std::optional<RunState>>{RunState::kStarted}));
  ASSERT_EQ(q.conditions.size(), 2u);
  EXPECT_EQ(q.conditions[0].field, TaskField::kTypeName);
  EXPECT_EQ(q.conditions[0].value, "sleep");
  EXPECT_EQ(q.conditions[1].field, TaskField::kDescription);
  EXPECT_EQ(q.conditions[1].value, "%50\\% off\\_%") << "the text is matched literally";
}

TEST(RestPage, DigitsSearchTheIdAndAClientNamingAnotherClientGetsNothing) {
  auto page = DecodeRestPage(Query({{"$top", "10"}, {"search", "1042"}}));
  ASSERT_TRUE(page.has_value() && page->has_value());
  auto mine = Uuid::Random();
  auto q = RestPageQuery(**page, mine);
  EXPECT_EQ(q.client_id, mine);
  ASSERT_EQ(q.conditions.size(), 1u);
  EXPECT_EQ(q.conditions[0].field, TaskField::kNumber);
  EXPECT_EQ(q.conditions[0].value, "1042");

  (*page)->client_id = Uuid::Random();
  auto other = RestPageQuery(**page, mine);
  ASSERT_EQ(other.conditions.size(), 2u);
  EXPECT_EQ(other.conditions[0].op, CompareOp::kIn);
  EXPECT_TRUE(other.conditions[0].values.empty()) << "matches nothing";
}

TEST(RestPage, BadValuesAreRefusedNamingTheParameter) {
  for (auto [name, value] :
       {std::pair{"$top", "1001"}, std::pair{"$top", "-1"}, std::pair{"$top", "ten"},
        std::pair{"$skip", "x"}, std::pair{"$orderby", "Name"}, std::pair{"state", "Sleeping"},
        std::pair{"clientId", "nobody"}}) {
    std::map<std::string, std::string, std::less<>> params = {{"$top", "5"}};
    params[name] = value;
    auto page = DecodeRestPage(Query(params));
    ASSERT_FALSE(page.has_value()) << name << "=" << value;
    EXPECT_EQ(page.error().field, name) << page.error().Describe();
  }
}

}  // namespace
}  // namespace conveyor::superoffice

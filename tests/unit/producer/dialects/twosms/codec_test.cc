#include "dialects/twosms/codec.h"

#include <gtest/gtest.h>

#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "support/files.h"

namespace conveyor::twosms {
namespace {

using conveyor::testing::ReadRepoFile;

const Timestamp kNow = *ParseDateTime("2026-11-22T10:00:00Z");

class TwoSmsCreateRequest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = RequestDecoder::Create();
    ASSERT_TRUE(d.has_value()) << d.error().message;
    decoder_.emplace(std::move(*d));
  }
  // The seed's request with the fields a real client must fill in properly.
  nlohmann::json ValidBody() {
    auto j = nlohmann::json::parse(ReadRepoFile("tests/golden/twosms/seed001-create-request.json"));
    j["ContentType"] = "application/json";
    j["Parameters"] = R"({"greeting":"hello"})";
    return j;
  }
  Error DecodeError(const nlohmann::json& body) {
    auto r = decoder_->DecodeCreate(body.dump(), kNow);
    EXPECT_FALSE(r.has_value());
    return r ? Error{} : r.error();
  }
  std::optional<RequestDecoder> decoder_;
};

TEST_F(TwoSmsCreateRequest, SeedBodyWithRealContentTypeDecodes) {
  auto r = decoder_->DecodeCreate(ValidBody().dump(), kNow);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->task_type_id.ToString(), "86cb791c-8078-41ae-a045-5dded04c9589");
  EXPECT_EQ(r->frequency, Frequency::kNone);
  EXPECT_EQ(r->notification, TaskNotification::kNone);
  EXPECT_EQ(FormatDotNet(*r->start_date), "2026-02-22T04:10:00.9543740+00:00");
}

TEST_F(TwoSmsCreateRequest, BothSeedSamplesAsPublishedAreRefusedForTheirPlaceholderContentType) {
  for (const char* file : {"tests/golden/twosms/seed000-create-request.json",
                           "tests/golden/twosms/seed001-create-request.json"}) {
    auto body = nlohmann::json::parse(ReadRepoFile(file));
    Error e = DecodeError(body);
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << file;
    EXPECT_EQ(e.field, "ContentType") << file;
  }
}

TEST_F(TwoSmsCreateRequest, EnumsMayBeNamesAsTheXmlSamplesSendThem) {
  auto body = ValidBody();
  body["Frequency"] = "NONE";
  body["Notification"] = "COMPLETION";
  auto r = decoder_->DecodeCreate(body.dump(), kNow);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->notification, TaskNotification::kCompletion);
}

TEST_F(TwoSmsCreateRequest, EachMissingRequiredFieldIsNamed) {
  for (const char* field : {"TaskID", "Frequency", "Parameters", "ContentType"}) {
    auto body = ValidBody();
    body.erase(field);
    Error e = DecodeError(body);
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, field);
    EXPECT_EQ(e.message, "is required");
  }
}

TEST_F(TwoSmsCreateRequest, MalformedTaskIdIsNamed) {
  auto body = ValidBody();
  body["TaskID"] = "not-a-guid";
  EXPECT_EQ(DecodeError(body).field, "TaskID");
}

TEST_F(TwoSmsCreateRequest, UnknownFrequencyIsNamed) {
  auto body = ValidBody();
  body["Frequency"] = 42;
  EXPECT_EQ(DecodeError(body).field, "Frequency");
}

TEST_F(TwoSmsCreateRequest, BadDateIsNamedWithTheExpectedForm) {
  auto body = ValidBody();
  body["FinishDate"] = "next tuesday";
  Error e = DecodeError(body);
  EXPECT_EQ(e.field, "FinishDate");
  EXPECT_NE(e.message.find("ISO 8601"), std::string::npos);
}

// A "never" FinishDate with a negative offset is in year 10000 in UTC: it was accepted, and the
// create event it made could not be read back by the worker.
TEST_F(TwoSmsCreateRequest, FinishDateBeyondTheYear9999InUtcIsRefusedNamingIt) {
  auto body = ValidBody();
  body["FinishDate"] = "9999-12-31T23:59:59.9999999-05:00";
  Error e = DecodeError(body);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field, "FinishDate");
  EXPECT_EQ(e.message,
            "'9999-12-31T23:59:59.9999999-05:00' is outside the years 0001 to 9999 in UTC");
}

TEST_F(TwoSmsCreateRequest, FinishBeforeStartIsRefused) {
  auto body = ValidBody();
  body["StartDate"] = "2026-02-22T04:10:00+00:00";
  body["FinishDate"] = "2026-02-21T04:10:00+00:00";
  Error e = DecodeError(body);
  EXPECT_EQ(e.field, "FinishDate");
  EXPECT_EQ(e.message, "is before StartDate");
}

TEST_F(TwoSmsCreateRequest, FutureStartAndTheSchedulingExtensionDecode) {
  auto body = ValidBody();
  body["StartDate"] = "2027-01-01T06:30:00+01:00";
  body["FinishDate"] = nullptr;
  body["Frequency"] = 2;  // DAILY
  body["TimeZone"] = "Europe/Oslo";
  body["CatchUp"] = "ALL";
  body["CatchUpLimit"] = 5;
  body["Overlap"] = "BUFFER_ONE";
  auto r = decoder_->DecodeCreate(body.dump(), kNow);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->frequency, Frequency::kDaily);
  EXPECT_EQ(r->schedule.time_zone, "Europe/Oslo");
  EXPECT_EQ(r->schedule.catch_up, CatchUp::kAll);
  EXPECT_EQ(r->schedule.catch_up_limit, 5);
  EXPECT_EQ(r->schedule.overlap, Overlap::kBufferOne);
  body["Frequency"] = "WEEKLY";
  EXPECT_EQ(decoder_->DecodeCreate(body.dump(), kNow)->frequency, Frequency::kWeekly);
}

TEST_F(TwoSmsCreateRequest, BadScheduleIsRefusedNamingTheField) {
  struct Case {
    const char* field;
    nlohmann::json value;
    const char* expect_field;
  };
  const Case cases[] = {
      {"Frequency", 7, "Frequency"},
      {"Recurrence", "FREQ=SOMETIMES", "Recurrence"},
      {"Recurrence", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "Recurrence"},
      {"TimeZone", "Mars/Olympus_Mons", "TimeZone"},
      {"CatchUp", "MANY", "CatchUp"},
      {"CatchUpLimit", 101, "CatchUpLimit"},
      {"CatchUpLimit", 0, "CatchUpLimit"},
      {"Overlap", "ALLOW_ALL", "Overlap"},
  };
  for (const auto& c : cases) {
    auto body = ValidBody();
    body["StartDate"] = "2027-01-01T00:00:00Z";
    body["FinishDate"] = "2028-01-01T00:00:00Z";
    body["Recurrence"] = "FREQ=DAILY";
    body[c.field] = c.value;
    Error e = DecodeError(body);
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << c.field;
    EXPECT_EQ(e.field, c.expect_field) << c.field << ": " << e.Describe();
    EXPECT_FALSE(e.message.empty());
  }
  auto limit = ValidBody();
  limit["CatchUpLimit"] = 500;
  EXPECT_NE(DecodeError(limit).message.find("1 to 100"), std::string::npos);
}

TEST_F(TwoSmsCreateRequest, ParametersMustParseAsTheDeclaredContentType) {
  auto body = ValidBody();
  body["Parameters"] = "<a>unclosed";
  Error json_error = DecodeError(body);
  EXPECT_EQ(json_error.field, "Parameters");
  EXPECT_NE(json_error.message.find("application/json"), std::string::npos);

  body["ContentType"] = "application/xml";
  Error xml_error = DecodeError(body);
  EXPECT_EQ(xml_error.field, "Parameters");
  EXPECT_NE(xml_error.message.find("application/xml"), std::string::npos);

  body["Parameters"] = "<a>closed</a>";
  EXPECT_TRUE(decoder_->DecodeCreate(body.dump(), kNow).has_value());
}

TEST_F(TwoSmsCreateRequest, OversizedParametersNameTheLimit) {
  auto body = ValidBody();
  body["Parameters"] = "\"" + std::string(kMaxParametersBytes, 'x') + "\"";
  Error e = DecodeError(body);
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_EQ(e.field, "Parameters");
  EXPECT_NE(e.message.find(std::to_string(kMaxParametersBytes)), std::string::npos);
}

TEST_F(TwoSmsCreateRequest, BodyThatIsNotJsonIsRefused) {
  auto r = decoder_->DecodeCreate("{\"TaskID\":", kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().message.starts_with("the request body is not a JSON document (parse error"))
      << r.error().message;
}

TEST(TwoSmsEnvelope, DetailHasTheSeedResponseFieldsAndConveyorsSchedulingExtension) {
  auto seed = nlohmann::json::parse(
      conveyor::testing::ReadRepoFile("tests/golden/twosms/seed001-create-response.json"));
  TaskView v;
  v.task.id = Uuid::Random();
  v.task.created_at = kNow;
  v.modified_at = kNow;
  auto ours = SuccessEnvelope(Detail(v, "Accepted"), std::nullopt);
  ASSERT_EQ(ours.size(), seed.size());
  for (auto& [key, value] : seed.items()) EXPECT_TRUE(ours.contains(key)) << key;
  const auto& seed_data = seed["ResponseData"];
  const auto& our_data = ours["ResponseData"];
  for (auto& [key, value] : seed_data.items()) EXPECT_TRUE(our_data.contains(key)) << key;
  std::vector<std::string> seed_keys, our_keys;
  for (auto& [key, value] : seed_data["Detail"].items()) seed_keys.push_back(key);
  for (const char* extension :
       {"NextRunOn", "Recurrence", "TimeZone", "CatchUp", "CatchUpLimit", "Overlap"})
    seed_keys.push_back(extension);
  for (auto& [key, value] : our_data["Detail"].items()) our_keys.push_back(key);
  std::sort(seed_keys.begin(), seed_keys.end());
  std::sort(our_keys.begin(), our_keys.end());
  EXPECT_EQ(our_keys, seed_keys);
}

TEST(TwoSmsEnvelope, ErrorCarriesCodeAndReasonNamingTheField) {
  auto j = ErrorEnvelope(MakeError(ErrorCode::kInvalidArgument, "is required", "TaskID"));
  EXPECT_EQ(j["Error"]["ErrorCode"], "InvalidRequest");
  EXPECT_EQ(j["Error"]["ErrorReason"], "TaskID: is required");
  EXPECT_TRUE(j["ResponseData"].is_null());
}

// The bulk create: {"Tasks": [...]}, every task checked in order, the first bad one named.
class TwoSmsBulkRequest : public TwoSmsCreateRequest {
 protected:
  nlohmann::json Bulk(std::size_t n) {
    nlohmann::json tasks = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) {
      auto t = ValidBody();
      t["Parameters"] = nlohmann::json{{"i", i}}.dump();
      tasks.push_back(t);
    }
    return {{"Tasks", tasks}};
  }
  Error BulkError(const nlohmann::json& body) {
    auto r = decoder_->DecodeBulkCreate(body.dump(), kNow);
    EXPECT_FALSE(r.has_value());
    return r ? Error{} : r.error();
  }
};

TEST_F(TwoSmsBulkRequest, DecodesEveryTaskInRequestOrder) {
  auto r = decoder_->DecodeBulkCreate(Bulk(3).dump(), kNow);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  ASSERT_EQ(r->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ((*r)[i].parameters, nlohmann::json({{"i", i}}).dump());
}

TEST_F(TwoSmsBulkRequest, TheFirstBadTaskIsNamedByItsIndexAndField) {
  auto body = Bulk(5);
  body["Tasks"][3]["Frequency"] = 5;
  Error e = BulkError(body);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field, "Tasks[3].Frequency");
  EXPECT_NE(e.Describe().find("Tasks[3].Frequency: is not a Frequency"), std::string::npos)
      << e.Describe();

  // A check beyond the schema (dates) on an earlier task is the one reported.
  body["Tasks"][1]["StartDate"] = "2026-01-02T00:00:00Z";
  body["Tasks"][1]["FinishDate"] = "2026-01-01T00:00:00Z";
  EXPECT_EQ(BulkError(body).field, "Tasks[1].FinishDate");

  body["Tasks"][0].erase("TaskID");
  EXPECT_EQ(BulkError(body).Describe(), "Tasks[0].TaskID: is required");
}

TEST_F(TwoSmsBulkRequest, ATaskThatIsNotAnObjectIsNamed) {
  auto body = Bulk(2);
  body["Tasks"][1] = "not a task";
  EXPECT_EQ(BulkError(body).field, "Tasks[1]");
}

TEST_F(TwoSmsBulkRequest, AnEmptyListOrNoListIsRefusedNamingTasks) {
  Error empty = BulkError({{"Tasks", nlohmann::json::array()}});
  EXPECT_EQ(empty.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.Describe(), "Tasks: is empty; a bulk create needs at least one task");
  EXPECT_EQ(BulkError(nlohmann::json::object()).Describe(), "Tasks: is required");
  EXPECT_EQ(BulkError({{"Tasks", ValidBody()}}).Describe(),
            "Tasks: must be a list of AccountTaskRequest objects");
}

TEST_F(TwoSmsBulkRequest, MoreThanTheLimitIsRefusedNamingIt) {
  EXPECT_TRUE(decoder_->DecodeBulkCreate(Bulk(kMaxBulkTasks).dump(), kNow).has_value());
  Error e = BulkError(Bulk(kMaxBulkTasks + 1));
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.Describe(), "Tasks: holds 1001 tasks; the limit is 1000 tasks per request");
}

TEST_F(TwoSmsBulkRequest, TheSchemaFileStatesTheLimitTheCodeEnforcesAndRefersToTheCreateSchema) {
  auto schema =
      nlohmann::json::parse(ReadRepoFile("schemas/requests/twosms.account-task-bulk.json"));
  const auto& tasks = schema["properties"]["Tasks"];
  EXPECT_EQ(tasks["maxItems"], kMaxBulkTasks);
  EXPECT_EQ(tasks["minItems"], 1);
  EXPECT_EQ(tasks["items"]["$ref"], "twosms.account-task-create.json");
}

TEST_F(TwoSmsBulkRequest, XmlFormHoldsOneAccountTaskRequestPerTask) {
  std::string task =
      "<AccountTaskRequest><TaskID>86cb791c-8078-41ae-a045-5dded04c9589</TaskID>"
      "<Frequency>NONE</Frequency><Parameters>{}</Parameters>"
      "<ContentType>application/json</ContentType></AccountTaskRequest>";
  auto xml = [](const std::string& tasks) {
    return "<AccountTaskBulkRequest xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
           "<Tasks>" +
           tasks + "</Tasks></AccountTaskBulkRequest>";
  };
  auto r = decoder_->DecodeBulkCreate(xml(task + task), kNow, BodyFormat::kXml);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->size(), 2u);

  std::string bad = task;
  bad.replace(bad.find("NONE"), 4, "YEARLY");
  auto e = decoder_->DecodeBulkCreate(xml(task + bad), kNow, BodyFormat::kXml);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field, "Tasks[1].Frequency");

  std::string twice = task;
  twice.insert(twice.find("</AccountTaskRequest>"), "<Frequency>0</Frequency>");
  e = decoder_->DecodeBulkCreate(xml(twice), kNow, BodyFormat::kXml);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().Describe(), "Tasks[0].Frequency: appears more than once");

  e = decoder_->DecodeBulkCreate(xml("<Task/>"), kNow, BodyFormat::kXml);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field, "Tasks");
  e = decoder_->DecodeBulkCreate(xml(""), kNow, BodyFormat::kXml);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().Describe(), "Tasks: is empty; a bulk create needs at least one task");
}

TEST(TwoSmsCommands, ACreateIsAnEnabledDraftAndAnUpdateReplacesEveryFieldButEnabledWhenAbsent) {
  AccountTaskRequest r;
  r.task_type_id = NoopTaskTypeId();
  r.frequency = Frequency::kDaily;
  r.start_date = *ParseDateTime("2027-01-01T09:00:00Z");
  r.parameters = "{}";
  r.content_type = "application/json";
  r.notification = TaskNotification::kFailure;
  r.client_id = Uuid::Random();
  r.schedule.time_zone = "Europe/Oslo";
  auto draft = DraftOf(r);
  EXPECT_TRUE(draft.enabled);
  EXPECT_EQ(draft.task_type_id, r.task_type_id);
  EXPECT_EQ(draft.frequency, Frequency::kDaily);
  EXPECT_EQ(draft.start_date, r.start_date);
  EXPECT_EQ(draft.client_id, r.client_id);
  EXPECT_EQ(draft.notification, TaskNotification::kFailure);
  EXPECT_EQ(draft.schedule.time_zone, "Europe/Oslo");

  AccountTaskUpdateRequest u{r, std::nullopt};
  auto update = UpdateOf(u);
  EXPECT_FALSE(update.enabled.has_value());
  EXPECT_EQ(update.frequency, Frequency::kDaily);
  ASSERT_TRUE(update.schedule.has_value());
  EXPECT_EQ(update.schedule->time_zone, "Europe/Oslo");
  EXPECT_FALSE(update.name.has_value());  // TwoSms has no name: the task keeps its own
  u.enabled = false;
  EXPECT_EQ(UpdateOf(u).enabled, false);
}

}  // namespace
}  // namespace conveyor::twosms

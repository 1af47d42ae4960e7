#include "src/twosms.h"

#include <gtest/gtest.h>

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

TEST_F(TwoSmsCreateRequest, FinishBeforeStartIsRefused) {
  auto body = ValidBody();
  body["StartDate"] = "2026-02-22T04:10:00+00:00";
  body["FinishDate"] = "2026-02-21T04:10:00+00:00";
  Error e = DecodeError(body);
  EXPECT_EQ(e.field, "FinishDate");
  EXPECT_EQ(e.message, "is before StartDate");
}

TEST_F(TwoSmsCreateRequest, FutureStartIsRefusedUntilTheSchedulerExists) {
  auto body = ValidBody();
  body["StartDate"] = "2027-01-01T00:00:00+00:00";
  body["FinishDate"] = nullptr;
  EXPECT_EQ(DecodeError(body).field, "StartDate");
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
  EXPECT_EQ(r.error().message, "the request body is not a JSON document");
}

TEST(TwoSmsEnvelope, DetailHasExactlyTheSeedResponseFields) {
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
  EXPECT_EQ(HttpStatus(MakeError(ErrorCode::kUnavailable, "x")), 503);
}

}  // namespace
}  // namespace conveyor::twosms

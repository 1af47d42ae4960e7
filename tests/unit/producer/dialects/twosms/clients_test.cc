// The TwoSms ClientRequest (POST api/v1/admin/clients) and ClientUpdateRequest (PUT): schema-
// checked, every failure naming the field and, for a length, the limit.
#include "dialects/twosms/clients.h"

#include <gtest/gtest.h>

namespace conveyor::twosms {
namespace {

class ClientRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = ClientRequestDecoder::Create();
    ASSERT_TRUE(d.has_value()) << d.error().message;
    decoder_.emplace(std::move(*d));
  }
  static nlohmann::json Valid() {
    return {{"Name", "acme"},
            {"Secret", "a long random secret"},
            {"UserID", "86cb791c-8078-41ae-a045-5dded04c9589"}};
  }
  Error DecodeError(const nlohmann::json& body) {
    auto r = decoder_->Decode(body.dump());
    EXPECT_FALSE(r.has_value()) << body.dump();
    return r ? Error{} : r.error();
  }
  std::optional<ClientRequestDecoder> decoder_;
};

TEST_F(ClientRequestTest, ValidBodyDecodes) {
  auto r = decoder_->Decode(Valid().dump());
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->name, "acme");
  EXPECT_EQ(r->secret, "a long random secret");
  EXPECT_EQ(r->user_id.ToString(), "86cb791c-8078-41ae-a045-5dded04c9589");
}

TEST_F(ClientRequestTest, NameOver18CharactersIsRefusedNamingTheLimit) {
  auto body = Valid();
  body["Name"] = std::string(18, 'n');
  EXPECT_TRUE(decoder_->Decode(body.dump()).has_value());
  body["Name"] = std::string(19, 'n');
  auto e = DecodeError(body);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field, "Name");
  EXPECT_NE(e.message.find("18"), std::string::npos) << e.message;
}

TEST_F(ClientRequestTest, SecretOver50CharactersIsRefusedNamingTheLimit) {
  auto body = Valid();
  body["Secret"] = std::string(51, 's');
  auto e = DecodeError(body);
  EXPECT_EQ(e.field, "Secret");
  EXPECT_NE(e.message.find("50"), std::string::npos) << e.message;
}

TEST_F(ClientRequestTest, SecretUnder16CharactersIsRefusedNamingTheMinimum) {
  auto body = Valid();
  body["Secret"] = std::string(16, 's');
  EXPECT_TRUE(decoder_->Decode(body.dump()).has_value());
  body["Secret"] = std::string(15, 's');
  auto e = DecodeError(body);
  EXPECT_EQ(e.field, "Secret");
  EXPECT_NE(e.message.find("16"), std::string::npos) << e.message;
}

TEST_F(ClientRequestTest, MissingOrMalformedFieldsAreNamed) {
  for (const char* field : {"Name", "Secret", "UserID"}) {
    auto body = Valid();
    body.erase(field);
    auto e = DecodeError(body);
    EXPECT_EQ(e.field, field);
    EXPECT_EQ(e.message, "is required");
  }
  auto body = Valid();
  body["UserID"] = "not a guid";
  EXPECT_EQ(DecodeError(body).field, "UserID");
  body = Valid();
  body["Name"] = "";
  EXPECT_EQ(DecodeError(body).field, "Name");
  EXPECT_EQ(DecodeError(nlohmann::json::array()).message, "the request body must be a JSON object");
}

TEST_F(ClientRequestTest, DetailShowsTheSecretOnlyWhenGiven) {
  ClientRecord c;
  c.id = Uuid::Random();
  c.name = "acme";
  auto with = ClientDetail(c, std::string("s"));
  EXPECT_EQ(with["Secret"], "s");
  EXPECT_EQ(with["ID"], c.id.ToString());
  EXPECT_FALSE(ClientDetail(c, std::nullopt).contains("Secret"));
}

TEST_F(ClientRequestTest, BodyNestedDeeperThanTheLimitIsRefusedNamingIt) {
  auto r =
      decoder_->Decode(R"({"Name": )" + std::string(200000, '[') + std::string(200000, ']') + "}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(r.error().message.find("limit of 32 levels"), std::string::npos) << r.error().message;
}

TEST_F(ClientRequestTest, AnUpdateGivesOnlyTheFieldsItChanges) {
  auto r = decoder_->DecodeUpdate(R"({"Enabled": false})");
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->enabled, false);
  EXPECT_FALSE(r->name || r->secret);
  auto xml = decoder_->DecodeUpdate(
      "<ClientRequest><Secret>a new secret of 16+</Secret><Enabled>true</Enabled></ClientRequest>",
      BodyFormat::kXml);
  ASSERT_TRUE(xml.has_value()) << xml.error().Describe();
  EXPECT_EQ(xml->secret, "a new secret of 16+");
  EXPECT_EQ(xml->enabled, true);
}

TEST_F(ClientRequestTest, AnUpdateWithNothingToChangeOrABadFieldIsRefusedNamingIt) {
  auto empty = decoder_->DecodeUpdate(R"({"UserID": "86cb791c-8078-41ae-a045-5dded04c9589"})");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, "give at least one of Name, Secret and Enabled");
  auto short_secret = decoder_->DecodeUpdate(R"({"Secret": "short"})");
  ASSERT_FALSE(short_secret.has_value());
  EXPECT_EQ(short_secret.error().field, "Secret");
  EXPECT_NE(short_secret.error().message.find("16"), std::string::npos);
  auto not_boolean = decoder_->DecodeUpdate(R"({"Enabled": "no"})");
  ASSERT_FALSE(not_boolean.has_value());
  EXPECT_EQ(not_boolean.error().field, "Enabled");
}

}  // namespace
}  // namespace conveyor::twosms

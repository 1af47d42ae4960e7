// The TwoSms XML forms and the golden samples of the seeds (shared/seeds 000-002, copied to
// tests/golden/twosms/): every request sample parses in JSON and XML and means the same, and
// our answers have the seed response's fields, in its order, in JSON and in XML. The seeds
// publish no XML response sample: XmlSerializer writes members in declaration order, the order
// Json.NET writes them in, so the XML answer is checked against the JSON sample's order.
#include "dialects/twosms/xml.h"

#include <gtest/gtest.h>

#include "conveyor/json_text.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "dialects/twosms/codec.h"
#include "support/files.h"

namespace conveyor::twosms {
namespace {

using conveyor::testing::ReadRepoFile;
using nlohmann::json;
using nlohmann::ordered_json;

const Timestamp kNow = *ParseDateTime("2026-11-22T10:00:00Z");

struct Seed {
  std::string name;  // tests/golden/twosms/<name>-request.{json,xml}, -response.json
  bool update;
};
const Seed kSeeds[] = {
    {"seed000-create", false}, {"seed001-create", false}, {"seed002-update", true}};

std::string Golden(const Seed& s, const std::string& suffix) {
  return ReadRepoFile("tests/golden/twosms/" + s.name + suffix);
}

// The seed request with the two placeholder fields ("sample string 3/4") made real.
std::string WithRealContentType(std::string text, bool xml) {
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), to);
  };
  replace("sample string 3", xml ? "&lt;p&gt;1&lt;/p&gt;" : "<p>1</p>");
  replace("sample string 4", "application/xml");
  return text;
}

std::vector<std::string> Keys(const ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

std::vector<std::string> ChildNames(const pugi::xml_node& node) {
  std::vector<std::string> names;
  for (auto child : node.children())
    if (child.type() == pugi::node_element) names.push_back(child.name());
  return names;
}

// Every object of `seed` has the keys of the same object in `ours`, in the same order; and the
// XML element `node` has them as child elements in that order too. A task's Detail adds
// Conveyor's scheduling extension after the seed's fields (docs/scheduling.md).
void ExpectSameShape(const ordered_json& seed, const ordered_json& ours, const pugi::xml_node& node,
                     const std::string& path) {
  ASSERT_TRUE(ours.is_object()) << path;
  auto expected = Keys(seed);
  if (path.ends_with("/Detail"))
    for (const char* extension :
         {"NextRunOn", "Recurrence", "TimeZone", "CatchUp", "CatchUpLimit", "Overlap"})
      expected.push_back(extension);
  EXPECT_EQ(Keys(ours), expected) << path;
  EXPECT_EQ(ChildNames(node), expected) << path << " (XML)";
  for (const auto& [key, value] : seed.items()) {
    if (!value.is_object() || !ours.contains(key) || ours[key].is_null()) continue;
    ExpectSameShape(value, ours[key], node.child(key.c_str()), path + "/" + key);
  }
}

TaskView SampleView() {
  TaskView v;
  v.task.id = Uuid::Random();
  v.task.task_type_id = NoopTaskTypeId();
  v.task.client_id = Uuid::Random();
  v.task.start_date = kNow;
  v.task.finish_date = kNow;
  v.task.parameters = "{}";
  v.task.content_type = "application/json";
  v.task.created_at = kNow;
  v.modified_at = kNow;
  v.modified_by = "someone";
  v.type_name = "noop";
  RunView r;
  r.state = RunState::kSucceeded;
  r.started_at = kNow;
  r.worker = "worker-1";
  v.last_run = r;
  return v;
}

class TwoSmsGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = RequestDecoder::Create();
    ASSERT_TRUE(d.has_value()) << d.error().message;
    decoder_.emplace(std::move(*d));
  }
  Result<AccountTaskUpdateRequest> Decode(const Seed& s, const std::string& body,
                                          BodyFormat format) {
    if (s.update) return decoder_->DecodeUpdate(body, kNow, format);
    auto r = decoder_->DecodeCreate(body, kNow, format);
    if (!r) return std::unexpected(r.error());
    return AccountTaskUpdateRequest{*r, std::nullopt};
  }
  std::optional<RequestDecoder> decoder_;
};

TEST_F(TwoSmsGolden, EveryXmlRequestSampleHasTheElementsOfItsJsonSample) {
  for (const auto& s : kSeeds) {
    auto from_xml = xml::RequestToJson(
        Golden(s, "-request.xml"), s.update ? "AccountTaskUpdateRequest" : "AccountTaskRequest");
    ASSERT_TRUE(from_xml.has_value()) << s.name << ": " << from_xml.error().Describe();
    auto from_json = json::parse(Golden(s, "-request.json"));
    std::vector<std::string> xml_keys, json_keys;
    for (const auto& [k, v] : from_xml->items()) xml_keys.push_back(k);
    for (const auto& [k, v] : from_json.items()) json_keys.push_back(k);
    EXPECT_EQ(xml_keys, json_keys) << s.name;  // both sorted by nlohmann::json
    EXPECT_EQ((*from_xml)["Frequency"], "NONE") << s.name;
    EXPECT_EQ(from_json["Frequency"], 0) << s.name;
  }
}

TEST_F(TwoSmsGolden, EverySeedRequestDecodesTheSameFromJsonAndXmlOnceItsContentTypeIsReal) {
  for (const auto& s : kSeeds) {
    auto j = Decode(s, WithRealContentType(Golden(s, "-request.json"), false), BodyFormat::kJson);
    ASSERT_TRUE(j.has_value()) << s.name << ": " << j.error().Describe();
    auto x = Decode(s, WithRealContentType(Golden(s, "-request.xml"), true), BodyFormat::kXml);
    ASSERT_TRUE(x.has_value()) << s.name << ": " << x.error().Describe();
    EXPECT_EQ(x->fields.task_type_id, j->fields.task_type_id) << s.name;
    EXPECT_EQ(x->fields.frequency, Frequency::kNone) << s.name;
    EXPECT_EQ(x->fields.notification, TaskNotification::kNone) << s.name;
    EXPECT_EQ(x->fields.start_date, j->fields.start_date) << s.name;
    EXPECT_EQ(x->fields.finish_date, j->fields.finish_date) << s.name;
    EXPECT_EQ(x->fields.parameters, "<p>1</p>") << s.name;
    EXPECT_EQ(j->fields.parameters, "<p>1</p>") << s.name;
    EXPECT_EQ(x->fields.content_type, "application/xml") << s.name;
    EXPECT_EQ(x->enabled, j->enabled) << s.name;
    if (s.update) {
      EXPECT_EQ(x->enabled, true) << s.name;
    }
  }
}

TEST_F(TwoSmsGolden, EverySeedRequestAsPublishedIsRefusedForItsPlaceholderContentTypeInBothForms) {
  for (const auto& s : kSeeds) {
    for (auto format : {BodyFormat::kJson, BodyFormat::kXml}) {
      auto r = Decode(s, Golden(s, format == BodyFormat::kXml ? "-request.xml" : "-request.json"),
                      format);
      ASSERT_FALSE(r.has_value()) << s.name;
      EXPECT_EQ(r.error().field, "ContentType") << s.name;
      EXPECT_EQ(r.error().message, "must be application/json or application/xml") << s.name;
    }
  }
}

TEST_F(TwoSmsGolden, AnswerHasTheSeedResponseFieldsInItsOrderInJsonAndXml) {
  for (const auto& s : kSeeds) {
    auto seed = ordered_json::parse(Golden(s, "-response.json"));
    // A successful answer (Error null) and an error answer (ResponseData null) together
    // show every object of the seed.
    auto ok = SuccessEnvelope(Detail(SampleView(), "Succeeded"), std::string("user"));
    auto error = ErrorEnvelope(MakeError(ErrorCode::kNotFound, "no task"));
    for (const auto& ours : {ok, error}) {
      pugi::xml_document doc;
      ASSERT_TRUE(
          doc.load_string(xml::EnvelopeToXml(ours, "ResponseOfAccountTaskResponse").c_str()));
      auto root = doc.document_element();
      EXPECT_STREQ(root.name(), "ResponseOfAccountTaskResponse");
      EXPECT_STREQ(root.attribute("xmlns:xsi").value(),
                   "http://www.w3.org/2001/XMLSchema-instance");
      ExpectSameShape(seed, ours, root, s.name);
    }
  }
}

TEST(TwoSmsXmlResponse, NullsAreXsiNilAndValuesAreTextAsXmlSerializerWritesThem) {
  auto envelope = SuccessEnvelope(Detail(SampleView(), "Succeeded"), std::nullopt);
  envelope["ResponseData"]["Detail"]["FinishDate"] = nullptr;
  auto text = xml::EnvelopeToXml(envelope, "ResponseOfAccountTaskResponse");
  EXPECT_TRUE(text.starts_with("<ResponseOfAccountTaskResponse xmlns:xsd="));  // no declaration
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(text.c_str()));
  auto root = doc.document_element();
  EXPECT_STREQ(root.child("Error").attribute("xsi:nil").value(), "true");
  EXPECT_STREQ(root.child("ResponseData")
                   .child("Identification")
                   .child("UserId")
                   .attribute("xsi:nil")
                   .value(),
               "true");
  auto detail = root.child("ResponseData").child("Detail");
  EXPECT_STREQ(detail.child("FinishDate").attribute("xsi:nil").value(), "true");
  EXPECT_STREQ(detail.child("Enabled").text().get(), "true");
  EXPECT_STREQ(detail.child("Frequency").text().get(), "NONE");
  EXPECT_STREQ(detail.child("Notification").text().get(), "NONE");
  EXPECT_STREQ(detail.child("LastRunBy").text().get(), "worker-1");
  EXPECT_STREQ(detail.child("StartDate").text().get(), "2026-11-22T10:00:00.0000000+00:00");
}

TEST(TwoSmsXmlResponse, ListIsOneAccountTaskResponsePerTaskThenPaging) {
  auto details = ordered_json::array({Detail(SampleView(), "Idle"), Detail(SampleView(), "Idle")});
  auto envelope = ListEnvelope(details, Paging{2, 2, 5}, std::nullopt);
  EXPECT_EQ(envelope["ResponseData"]["Paging"],
            ordered_json({{"Page", 2}, {"PageSize", 2}, {"TotalCount", 5}, {"TotalPages", 3}}));
  pugi::xml_document doc;
  ASSERT_TRUE(
      doc.load_string(xml::EnvelopeToXml(envelope, "ResponseOfListOfAccountTaskResponse").c_str()));
  auto data = doc.document_element().child("ResponseData");
  EXPECT_EQ(ChildNames(data),
            (std::vector<std::string>{"Identification", "Result", "Detail", "Paging"}));
  EXPECT_EQ(ChildNames(data.child("Detail")),
            (std::vector<std::string>{"AccountTaskResponse", "AccountTaskResponse"}));
  EXPECT_EQ(ChildNames(data.child("Detail").first_child()), Keys(details[0]));
  EXPECT_STREQ(data.child("Paging").child("TotalPages").text().get(), "3");
}

// --- Requests in XML --------------------------------------------------------------------------

class TwoSmsXmlRequest : public TwoSmsGolden {
 protected:
  // A valid update in XML, with `extra` elements inside the root.
  static std::string Body(const std::string& extra,
                          const std::string& root = "AccountTaskUpdateRequest") {
    return "<" + root +
           R"( xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
             <TaskID>00000000-0000-0000-0000-000000000001</TaskID><Frequency>NONE</Frequency>
             <Parameters>{"a":1}</Parameters><ContentType>application/json</ContentType>)" +
           extra + "</" + root + ">";
  }
  Error UpdateError(const std::string& body) {
    auto r = decoder_->DecodeUpdate(body, kNow, BodyFormat::kXml);
    EXPECT_FALSE(r.has_value());
    return r ? Error{} : r.error();
  }
};

TEST_F(TwoSmsXmlRequest, EnabledIsAnXsBooleanAndAbsentLeavesItUnchanged) {
  for (auto [text, value] : {std::pair{"true", true}, std::pair{"1", true},
                             std::pair{"false", false}, std::pair{" 0 ", false}}) {
    auto r = decoder_->DecodeUpdate(Body(std::string("<Enabled>") + text + "</Enabled>"), kNow,
                                    BodyFormat::kXml);
    ASSERT_TRUE(r.has_value()) << text << ": " << r.error().Describe();
    EXPECT_EQ(r->enabled, value) << text;
  }
  auto absent = decoder_->DecodeUpdate(Body(""), kNow, BodyFormat::kXml);
  ASSERT_TRUE(absent.has_value()) << absent.error().Describe();
  EXPECT_FALSE(absent->enabled.has_value());
  Error e = UpdateError(Body("<Enabled>yes</Enabled>"));
  EXPECT_EQ(e.field, "Enabled");
  EXPECT_EQ(e.message, "is not a boolean (true or false)");
}

TEST_F(TwoSmsXmlRequest, NotificationTakesNamesNumbersAndXmlSerializersSpaceSeparatedFlags) {
  for (auto [text, value] :
       {std::pair{"NONE", TaskNotification::kNone}, std::pair{"3", TaskNotification::kCompletion},
        std::pair{"SUCCESS PROGRESS", static_cast<TaskNotification>(5)},
        std::pair{"FAILURE, PROGRESS", static_cast<TaskNotification>(6)}}) {
    auto r = decoder_->DecodeUpdate(Body(std::string("<Notification>") + text + "</Notification>"),
                                    kNow, BodyFormat::kXml);
    ASSERT_TRUE(r.has_value()) << text << ": " << r.error().Describe();
    EXPECT_EQ(r->fields.notification, value) << text;
  }
  EXPECT_EQ(UpdateError(Body("<Notification>LOUD</Notification>")).field, "Notification");
}

TEST_F(TwoSmsXmlRequest, BadEnumDateAndOrderAreNamedAsInJson) {
  Error frequency = UpdateError(Body("").replace(Body("").find("NONE"), 4, "YEARLY"));
  EXPECT_EQ(frequency.field, "Frequency");
  EXPECT_NE(frequency.message.find("is not a Frequency"), std::string::npos);
  Error date = UpdateError(Body("<StartDate>yesterday</StartDate>"));
  EXPECT_EQ(date.field, "StartDate");
  EXPECT_NE(date.message.find("ISO 8601"), std::string::npos);
  // By the clock on the wall FinishDate is later; by the instant (offsets applied) earlier.
  Error order =
      UpdateError(Body("<StartDate>2026-01-02T00:00:00-01:00</StartDate>"
                       "<FinishDate>2026-01-02T00:30:00+01:00</FinishDate>"));
  EXPECT_EQ(order.field, "FinishDate");
  EXPECT_EQ(order.message, "is before StartDate");
}

TEST_F(TwoSmsXmlRequest, DatesWithOffsetsAreTheSameInstant) {
  auto r = decoder_->DecodeUpdate(Body("<StartDate>2026-01-02T01:30:00+01:30</StartDate>"
                                       "<FinishDate>2026-01-02T00:00:00Z</FinishDate>"),
                                  kNow, BodyFormat::kXml);
  ASSERT_TRUE(r.has_value()) << r.error().Describe();
  EXPECT_EQ(r->fields.start_date, r->fields.finish_date);
}

TEST_F(TwoSmsXmlRequest, MissingFieldAndNilAreNamed) {
  std::string body = Body("");
  body.erase(body.find("<TaskID>"), body.find("</TaskID>") + 9 - body.find("<TaskID>"));
  Error missing = UpdateError(body);
  EXPECT_EQ(missing.field, "TaskID");
  EXPECT_EQ(missing.message, "is required");
  auto nil =
      decoder_->DecodeUpdate(Body(R"(<StartDate xsi:nil="true" />)"), kNow, BodyFormat::kXml);
  ASSERT_TRUE(nil.has_value()) << nil.error().Describe();
  EXPECT_FALSE(nil->fields.start_date.has_value());
}

TEST_F(TwoSmsXmlRequest, WrongRootDuplicateFieldAndMarkupInAFieldAreRefused) {
  auto wrong = decoder_->DecodeUpdate(Body("", "AccountTaskRequest"), kNow, BodyFormat::kXml);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().message,
            "the XML root element is <AccountTaskRequest>; expected <AccountTaskUpdateRequest>");
  Error twice = UpdateError(Body("<ContentType>application/xml</ContentType>"));
  EXPECT_EQ(twice.field, "ContentType");
  EXPECT_EQ(twice.message, "appears more than once");
  std::string markup = Body("");
  markup.replace(markup.find(R"({"a":1})"), 7, "<p>1</p>");
  Error nested = UpdateError(markup);
  EXPECT_EQ(nested.field, "Parameters");
  EXPECT_NE(nested.message.find("CDATA"), std::string::npos);
}

TEST_F(TwoSmsXmlRequest, ParametersInCdataMustBeWellFormedXmlWhenContentTypeSaysSo) {
  std::string body = Body("");
  body.replace(body.find("application/json"), 16, "application/xml");
  body.replace(body.find(R"({"a":1})"), 7, "<![CDATA[<p>1</p>]]>");
  auto ok = decoder_->DecodeUpdate(body, kNow, BodyFormat::kXml);
  ASSERT_TRUE(ok.has_value()) << ok.error().Describe();
  EXPECT_EQ(ok->fields.parameters, "<p>1</p>");
  body.replace(body.find("<p>1</p>"), 8, "<p>1</q>");
  Error bad = UpdateError(body);
  EXPECT_EQ(bad.field, "Parameters");
  EXPECT_NE(bad.message.find("is not an XML document, but ContentType says application/xml"),
            std::string::npos)
      << bad.message;
}

TEST_F(TwoSmsXmlRequest, MalformedBodyIsRefusedWithPugixmlsReason) {
  auto r = decoder_->DecodeUpdate("<AccountTaskUpdateRequest><TaskID>", kNow, BodyFormat::kXml);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("the request body is not well-formed XML"), std::string::npos)
      << r.error().message;
}

// pugixml takes bytes as they come: a body that is not UTF-8 reached valijson, which read
// past its tables counting the characters, and the event's writer, which threw.
TEST_F(TwoSmsXmlRequest, BodyThatIsNotUtf8IsRefusedSayingWhere) {
  auto raw = Body("<Extra>\xff</Extra>");
  Error bytes = UpdateError(raw);
  EXPECT_EQ(bytes.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bytes.message, "the request body is not UTF-8 text (at byte " +
                               std::to_string(raw.find('\xff')) + ")");
  Error reference = UpdateError(Body("<Notification>&#xD800;</Notification>"));
  EXPECT_EQ(reference.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reference.message,
            "the request body is not UTF-8 text (a character reference in <Notification>)");
  auto parameters = Body("");
  parameters.replace(parameters.find("application/json"), 16, "application/xml");
  parameters.replace(parameters.find(R"({"a":1})"), 7, "&lt;p a='&amp;#xDFFF;'/&gt;");
  Error inner = UpdateError(parameters);
  EXPECT_EQ(inner.field, "Parameters");
  EXPECT_NE(inner.message.find("not UTF-8"), std::string::npos) << inner.message;
}

TEST_F(TwoSmsXmlRequest, BodyNestedTooDeepOrWithTooManyElementsNamesTheLimit) {
  std::string deep;
  for (int i = 0; i <= xml::kMaxXmlDepth; ++i) deep += "<x>";
  for (int i = 0; i <= xml::kMaxXmlDepth; ++i) deep += "</x>";
  Error depth = UpdateError(Body("<Extra>" + deep + "</Extra>"));
  EXPECT_EQ(depth.code, ErrorCode::kTooLarge);
  EXPECT_NE(depth.message.find("deeper than the limit of " + std::to_string(xml::kMaxXmlDepth)),
            std::string::npos)
      << depth.message;
  std::string many;
  for (std::size_t i = 0; i < xml::kMaxXmlElements; ++i) many += "<y/>";
  Error count = UpdateError(Body("<Extra>" + many + "</Extra>"));
  EXPECT_EQ(count.code, ErrorCode::kTooLarge);
  EXPECT_NE(count.message.find("the limit is " + std::to_string(xml::kMaxXmlElements)),
            std::string::npos)
      << count.message;
}

TEST_F(TwoSmsXmlRequest, XmlParametersOverTheLimitsNameTheLimitAndTheField) {
  std::string deep;
  for (int i = 0; i <= xml::kMaxXmlDepth; ++i) deep += "&lt;x&gt;";
  for (int i = 0; i <= xml::kMaxXmlDepth; ++i) deep += "&lt;/x&gt;";
  std::string body = Body("");
  body.replace(body.find("application/json"), 16, "application/xml");
  body.replace(body.find(R"({"a":1})"), 7, deep);
  Error e = UpdateError(body);
  EXPECT_EQ(e.code, ErrorCode::kTooLarge);
  EXPECT_EQ(e.field, "Parameters");
  EXPECT_NE(e.message.find(std::to_string(xml::kMaxXmlDepth)), std::string::npos) << e.message;
}

TEST_F(TwoSmsXmlRequest, JsonBodyAndJsonParametersNestedTooDeepNameTheLimit) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  json body = {{"TaskID", "00000000-0000-0000-0000-000000000001"},
               {"Frequency", 0},
               {"Parameters", deep},
               {"ContentType", "application/json"}};
  auto r = decoder_->DecodeCreate(body.dump(), kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().field, "Parameters");
  EXPECT_NE(r.error().message.find(std::to_string(kMaxJsonDepth)), std::string::npos);
  body["Extra"] = json::parse(deep);
  body["Parameters"] = "{}";
  auto whole = decoder_->DecodeCreate(body.dump(), kNow);
  ASSERT_FALSE(whole.has_value());
  EXPECT_EQ(whole.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(whole.error().message.find("the request body nests JSON"), std::string::npos);
}

// ClientID (Conveyor's extension) is create-only: a task never changes its client.
TEST(TwoSmsSchemas, UpdateSchemaIsTheCreateSchemaPlusEnabledLessClientId) {
  auto create = json::parse(EmbeddedSchema("requests/twosms.account-task-create.json"));
  auto update = json::parse(EmbeddedSchema("requests/twosms.account-task-update.json"));
  EXPECT_EQ(update["required"], create["required"]);
  auto properties = update["properties"];
  ASSERT_TRUE(properties.contains("Enabled"));
  properties.erase("Enabled");
  auto created = create["properties"];
  ASSERT_TRUE(created.contains("ClientID"));
  created.erase("ClientID");
  EXPECT_EQ(properties, created);
}

}  // namespace
}  // namespace conveyor::twosms

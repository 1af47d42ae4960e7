// End to end (label: e2e) for authentication and tenant isolation: credentials in each
// dialect, tokens from POST /Token that expire, failed logins throttled, admin-only routes,
// clients that see only their own tasks, and the clients resource.
#include <pugixml.hpp>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kSleepType[] = "00000000-0000-0000-0000-000000000002";
constexpr char kUserId[] = "86cb791c-8078-41ae-a045-5dded04c9589";
constexpr char kTaskTypes[] = "/api/v1/admin/tasktypes";

class Auth : public testing::E2eTest {
 protected:
  httplib::Result Token(const std::string& form) {
    return Http("").Post("/Token", form, "application/x-www-form-urlencoded");
  }
  json Body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

  json SleepTask(double seconds) {
    return {{"TaskID", kSleepType},
            {"Frequency", 0},
            {"Parameters", json{{"seconds", seconds}, {"steps", static_cast<int>(seconds)}}.dump()},
            {"ContentType", "application/json"}};
  }

  std::string TaskNumber(const std::string& task_id) {
    pqxx::connection conn(db_.url());
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT number::text FROM tasks WHERE id = $1", task_id);
    return r.empty() ? "" : r[0][0].c_str();
  }
};

TEST_F(Auth, NoCredentialsIs401WithAChallengeInEachDialectsErrorBody) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto anonymous = Http("");
  EXPECT_EQ(anonymous.Get("/healthz")->status, 200);

  for (std::string path : {"/api/v2/admin/tasks/account/86cb791c-8078-41ae-a045-5dded04c9589",
                           "/api/v1/admin/tasktypes", "/api/v1/admin/clients", "/no/such/route"}) {
    auto r = anonymous.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_NE(r->get_header_value("WWW-Authenticate").find("Bearer realm=\"conveyor\""),
              std::string::npos)
        << path;
    auto j = Body(r);
    EXPECT_EQ(j["Error"]["ErrorCode"], "Unauthorized") << path << " " << r->body;
    EXPECT_TRUE(j["ResponseData"].is_null());
  }
  auto twosms =
      anonymous.Post("/api/v2/admin/tasks/account", SeedRequest().dump(), "application/json");
  ASSERT_TRUE(twosms);
  EXPECT_EQ(twosms->status, 401);
  EXPECT_EQ(Body(twosms)["Error"]["ErrorCode"], "Unauthorized");

  auto agent = anonymous.Post("/api/v1/Agents/Batch/GetBatchTaskInfo", R"({"Id": 1000})",
                              "application/json");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 401);
  EXPECT_FALSE(agent->get_header_value("WWW-Authenticate").empty());
  EXPECT_EQ(Body(agent)["ErrorType"], "unauthenticated") << agent->body;
  EXPECT_NE(Body(agent)["Error"].get<std::string>().find("no credentials"), std::string::npos);
  auto rest = anonymous.Get("/api/v1/BatchTask/1000");
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->status, 401);
  EXPECT_EQ(Body(rest)["ErrorType"], "unauthenticated") << rest->body;
  auto oracle = anonymous.Get("/services/rest/connect/v1.4/tasks");
  ASSERT_TRUE(oracle);
  EXPECT_EQ(oracle->status, 401);
  EXPECT_EQ(Body(oracle)["o:errorCode"], "OSC-CREST-00014") << oracle->body;
  EXPECT_EQ(Body(oracle)["status"], 401);

  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(Auth, BadCredentialsAre401AndGoodBasicWorks) {
  auto producer = StartProducer(testing::KafkaBrokers());
  for (const std::string& header :
       {std::string("Bearer not-a-token"), "Bearer " + admin_key_ + "x",
        BasicAuth(client_id_, "wrong secret"), BasicAuth(Uuid::Random().ToString(), "x"),
        std::string("Basic !!notbase64"), std::string("Digest username=\"x\"")}) {
    auto r = Http(header).Get("/api/v1/admin/tasktypes");
    ASSERT_TRUE(r) << header;
    EXPECT_EQ(r->status, 401) << header;
    EXPECT_NE(r->get_header_value("WWW-Authenticate").find("error=\"invalid_token\""),
              std::string::npos);
    EXPECT_EQ(Body(r)["Error"]["ErrorCode"], "Unauthorized") << r->body;
  }
  auto basic = Http(ClientAuth()).Get("/api/v1/admin/tasktypes");  // clients may read it
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 200) << basic->body;
  auto dot = admin_key_.find('.');  // an admin key is "<id>.<secret>"
  auto as_admin = Http(BasicAuth(admin_key_.substr(0, dot), admin_key_.substr(dot + 1)))
                      .Get("/api/v1/admin/clients");
  ASSERT_TRUE(as_admin);
  EXPECT_EQ(as_admin->status, 200) << as_admin->body;
}

TEST_F(Auth, FailedLoginsPastTheLimitAre429WithRetryAfterInEachDialectAndAtTheTokenEndpoint) {
  auto producer = StartProducer(testing::KafkaBrokers(), {"--login-failures-per-id=3"});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Http(BasicAuth(client_id_, "a wrong secret")).Get(kTaskTypes)->status, 401) << i;
  auto retry_after = [](const httplib::Result& r) {
    return std::atoi(r->get_header_value("Retry-After").c_str());
  };
  // Now even the right secret waits: the guesser cannot tell it from a wrong one.
  auto twosms = Http(ClientAuth()).Get(kTaskTypes);
  ASSERT_TRUE(twosms);
  EXPECT_EQ(twosms->status, 429) << twosms->body;
  EXPECT_GE(retry_after(twosms), 1);
  EXPECT_LE(retry_after(twosms), 20);
  EXPECT_EQ(Body(twosms)["Error"]["ErrorCode"], "TooManyRequests") << twosms->body;
  EXPECT_NE(Body(twosms)["Error"]["ErrorReason"].get<std::string>().find(
                "too many failed logins for this client id (the limit is 3 per 60 s)"),
            std::string::npos)
      << twosms->body;
  auto agent = Http(ClientAuth()).Get("/api/v1/BatchTask/1000");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 429) << agent->body;
  EXPECT_GE(retry_after(agent), 1);
  EXPECT_EQ(Body(agent)["ErrorType"], "rate_limited") << agent->body;
  auto oracle = Http(ClientAuth()).Get("/services/rest/connect/v1.4/tasks");
  ASSERT_TRUE(oracle);
  EXPECT_EQ(oracle->status, 429) << oracle->body;
  EXPECT_EQ(Body(oracle)["status"], 429) << oracle->body;
  auto token = Token("grant_type=client_credentials&client_id=" + client_id_ +
                     "&client_secret=e2e+client+secret");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->status, 429) << token->body;
  EXPECT_GE(retry_after(token), 1);
  EXPECT_EQ(Body(token)["error"], "temporarily_unavailable") << token->body;
  EXPECT_EQ(Http(AdminAuth()).Get(kTaskTypes)->status, 200) << "another credential still works";
}

TEST_F(Auth, ClientOnAnAdminRouteIs403) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto c = Http();
  auto types = c.Post("/api/v1/admin/tasktypes", json{{"Name", "x"}, {"Handler", "noop"}}.dump(),
                      "application/json");
  ASSERT_TRUE(types);
  EXPECT_EQ(types->status, 403);
  EXPECT_EQ(Body(types)["Error"]["ErrorCode"], "Forbidden");
  EXPECT_NE(Body(types)["Error"]["ErrorReason"].get<std::string>().find("admin key"),
            std::string::npos);
  EXPECT_EQ(c.Get("/api/v1/admin/clients")->status, 403);
  EXPECT_EQ(c.Get("/api/v1/admin/clients/" + client_id_)->status, 403);
  EXPECT_EQ(
      c.Post("/api/v1/admin/clients",
             json{{"Name", "x"}, {"Secret", "y"}, {"UserID", kUserId}}.dump(), "application/json")
          ->status,
      403);
}

TEST_F(Auth, TokenFromTheTokenEndpointWorksUntilItExpires) {
  auto producer = StartProducer(testing::KafkaBrokers(), {"--token-lifetime-seconds=3"});
  auto r = Token("grant_type=client_credentials&client_id=" + client_id_ +
                 "&client_secret=e2e+client+secret");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  auto token = Body(r);
  EXPECT_EQ(token["token_type"], "bearer");
  EXPECT_EQ(token["expires_in"], 3);
  std::string bearer = "Bearer " + token["access_token"].get<std::string>();
  EXPECT_EQ(Count("SELECT count(*) FROM access_tokens WHERE token_sha256 = encode(sha256('" +
                  token["access_token"].get<std::string>() + "'::bytea), 'hex')"),
            1);

  auto created = Post(SeedRequest(), bearer);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(Body(created)["ResponseData"]["Detail"]["ClientID"], client_id_);

  // The token stops working once it expires (the cache never outlives a token's expiry).
  int status = 0;
  std::string answer;
  EXPECT_TRUE(testing::PollUntil(
      [&] {
        auto r = Http(bearer).Get("/api/v1/admin/tasktypes");
        status = r ? r->status : 0;
        answer = r ? r->body : "";
        return status == 401;
      },
      30s));
  EXPECT_NE(json::parse(answer, nullptr, false)["Error"]["ErrorReason"].dump().find("expired"),
            std::string::npos)
      << answer;
}

TEST_F(Auth, TokenEndpointErrorsAreOAuthErrors) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto wrong =
      Token("grant_type=client_credentials&client_id=" + client_id_ + "&client_secret=nope");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(Body(wrong)["error"], "invalid_client");
  EXPECT_FALSE(wrong->get_header_value("WWW-Authenticate").empty());

  auto grant = Token("grant_type=password&username=a&password=b");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->status, 400);
  EXPECT_EQ(Body(grant)["error"], "unsupported_grant_type");

  auto missing = Token("grant_type=client_credentials&client_id=" + client_id_);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(Body(missing)["error"], "invalid_request");
  EXPECT_NE(Body(missing)["error_description"].get<std::string>().find("client_secret"),
            std::string::npos);

  auto as_json =
      Http("").Post("/Token", R"({"grant_type":"client_credentials"})", "application/json");
  ASSERT_TRUE(as_json);
  EXPECT_EQ(as_json->status, 400);
  EXPECT_EQ(Body(as_json)["error"], "invalid_request");

  // client_secret_basic (RFC 6749 §2.3.1) works too.
  auto basic =
      Http(ClientAuth())
          .Post("/Token", "grant_type=client_credentials", "application/x-www-form-urlencoded");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 200) << basic->body;
}

TEST_F(Auth, ClientCannotSeeOrStopAnotherClientsTaskAndAdminSeesBoth) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto worker = StartWorker("e2e-tenants");
  std::string b_id = CreateClient("client b", "client b secret 16");
  ASSERT_FALSE(b_id.empty());
  auto b = BasicAuth(b_id, "client b secret 16");

  auto a_task = CreateTask(SleepTask(30));
  auto b_task = CreateTask(SeedRequest(), b);
  ASSERT_FALSE(a_task.empty());
  ASSERT_FALSE(b_task.empty());
  ASSERT_TRUE(testing::PollUntil(
      [&] { return !TaskNumber(a_task).empty() && !TaskNumber(b_task).empty(); }, 60s))
      << worker->Log();
  auto a_number = std::stoll(TaskNumber(a_task));

  // TwoSms: another client's task answers as a missing one.
  auto missing_id = Uuid::Random().ToString();
  auto as_b = GetTask(a_task, b);
  auto missing = GetTask(missing_id, b);
  EXPECT_EQ(as_b["Error"]["ErrorCode"], "NotFound") << as_b.dump();
  EXPECT_EQ(as_b["Error"]["ErrorCode"], missing["Error"]["ErrorCode"]);
  auto reason = as_b["Error"]["ErrorReason"].get<std::string>();
  auto missing_reason = missing["Error"]["ErrorReason"].get<std::string>();
  EXPECT_EQ(reason.replace(reason.find(a_task), a_task.size(), missing_id), missing_reason);
  EXPECT_EQ(Http(b).Get("/api/v2/admin/tasks/account/" + a_task)->status, 404);

  // SuperOffice agents: 200 null, StopBatchJob false; REST: 404.
  auto bc = Http(b);
  auto info = bc.Post("/api/v1/Agents/Batch/GetBatchTaskInfo", json{{"Id", a_number}}.dump(),
                      "application/json");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  EXPECT_EQ(info->body, "null");
  auto stop = bc.Post("/api/v1/Agents/Batch/StopBatchJob", json{{"Id", a_number}}.dump(),
                      "application/json");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  EXPECT_EQ(stop->body, "false");
  EXPECT_EQ(bc.Get("/api/v1/BatchTask/" + std::to_string(a_number))->status, 404);
  EXPECT_EQ(
      bc.Post("/api/v1/BatchTask/" + std::to_string(a_number) + "/Stop", "", "application/json")
          ->status,
      404);

  // A's own view, and the admin's view of both.
  EXPECT_EQ(GetTask(a_task)["ResponseData"]["Detail"]["ClientID"], client_id_);
  EXPECT_EQ(GetTask(a_task, AdminAuth())["ResponseData"]["Detail"]["ClientID"], client_id_);
  EXPECT_EQ(GetTask(b_task, AdminAuth())["ResponseData"]["Detail"]["ClientID"], b_id);
  auto admin_info = Http(AdminAuth())
                        .Post("/api/v1/Agents/Batch/GetBatchTaskInfo",
                              json{{"Id", a_number}}.dump(), "application/json");
  ASSERT_TRUE(admin_info);
  EXPECT_EQ(Body(admin_info)["Id"], a_number);

  // B's stop changed nothing; A's own stop stops it.
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE task_id = '" + a_task +
                  "' AND cancel_requested_at IS NOT NULL"),
            0);
  ASSERT_EQ(WaitForStatus(a_task, "Running"), "Running") << worker->Log();
  auto own = Http().Post("/api/v1/Agents/Batch/StopBatchJob", json{{"Id", a_number}}.dump(),
                         "application/json");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->body, "true");
  EXPECT_EQ(WaitForStatus(a_task, "Cancelled"), "Cancelled") << worker->Log();
}

TEST_F(Auth, AdminMustNameAnExistingClientAndClientsCreateOnlyForThemselves) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto body = SeedRequest();
  auto none = Post(body, AdminAuth());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  EXPECT_EQ(Body(none)["Error"]["ErrorCode"], "InvalidRequest");
  EXPECT_TRUE(Body(none)["Error"]["ErrorReason"].get<std::string>().starts_with(
      "ClientID: is required when an admin key creates a task"))
      << none->body;

  auto ghost = Uuid::Random().ToString();
  body["ClientID"] = ghost;
  auto unknown = Post(body, AdminAuth());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(Body(unknown)["Error"]["ErrorReason"],
            "ClientID: no client " + ghost +
                " exists; a client must be created first (POST api/v1/admin/clients)");

  body["ClientID"] = "not a guid";
  auto malformed = Post(body, AdminAuth());
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_NE(Body(malformed)["Error"]["ErrorReason"].get<std::string>().find("ClientID"),
            std::string::npos);

  auto other = SeedRequest();
  other["ClientID"] = CreateClient("other", "the other client secret");
  auto foreign = Post(other);  // as the e2e client
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 400);
  EXPECT_TRUE(Body(foreign)["Error"]["ErrorReason"].get<std::string>().starts_with(
      "ClientID: names another client"));

  body["ClientID"] = client_id_;
  auto ok = Post(body, AdminAuth());
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  auto detail = Body(ok)["ResponseData"]["Detail"];
  EXPECT_EQ(detail["ClientID"], client_id_);
  auto admin_id = admin_key_.substr(0, admin_key_.find('.'));
  EXPECT_EQ(detail["LastModifiedBy"], "admin:" + admin_id);

  // The command event carries the caller's identity; only the good request reached Kafka.
  testing::TopicReader reader(commands_);
  auto all = reader.ReadUntil([](auto& m) { return !m.empty(); }, 30s);
  ASSERT_EQ(all.size(), 1u);
  auto event = CloudEvent::Parse(all[0].value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->data["created_by"], "admin:" + admin_id);
  EXPECT_EQ(event->data["client_id"], client_id_);
}

TEST_F(Auth, ClientsAreCreatedWithTheirSecretShownOnceAndValidated) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto admin = Http(AdminAuth());
  auto post = [&](const json& body) {
    return admin.Post("/api/v1/admin/clients", body.dump(), "application/json");
  };
  json good = {{"Name", "acme"}, {"Secret", "acme client secret"}, {"UserID", kUserId}};
  auto created = post(good);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;
  auto detail = Body(created)["ResponseData"]["Detail"];
  EXPECT_EQ(detail["Name"], "acme");
  EXPECT_EQ(detail["Secret"], "acme client secret");
  EXPECT_EQ(detail["UserID"], kUserId);
  std::string id = detail["ID"];
  EXPECT_EQ(Count("SELECT count(*) FROM clients WHERE secret_hash LIKE '%acme client secret%'"), 0);

  auto one = admin.Get("/api/v1/admin/clients/" + id);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(Body(one)["ResponseData"]["Detail"]["Name"], "acme");
  EXPECT_FALSE(Body(one)["ResponseData"]["Detail"].contains("Secret"));
  auto list = admin.Get("/api/v1/admin/clients");
  ASSERT_TRUE(list);
  auto names = json::array();
  auto listed = Body(list);
  for (const auto& c : listed["ResponseData"]["Detail"]) {
    names.push_back(c["Name"]);
    EXPECT_FALSE(c.contains("Secret"));
  }
  EXPECT_EQ(names, json({"e2e", "acme"})) << list->body;
  EXPECT_EQ(admin.Get("/api/v1/admin/clients/" + Uuid::Random().ToString())->status, 404);

  // The new client's credentials work at once.
  EXPECT_EQ(Http(BasicAuth(id, "acme client secret")).Get("/api/v1/admin/tasktypes")->status, 200);

  auto reason = [&](json body) {
    auto r = post(body);
    EXPECT_TRUE(r && r->status == 400) << (r ? r->body : "");
    return r ? Body(r)["Error"]["ErrorReason"].get<std::string>() : "";
  };
  auto long_name = good;
  long_name["Name"] = std::string(19, 'n');
  auto why = reason(long_name);
  EXPECT_TRUE(why.starts_with("Name: ")) << why;
  EXPECT_NE(why.find("18"), std::string::npos) << why;
  auto long_secret = good;
  long_secret["Secret"] = std::string(51, 's');
  why = reason(long_secret);
  EXPECT_TRUE(why.starts_with("Secret: ")) << why;
  EXPECT_NE(why.find("50"), std::string::npos) << why;
  auto short_secret = good;
  short_secret["Secret"] = std::string(15, 's');
  why = reason(short_secret);
  EXPECT_TRUE(why.starts_with("Secret: ")) << why;
  EXPECT_NE(why.find("16"), std::string::npos) << why;
  auto no_user = good;
  no_user.erase("UserID");
  EXPECT_EQ(reason(no_user), "UserID: is required");
  auto bad_user = good;
  bad_user["UserID"] = "someone";
  EXPECT_TRUE(reason(bad_user).starts_with("UserID: "));
  EXPECT_EQ(Count("SELECT count(*) FROM clients"), 2);
}

TEST_F(Auth, ClientsResourceSpeaksXmlAsTwoSmsDoes) {
  auto producer = StartProducer(testing::KafkaBrokers());
  auto admin = Http(AdminAuth());
  const std::string body =
      R"(<ClientRequest xmlns:xsd="http://www.w3.org/2001/XMLSchema" )"
      R"(xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Name>acme xml</Name>)"
      R"(<Secret>acme xml client secret</Secret><UserID>)" +
      std::string(kUserId) + "</UserID></ClientRequest>";
  auto created = admin.Post("/api/v1/admin/clients", body, "application/xml");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(created->get_header_value("Content-Type"), "application/xml; charset=utf-8");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(created->body.c_str())) << created->body;
  auto root = doc.document_element();
  EXPECT_STREQ(root.name(), "ResponseOfClientResponse");
  auto detail = root.child("ResponseData").child("Detail");
  std::vector<std::string> names;
  for (auto child : detail.children()) names.push_back(child.name());
  EXPECT_EQ(names, (std::vector<std::string>{"ID", "Name", "Secret", "UserID", "AccountID",
                                             "DateCreated", "Enabled"}));
  EXPECT_STREQ(detail.child("Name").text().get(), "acme xml");
  EXPECT_STREQ(detail.child("Secret").text().get(), "acme xml client secret");
  EXPECT_STREQ(detail.child("AccountID").attribute("xsi:nil").value(), "true");
  std::string id = detail.child("ID").text().get();
  EXPECT_EQ(Http(BasicAuth(id, "acme xml client secret")).Get("/api/v1/admin/tasktypes")->status,
            200);

  // Read back as XML: no Secret.
  auto one = admin.Get("/api/v1/admin/clients/" + id, {{"Accept", "text/xml"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(one->body.find("Secret"), std::string::npos) << one->body;

  // A bad XML body is refused in XML, naming the field and the limit.
  auto too_long =
      admin.Post("/api/v1/admin/clients",
                 "<ClientRequest><Name>" + std::string(19, 'n') +
                     "</Name><Secret>s</Secret><UserID>" + kUserId + "</UserID></ClientRequest>",
                 "text/xml");
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->status, 400);
  pugi::xml_document error;
  ASSERT_TRUE(error.load_string(too_long->body.c_str())) << too_long->body;
  std::string reason = error.document_element().child("Error").child("ErrorReason").text().get();
  EXPECT_TRUE(reason.starts_with("Name: ")) << reason;
  EXPECT_NE(reason.find("18"), std::string::npos) << reason;
  EXPECT_EQ(admin.Post("/api/v1/admin/clients", "Name=x", "text/plain")->status, 415);
}

TEST_F(Auth, ATaskTypeGrantedToOneClientIsInvisibleAndUnusableToAnother) {
  auto producer = StartProducer(testing::KafkaBrokers());
  std::string b_id = CreateClient("client b", "client b secret 16");
  auto b = BasicAuth(b_id, "client b secret 16");
  auto registered = Http(AdminAuth())
                        .Post(kTaskTypes,
                              json{{"Name", "for-a-only"},
                                   {"Handler", "noop"},
                                   {"Clients", json::array({client_id_})}}
                                  .dump(),
                              "application/json");
  ASSERT_TRUE(registered && registered->status == 200) << (registered ? registered->body : "");
  auto type = Body(registered)["ResponseData"]["Detail"];
  EXPECT_EQ(type["Clients"], json::array({client_id_}));
  auto names_seen_by = [&](const std::string& auth) {
    std::vector<std::string> names;
    auto body = Body(Http(auth).Get(kTaskTypes));
    for (const auto& t : body["ResponseData"]["Detail"]) names.push_back(t["Name"]);
    return names;
  };
  auto seen_by_b = names_seen_by(b);
  EXPECT_EQ(std::count(seen_by_b.begin(), seen_by_b.end(), "for-a-only"), 0);
  auto seen_by_a = names_seen_by(ClientAuth());
  EXPECT_EQ(std::count(seen_by_a.begin(), seen_by_a.end(), "for-a-only"), 1);
  EXPECT_FALSE(
      Body(Http(ClientAuth()).Get(kTaskTypes))["ResponseData"]["Detail"][0].contains("Clients"))
      << "a client learns no other client's id";

  auto task = SeedRequest();
  task["TaskID"] = type["ID"];
  auto by_b = Post(task, b);
  ASSERT_TRUE(by_b);
  EXPECT_EQ(by_b->status, 400) << by_b->body;
  EXPECT_NE(by_b->body.find("is not a registered task type"), std::string::npos) << by_b->body;
  auto agent_b = Http(b).Post("/api/v1/Agents/Batch/StartBatchJob",
                              R"({"BatchTaskInfo":{"Name":"for-a-only"}})", "application/json");
  ASSERT_TRUE(agent_b);
  EXPECT_EQ(agent_b->status, 400) << agent_b->body;
  EXPECT_EQ(agent_b->body.find("for-a-only\","), std::string::npos);
  auto by_a = Post(task);
  ASSERT_TRUE(by_a);
  EXPECT_EQ(by_a->status, 200) << by_a->body;

  auto unknown_client =
      Http(AdminAuth())
          .Post(
              kTaskTypes,
              json{{"Name", "for-nobody"}, {"Handler", "noop"}, {"Clients", json::array({kUserId})}}
                  .dump(),
              "application/json");
  ASSERT_TRUE(unknown_client);
  EXPECT_EQ(unknown_client->status, 400) << unknown_client->body;
  EXPECT_NE(unknown_client->body.find("Clients/0"), std::string::npos) << unknown_client->body;
}

// Two producers, each with its credential cache: a change made through one is honoured by the
// other at once, long before its --auth-cache-seconds would have run out.
class CredentialChanges : public Auth {
 protected:
  void SetUp() override {
    Auth::SetUp();
    a_ = StartProducer(testing::KafkaBrokers(), {"--auth-cache-seconds=3600"});
    port_a_ = port_;
    b_ = StartProducer(testing::KafkaBrokers(), {"--auth-cache-seconds=3600"});
    port_b_ = port_;
  }
  int Status(int port, const std::string& authorization) {
    port_ = port;
    auto r = Http(authorization).Get(kTaskTypes);
    return r ? r->status : 0;
  }
  // Whether producer B answers `authorization` with `status` within two seconds.
  bool BSoonAnswers(const std::string& authorization, int status) {
    return testing::PollUntil([&] { return Status(port_b_, authorization) == status; }, 2s, 20ms);
  }
  httplib::Result ChangeClient(const json& body) {
    port_ = port_a_;
    return Http(AdminAuth())
        .Put("/api/v1/admin/clients/" + client_id_, body.dump(), "application/json");
  }

  std::unique_ptr<testing::ChildProcess> a_, b_;
  int port_a_ = 0, port_b_ = 0;
};

TEST_F(CredentialChanges, DisablingANewSecretAndDeletionThroughOneProducerStopTheOtherAtOnce) {
  std::string old_basic = ClientAuth();
  ASSERT_EQ(Status(port_b_, old_basic), 200);  // B remembers it for an hour now
  auto disabled = ChangeClient({{"Enabled", false}});
  ASSERT_TRUE(disabled && disabled->status == 200) << (disabled ? disabled->body : "");
  EXPECT_EQ(Body(disabled)["ResponseData"]["Detail"]["Enabled"], false);
  EXPECT_FALSE(Body(disabled)["ResponseData"]["Detail"].contains("Secret"));
  EXPECT_TRUE(BSoonAnswers(old_basic, 401));
  ASSERT_EQ(ChangeClient({{"Enabled", true}})->status, 200);
  EXPECT_TRUE(BSoonAnswers(old_basic, 200));

  auto rotated = ChangeClient({{"Secret", "the second secret of e2e"}, {"Name", "renamed"}});
  ASSERT_TRUE(rotated && rotated->status == 200) << (rotated ? rotated->body : "");
  EXPECT_EQ(Body(rotated)["ResponseData"]["Detail"]["Secret"], "the second secret of e2e");
  EXPECT_EQ(Body(rotated)["ResponseData"]["Detail"]["Name"], "renamed");
  EXPECT_TRUE(BSoonAnswers(old_basic, 401));
  auto new_basic = BasicAuth(client_id_, "the second secret of e2e");
  EXPECT_EQ(Status(port_b_, new_basic), 200);

  port_ = port_a_;
  auto deleted = Http(AdminAuth()).Delete("/api/v1/admin/clients/" + client_id_);
  ASSERT_TRUE(deleted && deleted->status == 200) << (deleted ? deleted->body : "");
  EXPECT_TRUE(BSoonAnswers(new_basic, 401));
  port_ = port_b_;
  EXPECT_EQ(Http(AdminAuth()).Get("/api/v1/admin/clients/" + client_id_)->status, 404);
  EXPECT_EQ(Http(AdminAuth()).Delete("/api/v1/admin/clients/" + client_id_)->status, 404);
}

TEST_F(CredentialChanges, AChangeNeedsAFieldAndAValidSecretAndClientsMayNotMakeIt) {
  auto none = ChangeClient(json::object());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  EXPECT_NE(Body(none)["Error"]["ErrorReason"].get<std::string>().find(
                "give at least one of Name, Secret and Enabled"),
            std::string::npos)
      << none->body;
  auto short_secret = ChangeClient({{"Secret", "too short"}});
  ASSERT_TRUE(short_secret);
  EXPECT_EQ(short_secret->status, 400);
  EXPECT_EQ(Body(short_secret)["Error"]["ErrorReason"].get<std::string>().rfind("Secret: ", 0), 0u)
      << short_secret->body;
  port_ = port_a_;
  auto by_client = Http(ClientAuth())
                       .Put("/api/v1/admin/clients/" + client_id_, json{{"Enabled", false}}.dump(),
                            "application/json");
  ASSERT_TRUE(by_client);
  EXPECT_EQ(by_client->status, 403);
  EXPECT_EQ(Status(port_b_, ClientAuth()), 200);
}

TEST_F(CredentialChanges, ARevokedTokenStopsAtOnceOnTheOtherProducer) {
  port_ = port_a_;
  auto issued = Token("grant_type=client_credentials&client_id=" + client_id_ +
                      "&client_secret=e2e+client+secret");
  ASSERT_TRUE(issued && issued->status == 200) << (issued ? issued->body : "");
  std::string token = Body(issued)["access_token"];
  ASSERT_EQ(Status(port_b_, "Bearer " + token), 200);
  port_ = port_a_;
  auto no_secret = Http("").Post("/revoke", "token=" + token, "application/x-www-form-urlencoded");
  ASSERT_TRUE(no_secret);
  EXPECT_EQ(no_secret->status, 400) << no_secret->body;
  EXPECT_EQ(Body(no_secret)["error"], "invalid_request");
  auto revoked = Http(ClientAuth())
                     .Post("/revoke", "token=" + token + "&token_type_hint=access_token",
                           "application/x-www-form-urlencoded");
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(revoked->get_header_value("Cache-Control"), "no-store");
  EXPECT_TRUE(BSoonAnswers("Bearer " + token, 401));
  auto again =
      Http(ClientAuth()).Post("/revoke", "token=" + token, "application/x-www-form-urlencoded");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << "RFC 7009: the same answer for a token revoked already";
  EXPECT_EQ(Status(port_b_, ClientAuth()), 200) << "the client's secret still works";
}

}  // namespace
}  // namespace conveyor

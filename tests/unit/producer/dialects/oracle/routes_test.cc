// Oracle's routes on the in-memory producer (tests/support/producer_on_fakes.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/producer_on_fakes.h"

namespace conveyor {
namespace {

using nlohmann::json;
using testing::ProducerOnFakes;

constexpr char kTasks[] = "/services/rest/connect/v1.4/tasks";

// A Host header is the client's to choose: reflected into Location and links, it would let
// a request plant links to any site in answers that others read (a cache, a log, a UI).
TEST(OracleRoutes, LinksAndLocationStartWithThePublicBaseUrlWhateverTheHostHeaderSays) {
  ProducerOnFakes producer;
  auto created = producer.Send("POST", kTasks, ProducerOnFakes::kClientAuthorization,
                               json{{"name", "linked"}}.dump(), {{"Host", "evil.example:666"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto body = json::parse(created.body);
  auto self = std::string(ProducerOnFakes::kPublicBaseUrl) + kTasks + "/" +
              std::to_string(body["id"].get<std::int64_t>());
  EXPECT_EQ(created.Header("Location"), self);
  EXPECT_EQ(body["links"][0]["href"], self);
  EXPECT_EQ(created.body.find("evil.example"), std::string::npos) << created.body;

  auto missing =
      producer.Send("GET", std::string(kTasks) + "/999999", ProducerOnFakes::kClientAuthorization,
                    {}, {{"Host", "evil.example:666"}});
  ASSERT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(missing.body.find("evil.example"), std::string::npos) << missing.body;
  EXPECT_EQ(json::parse(missing.body)["instance"],
            std::string(ProducerOnFakes::kPublicBaseUrl) + kTasks + "/999999");
}

}  // namespace
}  // namespace conveyor

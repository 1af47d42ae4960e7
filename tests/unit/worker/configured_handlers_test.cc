#include "src/configured_handlers.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace conveyor {
namespace {

class ConfiguredHandlers : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/conveyor-configured-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  WorkerConfig Config(const std::string& folder) {
    auto c = ParseWorkerConfig(R"({"handlers": {
      "resize": {"kind": "exec", "command": ["/bin/true"], "concurrency": 2},
      "purge": {"kind": "sql", "statement": "SELECT 1"},
      "report": {"kind": "export", "query": "SELECT 1", "folder": ")" +
                                   folder + R"(", "concurrency": 1}}})",
                               "test.json");
    EXPECT_TRUE(c.has_value()) << c.error().message;
    return c.value_or(WorkerConfig{});
  }

  std::string dir_;
};

TEST_F(ConfiguredHandlers, EachHandlerIsRegisteredBesideTheBuiltinsWithItsConcurrencyLimit) {
  auto registry = HandlerRegistry::WithBuiltins();
  std::map<std::string, std::size_t> limits;
  auto s = AddConfiguredHandlers(Config(dir_ + "/exports"), "postgresql://x", registry, limits);
  ASSERT_TRUE(s.has_value()) << s.error().Describe();
  for (auto name : {"noop", "sleep", "resize", "purge", "report"})
    EXPECT_NE(registry.Find(name), nullptr) << name;
  EXPECT_EQ(limits, (std::map<std::string, std::size_t>{{"resize", 2}, {"report", 1}}));
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/exports"));  // created
}

TEST_F(ConfiguredHandlers, HandlerLimitFlagWinsOverTheFile) {
  auto registry = HandlerRegistry::WithBuiltins();
  std::map<std::string, std::size_t> limits = {{"resize", 7}};
  ASSERT_TRUE(AddConfiguredHandlers(Config(dir_), "", registry, limits).has_value());
  EXPECT_EQ(limits.at("resize"), 7u);
}

TEST_F(ConfiguredHandlers, ExportFolderThatCannotBeCreatedIsNamed) {
  auto registry = HandlerRegistry::WithBuiltins();
  std::map<std::string, std::size_t> limits;
  std::filesystem::path file = dir_ + "/a-file";
  { std::ofstream(file) << "x"; }
  auto s = AddConfiguredHandlers(Config(file.string() + "/exports"), "", registry, limits);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "/handlers/report/folder");
  EXPECT_NE(s.error().message.find("cannot create the export folder"), std::string::npos)
      << s.error().message;
}

TEST_F(ConfiguredHandlers, AnExecUserThatDoesNotExistStopsTheWorkerNamingIt) {
  auto registry = HandlerRegistry::WithBuiltins();
  std::map<std::string, std::size_t> limits;
  auto c = ParseWorkerConfig(R"({"handlers": {"resize": {"kind": "exec", "command": ["/bin/true"],
                                 "user": "conveyor-no-such-user"}}})",
                             "test.json");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto s = AddConfiguredHandlers(*c, "", registry, limits);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "/handlers/resize/user");
  EXPECT_EQ(s.error().message,
            "handler resize: user 'conveyor-no-such-user' does not exist on this machine");
}

}  // namespace
}  // namespace conveyor

#include "src/worker_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "support/files.h"

namespace conveyor {
namespace {

Result<WorkerConfig> Parse(const std::string& text) { return ParseWorkerConfig(text, "w.json"); }

// The error's field and that its message names the file, the field and the problem.
void ExpectError(const std::string& text, const std::string& field, const std::string& why) {
  auto c = Parse(text);
  ASSERT_FALSE(c.has_value()) << text;
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().field, field) << c.error().message;
  EXPECT_TRUE(c.error().message.starts_with("w.json: ")) << c.error().message;
  if (!field.empty()) {
    EXPECT_NE(c.error().message.find("at " + field + ": "), std::string::npos) << c.error().message;
  }
  EXPECT_NE(c.error().message.find(why), std::string::npos) << c.error().message;
}

TEST(WorkerConfig, FullExampleLoadsEveryKindWithItsSettings) {
  setenv("CONVEYOR_TEST_REPORTS_URL", "postgresql://reports@127.0.0.1/reports", 1);
  auto c = Parse(R"({"handlers": {
    "resize": {"kind": "exec", "command": ["/usr/bin/python3", "/opt/resize.py", "--fast"],
               "environment": {"IMAGE_ROOT": "/srv/images"}, "working_directory": "/srv",
               "grace_ms": 2500, "log_limit_bytes": 1000, "concurrency": 2,
               "timeout_ms": 60000, "user": "conveyor-jobs",
               "limits": {"cpu_seconds": 30, "memory_bytes": 2147483648, "open_files": 256,
                          "processes": 64}},
    "purge": {"kind": "sql", "statement": "DELETE FROM t WHERE day < $1", "parameters": ["before"]},
    "report": {"kind": "export", "query": "SELECT 1", "parameters": ["a", "b"],
               "folder": "/var/lib/conveyor/exports", "pg_url_env": "CONVEYOR_TEST_REPORTS_URL"}}})");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->handlers.size(), 3u);
  const auto& resize = c->handlers.at("resize");
  EXPECT_EQ(resize.concurrency, 2u);
  const auto& e = std::get<ExecHandlerSettings>(resize.kind);
  EXPECT_EQ(e.command, (std::vector<std::string>{"/usr/bin/python3", "/opt/resize.py", "--fast"}));
  EXPECT_EQ(e.environment.at("IMAGE_ROOT"), "/srv/images");
  EXPECT_EQ(e.working_directory, "/srv");
  EXPECT_EQ(e.grace, std::chrono::milliseconds(2500));
  EXPECT_EQ(e.log_limit_bytes, 1000u);
  EXPECT_EQ(e.timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(e.user, "conveyor-jobs");
  EXPECT_EQ(e.limits.cpu_seconds, 30u);
  EXPECT_EQ(e.limits.memory_bytes, 2147483648u);
  EXPECT_EQ(e.limits.open_files, 256u);
  EXPECT_EQ(e.limits.processes, 64u);
  const auto& s = std::get<SqlHandlerSettings>(c->handlers.at("purge").kind);
  EXPECT_EQ(s.statement, "DELETE FROM t WHERE day < $1");
  EXPECT_EQ(s.parameters, std::vector<std::string>{"before"});
  EXPECT_EQ(s.pg_url, "");
  EXPECT_EQ(c->handlers.at("purge").concurrency, 0u);
  const auto& x = std::get<ExportHandlerSettings>(c->handlers.at("report").kind);
  EXPECT_EQ(x.folder, "/var/lib/conveyor/exports");
  EXPECT_EQ(x.pg_url, "postgresql://reports@127.0.0.1/reports");
  EXPECT_EQ(x.parameters, (std::vector<std::string>{"a", "b"}));
}

TEST(WorkerConfig, ExecDefaultsAreTenSecondsGraceSixtyFourKibOfLogAndAnHourOfTimeout) {
  auto c = Parse(R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"]}}})");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& e = std::get<ExecHandlerSettings>(c->handlers.at("x").kind);
  EXPECT_EQ(e.grace, std::chrono::milliseconds(10000));
  EXPECT_EQ(e.log_limit_bytes, 65536u);
  EXPECT_TRUE(e.working_directory.empty());
  EXPECT_EQ(e.timeout, std::chrono::hours(1));
  EXPECT_TRUE(e.user.empty());
  EXPECT_FALSE(e.limits.cpu_seconds || e.limits.memory_bytes || e.limits.open_files ||
               e.limits.processes);
}

TEST(WorkerConfig, LimitsOutOfRangeOrUnknownAreNamed) {
  ExpectError(
      R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"], "limits": {"cpu_seconds": 0}}}})",
      "/handlers/x/limits/cpu_seconds", "greater than or equal");
  ExpectError(
      R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"], "limits": {"stack": 1}}}})",
      "/handlers/x/limits", "stack");
  ExpectError(R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"], "timeout_ms": 0}}})",
              "/handlers/x/timeout_ms", "greater than or equal");
}

TEST(WorkerConfig, EmptyDocumentOffersNoHandlers) {
  auto c = Parse("{}");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->handlers.empty());
}

TEST(WorkerConfig, ExampleConfigOfTheRepositoryLoads) {
  auto c = Parse(testing::ReadRepoFile("examples/worker-config.json"));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->handlers.contains("count-primes"));
}

TEST(WorkerConfig, NotJsonSaysWhere) {
  ExpectError(R"({"handlers": )", "", "not valid JSON");
  ExpectError(R"({"handlers": )", "", "line 1");
}

TEST(WorkerConfig, MissingRequiredSettingNamesTheHandler) {
  ExpectError(R"({"handlers": {"resize": {"kind": "exec"}}})", "/handlers/resize", "'command'");
  ExpectError(R"({"handlers": {"purge": {"kind": "sql"}}})", "/handlers/purge", "'statement'");
  ExpectError(R"({"handlers": {"r": {"kind": "export", "query": "SELECT 1"}}})", "/handlers/r",
              "'folder'");
}

TEST(WorkerConfig, UnknownKindIsNamed) {
  ExpectError(R"({"handlers": {"x": {"kind": "shell", "command": ["/bin/sh"]}}})",
              "/handlers/x/kind", "enum");
}

TEST(WorkerConfig, WrongTypeOrRangeNamesTheField) {
  ExpectError(R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"], "grace_ms": -1}}})",
              "/handlers/x/grace_ms", "greater than or equal");
  ExpectError(R"({"handlers": {"x": {"kind": "sql", "statement": 7}}})", "/handlers/x/statement",
              "type");
  ExpectError(
      R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"], "concurrency": 5000}}})",
      "/handlers/x/concurrency", "less than or equal");
}

TEST(WorkerConfig, SettingOfAnotherKindIsRefused) {
  ExpectError(R"({"handlers": {"x": {"kind": "sql", "statement": "SELECT 1", "folder": "/tmp"}}})",
              "/handlers/x", "'folder'");
}

TEST(WorkerConfig, RelativeProgramIsRefused) {
  ExpectError(R"({"handlers": {"x": {"kind": "exec", "command": ["python3", "a.py"]}}})",
              "/handlers/x/command/0", "absolute path");
}

TEST(WorkerConfig, RelativeFoldersAreRefused) {
  ExpectError(R"({"handlers": {"x": {"kind": "export", "query": "q", "folder": "exports"}}})",
              "/handlers/x/folder", "absolute path");
  ExpectError(
      R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"], "working_directory": "a"}}})",
      "/handlers/x/working_directory", "absolute path");
}

TEST(WorkerConfig, BuiltinNamesCannotBeRedefined) {
  ExpectError(R"({"handlers": {"sleep": {"kind": "exec", "command": ["/bin/sleep", "1"]}}})",
              "/handlers/sleep", "built-in");
}

TEST(WorkerConfig, HandlerNameTaskTypesCannotReferToIsRefused) {
  ExpectError(R"({"handlers": {"Resize Images": {"kind": "exec", "command": ["/bin/true"]}}})",
              "/handlers/Resize Images", "handler name");
}

TEST(WorkerConfig, ReservedEnvironmentVariableIsRefused) {
  ExpectError(
      R"({"handlers": {"x": {"kind": "exec", "command": ["/bin/true"],
                             "environment": {"CONVEYOR_TASK_ID": "forged"}}}})",
      "/handlers/x/environment/CONVEYOR_TASK_ID", "set by the worker");
}

TEST(WorkerConfig, UnsetPgUrlVariableIsNamed) {
  unsetenv("CONVEYOR_TEST_UNSET_URL");
  ExpectError(
      R"({"handlers": {"x": {"kind": "sql", "statement": "q", "pg_url_env": "CONVEYOR_TEST_UNSET_URL"}}})",
      "/handlers/x/pg_url_env", "CONVEYOR_TEST_UNSET_URL is not set");
}

TEST(WorkerConfig, UnknownTopLevelSettingIsRefused) {
  ExpectError(R"({"handler": {}})", "", "'handler'");
}

TEST(WorkerConfig, UnreadableFileNamesTheFile) {
  auto c = LoadWorkerConfig("/nonexistent/conveyor-worker.json");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("/nonexistent/conveyor-worker.json: cannot read"),
            std::string::npos)
      << c.error().message;
}

TEST(WorkerConfig, ParametersFromTheRecordAreTheThreeAtNamesAndNoOther) {
  auto c = Parse(R"({"handlers": {"purge": {"kind": "sql", "statement": "q",
      "parameters": ["before", "@client_id", "@task_id", "@task_number"]}}})");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ExpectError(
      R"({"handlers": {"x": {"kind": "sql", "statement": "q", "parameters": ["@tenant"]}}})",
      "/handlers/x/parameters/0", "");
}

}  // namespace
}  // namespace conveyor

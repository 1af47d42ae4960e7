// The export handler against a real PostgreSQL database, writing real files (label:
// integration).
#include "src/export_handler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "support/services.h"

namespace conveyor {
namespace {

// Records progress; optionally cancels the token once rows have been written.
class ProgressLog final : public ProgressReporter {
 public:
  void Report(int percent, std::string description) override {
    std::lock_guard lock(mu_);
    steps.emplace_back(percent, std::move(description));
    if (cancel_after_rows && percent > 0 && percent < 100)
      cancel_after_rows->Cancel(CancelReason::kStopRequested);
  }
  std::mutex mu_;
  std::vector<std::pair<int, std::string>> steps;
  CancellationToken* cancel_after_rows = nullptr;
};

class ExportHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/conveyor-export-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    folder_ = dir;
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric);"
        "INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 2500) g;"
        "UPDATE items SET name = 'comma, \"quoted\"' || chr(10) || 'line' WHERE id = 1;"
        "UPDATE items SET name = NULL WHERE id = 2;"
        "UPDATE items SET name = '' WHERE id = 3;");
    tx.commit();
    task_.id = Uuid::Random();
    task_.number = 31;
    task_.content_type = "application/json";
    task_.parameters = R"({"from": 1})";
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  HandlerResult Run(ExportHandler& handler) {
    HandlerContext context{
        task_, run_id_, 1, 1, progress_, token_, std::chrono::steady_clock::time_point::max()};
    return handler.Run(context);
  }

  std::vector<std::string> Files() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(folder_))
      names.push_back(e.path().filename().string());
    return names;
  }

  ExportHandlerSettings Settings() {
    return {"SELECT id, name, price FROM items WHERE id >= $1::int ORDER BY id;",
            {"from"},
            folder_,
            ""};
  }

  testing::ScratchDatabase db_;
  std::string folder_;
  Task task_;
  Uuid run_id_ = Uuid::Random();
  ProgressLog progress_;
  CancellationToken token_;
};

TEST_F(ExportHandlerTest, WritesRfc4180CsvWithHeaderUnderItsFinalNameAndReportsProgressByRows) {
  ExportHandler handler("items", Settings(), db_.url());
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::string name = "31-" + run_id_.ToString() + ".csv";
  EXPECT_EQ(r->file_name, name);
  EXPECT_EQ(r->result, "2500 rows written to " + name);
  EXPECT_EQ(Files(), std::vector<std::string>{name});  // no temporary file left

  std::ifstream in(folder_ + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string csv = text.str();
  EXPECT_TRUE(
      csv.starts_with("id,name,price\r\n"
                      "1,\"comma, \"\"quoted\"\"\nline\",1.5\r\n"
                      "2,,3.0\r\n"
                      "3,\"\",4.5\r\n"
                      "4,item 4,6.0\r\n"))
      << csv.substr(0, 200);
  EXPECT_TRUE(csv.ends_with("2500,item 2500,3750.0\r\n"));
  std::size_t records = 0;
  for (std::size_t at = csv.find("\r\n"); at != std::string::npos; at = csv.find("\r\n", at + 2))
    ++records;
  EXPECT_EQ(records, 2501u);

  ASSERT_GE(progress_.steps.size(), 3u);
  EXPECT_EQ(progress_.steps.front(), (std::pair<int, std::string>{0, "0 of 2500 rows"}));
  EXPECT_EQ(progress_.steps[1], (std::pair<int, std::string>{40, "1000 of 2500 rows"}));
  EXPECT_EQ(progress_.steps.back(), (std::pair<int, std::string>{100, "2500 of 2500 rows"}));
}

TEST_F(ExportHandlerTest, EmptyResultWritesOnlyTheHeader) {
  task_.parameters = R"({"from": 100000})";
  ExportHandler handler("items", Settings(), db_.url());
  auto r = Run(handler);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::ifstream in(folder_ + "/" + *r->file_name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "id,name,price\r\n");
  EXPECT_EQ(r->result, "0 rows written to " + *r->file_name);
}

TEST_F(ExportHandlerTest, CancelStopsTheExportAndRemovesThePartialFile) {
  progress_.cancel_after_rows = &token_;
  ExportHandler handler("items", Settings(), db_.url());
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "items: stopped (stop requested); the partial file was removed");
  EXPECT_TRUE(Files().empty());
}

TEST_F(ExportHandlerTest, QueryPostgresqlRefusesFailsWithoutRetryAndLeavesNoFile) {
  ExportHandlerSettings s = Settings();
  s.query = "SELECT nope FROM items WHERE id >= $1::int";
  ExportHandler handler("items", s, db_.url());
  auto r = Run(handler);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable);
  EXPECT_NE(r.error().message.find("nope"), std::string::npos) << r.error().message;
  EXPECT_TRUE(Files().empty());
}

}  // namespace
}  // namespace conveyor

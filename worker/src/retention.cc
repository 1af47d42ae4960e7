#include "retention.h"

#include <filesystem>
#include <regex>

#include "conveyor/logging.h"

namespace conveyor {
namespace {

// What an export run names its file: "<task number>-<run id>.csv" (export_handler.cc).
bool IsExportFile(const std::filesystem::path& p) {
  static const std::regex kName(
      R"(\d{1,19}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.csv)");
  return std::regex_match(p.filename().string(), kName);
}

// Deletes in batches until a batch comes back short.
Result<std::size_t> InBatches(const std::function<Result<std::size_t>()>& batch, std::size_t size) {
  std::size_t total = 0;
  while (true) {
    auto n = batch();
    if (!n) return n;
    total += *n;
    if (*n < size) return total;
  }
}

}  // namespace

Janitor::Janitor(RetentionStore& store, const Clock& clock, RetentionPolicy policy,
                 std::vector<std::string> export_folders)
    : store_(store), clock_(clock), policy_(policy), export_folders_(std::move(export_folders)) {}

Status Janitor::Pass(RetentionPass& done) {
  auto now = clock_.Now();
  if (policy_.finished_tasks.count() > 0) {
    auto before = now - policy_.finished_tasks;
    auto tasks =
        InBatches([&] { return store_.DeleteDoneTasks(before, policy_.batch); }, policy_.batch);
    if (!tasks) return std::unexpected(tasks.error());
    done.tasks = *tasks;
    done.export_files = DeleteOldExports(before);
  }
  if (policy_.inbox.count() > 0) {
    auto before = now - policy_.inbox;
    auto rows = InBatches([&] { return store_.DeleteInbox(before, policy_.batch); }, policy_.batch);
    if (!rows) return std::unexpected(rows.error());
    done.inbox_rows = *rows;
  }
  return {};
}

Result<RetentionPass> Janitor::RunOnce() {
  RetentionPass done;
  auto ran = store_.WithPassLock([&] { return Pass(done); });
  if (!ran) return std::unexpected(ran.error());
  done.ran = *ran;
  if (done.ran && (done.tasks || done.inbox_rows || done.export_files))
    logging::Get("worker")->info(
        "retention: deleted {} done task(s), {} inbox row(s), {} export file(s)", done.tasks,
        done.inbox_rows, done.export_files);
  return done;
}

std::size_t Janitor::DeleteOldExports(Timestamp before) {
  std::size_t deleted = 0;
  auto cutoff = std::chrono::file_clock::from_sys(before);
  for (const auto& folder : export_folders_) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
      if (!entry.is_regular_file(ec) || !IsExportFile(entry.path())) continue;
      auto written = entry.last_write_time(ec);
      if (!ec && written < cutoff && std::filesystem::remove(entry.path(), ec)) ++deleted;
    }
  }
  return deleted;
}

void Janitor::Start() {
  passes_.Start(policy_.every, [this] {
    if (auto pass = RunOnce(); !pass)
      logging::Get("worker")->warn("retention pass failed: {}", pass.error().Describe());
  });
}

void Janitor::Stop() { passes_.Stop(); }

}  // namespace conveyor

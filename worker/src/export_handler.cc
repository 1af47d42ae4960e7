#include "export_handler.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "csv.h"
#include "query_parameters.h"

namespace conveyor {
namespace {

// The partial file: removed on destruction unless Commit renamed it into place.
class PartialFile {
 public:
  PartialFile(std::string temp, std::string final_path)
      : temp_(std::move(temp)), final_(std::move(final_path)) {}
  ~PartialFile() {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(temp_.c_str());
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  // errno values as Status messages; the caller names the file.
  Status Open() {
    fd_ = open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd_ >= 0 ? Status{} : Problem("cannot create");
  }
  Status Write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Problem("cannot write");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }
  Status Commit() {
    if (fsync(fd_) != 0) return Problem("cannot sync");
    close(std::exchange(fd_, -1));
    if (rename(temp_.c_str(), final_.c_str()) != 0) return Problem("cannot rename into place");
    committed_ = true;
    return {};
  }

 private:
  std::unexpected<Error> Problem(const char* what) {
    int e = errno;
    // A full or failing disk may recover; a missing folder or a refused permission will not.
    bool transient = e == ENOSPC || e == EDQUOT || e == EIO;
    return Fail(transient ? ErrorCode::kUnavailable : ErrorCode::kFailedPrecondition,
                std::string(what) + " " + temp_ + ": " + std::strerror(e));
  }

  std::string temp_, final_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

ExportHandler::ExportHandler(std::string name, ExportHandlerSettings settings, std::string pg_url)
    : name_(std::move(name)), settings_(std::move(settings)), pg_url_(std::move(pg_url)) {
  query_ = settings_.query;
  while (!query_.empty() &&
         (query_.back() == ';' || std::isspace(static_cast<unsigned char>(query_.back()))))
    query_.pop_back();
}

HandlerResult ExportHandler::Run(const HandlerContext& context) {
  auto fail = [&](std::string message, bool retryable) {
    return std::unexpected(HandlerFailure{name_ + ": " + std::move(message), retryable, {}});
  };
  auto values = BindParameters(context.task, settings_.parameters);
  if (!values) return fail(values.error().message, false);
  auto stopped = [&] {
    return fail("stopped (" + std::string(CancelReasonName(context.cancel.reason())) +
                    "); the partial file was removed",
                false);
  };

  std::string file_name =
      std::to_string(context.task.number) + "-" + context.run_id.ToString() + ".csv";
  PartialFile file(settings_.folder + "/." + file_name + ".part",
                   settings_.folder + "/" + file_name);
  std::string step = "connecting to PostgreSQL";
  try {
    pqxx::connection conn(pg_url_);
    QueryCanceller canceller(conn, context.cancel);
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    LimitToDeadline(tx, context.deadline);
    step = "counting the rows";
    auto total =
        ExecWithParameters(tx, "SELECT count(*) FROM (" + query_ + "\n) AS conveyor_export_count",
                           *values)[0][0]
            .as<long long>();
    context.progress.Report(0, "0 of " + std::to_string(total) + " rows");
    step = "running the query";
    ExecWithParameters(tx, "DECLARE conveyor_export NO SCROLL CURSOR FOR " + query_, *values);
    if (auto s = file.Open(); !s) return fail(s.error().message, s.error().retryable());
    long long rows = 0;
    bool header = false;
    std::string buffer;
    while (true) {
      if (context.cancel.cancelled()) return stopped();
      auto r = tx.exec("FETCH " + std::to_string(kFetchRows) + " FROM conveyor_export");
      buffer.clear();
      std::vector<std::optional<std::string_view>> fields(r.columns());
      if (!header) {
        for (pqxx::row::size_type c = 0; c < r.columns(); ++c) fields[c] = r.column_name(c);
        AppendCsvRecord(buffer, fields);
        header = true;
      }
      for (const auto& row : r) {
        for (pqxx::row::size_type c = 0; c < row.size(); ++c)
          fields[c] = row[c].is_null() ? std::nullopt
                                       : std::optional<std::string_view>(
                                             std::string_view(row[c].c_str(), row[c].size()));
        AppendCsvRecord(buffer, fields);
      }
      if (auto s = file.Write(buffer); !s) return fail(s.error().message, s.error().retryable());
      rows += static_cast<long long>(r.size());
      if (r.size() < static_cast<pqxx::result::size_type>(kFetchRows)) break;
      context.progress.Report(total > 0 ? static_cast<int>(std::min(rows * 100 / total, 99LL)) : 0,
                              std::to_string(rows) + " of " + std::to_string(total) + " rows");
    }
    if (context.cancel.cancelled()) return stopped();
    if (auto s = file.Commit(); !s) return fail(s.error().message, s.error().retryable());
    context.progress.Report(100, std::to_string(rows) + " of " + std::to_string(rows) + " rows");
    return HandlerOutput{
        std::to_string(rows) + (rows == 1 ? " row" : " rows") + " written to " + file_name,
        file_name,
        {}};
  } catch (const std::exception& e) {
    if (context.cancel.cancelled()) return stopped();
    auto f = PgFailure(e, step, context.cancel);
    return fail(f.message, f.retryable);
  }
}

}  // namespace conveyor

// The `export` handler: runs one query the operator named in the worker's configuration file,
// with the task's Parameters bound as $1..$n (query_parameters.h), and writes its rows as CSV
// (csv.h; a header row of column names) to `<folder>/<task number>-<run id>.csv`. It counts
// the rows first and reports progress by rows; the file is written under a temporary name
// (`.<name>.part`) and renamed when complete, so a file with the final name is always whole.
// It records the file's name (not its folder) as the run's FileName. On cancel, timeout or
// any failure the partial file is removed. Connection trouble fails retryably, a query
// PostgreSQL refuses does not. Run blocks its executor thread and is thread-safe.
#pragma once

#include <string>

#include "handler_settings.h"
#include "handlers.h"

namespace conveyor {

class ExportHandler final : public Handler {
 public:
  // `pg_url`: the database to use (the settings' own, or the worker's when that is empty).
  ExportHandler(std::string name, ExportHandlerSettings settings, std::string pg_url);
  HandlerResult Run(const HandlerContext& context) override;

  // Rows fetched (and written) per round trip.
  static constexpr int kFetchRows = 1000;

 private:
  std::string name_;
  ExportHandlerSettings settings_;
  std::string pg_url_;
  std::string query_;  // settings_.query without a trailing ';'
};

}  // namespace conveyor

// The `sql` handler: runs one statement the operator named in the worker's configuration file,
// with the task's Parameters bound as $1..$n (query_parameters.h), in a transaction of its
// own on a connection of its own (its pg_url, or the worker's database), and records the
// affected row count as the run's result ("3 rows affected"). Connection trouble fails
// retryably; a statement PostgreSQL refuses, or Parameters that cannot be bound, do not.
// Cancellation cancels the running statement; the deadline becomes statement_timeout.
// Run blocks its executor thread for the statement's duration and is thread-safe.
#pragma once

#include <string>

#include "handler_settings.h"
#include "handlers.h"

namespace conveyor {

class SqlHandler final : public Handler {
 public:
  // `pg_url`: the database to use (the settings' own, or the worker's when that is empty).
  SqlHandler(std::string name, SqlHandlerSettings settings, std::string pg_url);
  HandlerResult Run(const HandlerContext& context) override;

 private:
  std::string name_;
  SqlHandlerSettings settings_;
  std::string pg_url_;
};

}  // namespace conveyor

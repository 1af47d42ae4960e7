// Binding a task's Parameters to the $1..$n of a configured SQL statement or query (the sql
// and export handlers; docs/handlers.md), and helpers both handlers share. No I/O except
// where a function says so.
#pragma once

#include <atomic>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "conveyor/result.h"
#include "conveyor/task.h"
#include "handlers.h"

namespace conveyor {

// The values of the fields `names` of the task's Parameters, in that order, as the text
// PostgreSQL receives for $1, $2, ...; nullopt is SQL NULL.
//   application/json: Parameters is an object; a string field is bound as is, null as NULL,
//     numbers, booleans, objects and arrays as their JSON text.
//   application/xml: the child elements of the root element, by name; an element's text is
//     bound, an element with xsi:nil="true" is NULL.
// A name that starts with '@' is filled in from the task's own record, never from its
// Parameters, so that a statement can keep tenants apart: @client_id (the task's client; NULL
// for a system task), @task_id, @task_number.
// kInvalidArgument naming the field when a name is missing, the Parameters do not parse, or
// the content type is neither. When every name is an '@' one, the Parameters are not looked at.
Result<std::vector<std::optional<std::string>>> BindParameters(
    const Task& task, const std::vector<std::string>& names);

// exec_params with values that may be NULL.
pqxx::result ExecWithParameters(pqxx::transaction_base& tx, const std::string& sql,
                                const std::vector<std::optional<std::string>>& values);

// While alive, watches `token` on a thread of its own and cancels the query running on
// `conn` (pqxx::connection::cancel_query, thread-safe) once the token is cancelled. The
// destructor stops and joins the thread.
class QueryCanceller {
 public:
  QueryCanceller(pqxx::connection_base& conn, const CancellationToken& token);
  ~QueryCanceller();
  QueryCanceller(const QueryCanceller&) = delete;
  QueryCanceller& operator=(const QueryCanceller&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// `SET LOCAL statement_timeout` from the run's deadline (nothing when there is none), so a
// query cannot outlive the task type's timeout even when cancelling it fails.
void LimitToDeadline(pqxx::transaction_base& tx, std::chrono::steady_clock::time_point deadline);

// A HandlerFailure for an exception from libpqxx: connection trouble is retryable, a
// statement PostgreSQL refused is not. `what` says what was being done.
HandlerFailure PgFailure(const std::exception& e, const std::string& what,
                         const CancellationToken& token);

}  // namespace conveyor

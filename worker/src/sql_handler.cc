#include "sql_handler.h"

#include "query_parameters.h"

namespace conveyor {

SqlHandler::SqlHandler(std::string name, SqlHandlerSettings settings, std::string pg_url)
    : name_(std::move(name)), settings_(std::move(settings)), pg_url_(std::move(pg_url)) {}

HandlerResult SqlHandler::Run(const HandlerContext& context) {
  auto values = BindParameters(context.task, settings_.parameters);
  if (!values)
    return std::unexpected(HandlerFailure{name_ + ": " + values.error().message, false, {}});
  std::string step = name_ + ": connecting to PostgreSQL";
  try {
    pqxx::connection conn(pg_url_);
    QueryCanceller canceller(conn, context.cancel);
    pqxx::work tx(conn);
    LimitToDeadline(tx, context.deadline);
    if (context.cancel.cancelled())
      return std::unexpected(
          HandlerFailure{name_ + ": stopped before the statement ran (" +
                             std::string(CancelReasonName(context.cancel.reason())) + ")",
                         false,
                         {}});
    step = name_ + ": running the statement";
    auto r = ExecWithParameters(tx, settings_.statement, *values);
    step = name_ + ": committing";
    tx.commit();
    auto n = r.affected_rows();
    return HandlerOutput{std::to_string(n) + (n == 1 ? " row affected" : " rows affected"), {}, {}};
  } catch (const std::exception& e) {
    return std::unexpected(PgFailure(e, step, context.cancel));
  }
}

}  // namespace conveyor

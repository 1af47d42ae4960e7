#include "query_parameters.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "conveyor/json_text.h"
#include "conveyor/pg.h"

namespace conveyor {

namespace {

// The value of a name the task's record fills in (@client_id, ...); nothing for another name.
std::optional<std::optional<std::string>> FromTheRecord(const Task& task, const std::string& name) {
  if (name == "@client_id")
    return task.client_id ? std::optional(task.client_id->ToString()) : std::nullopt;
  if (name == "@task_id") return std::optional(task.id.ToString());
  if (name == "@task_number") return std::optional(std::to_string(task.number));
  return std::nullopt;
}

Result<std::vector<std::optional<std::string>>> FromTheParameters(
    const Task& task, const std::vector<std::string>& names);

}  // namespace

Result<std::vector<std::optional<std::string>>> BindParameters(
    const Task& task, const std::vector<std::string>& names) {
  std::vector<std::string> asked;  // the names the Parameters answer
  for (const auto& name : names)
    if (!FromTheRecord(task, name)) asked.push_back(name);
  auto given = FromTheParameters(task, asked);
  if (!given) return std::unexpected(given.error());
  std::vector<std::optional<std::string>> values;
  std::size_t next = 0;
  for (const auto& name : names) {
    auto trusted = FromTheRecord(task, name);
    values.push_back(trusted ? *trusted : (*given)[next++]);
  }
  return values;
}

namespace {

Result<std::vector<std::optional<std::string>>> FromTheParameters(
    const Task& task, const std::vector<std::string>& names) {
  std::vector<std::optional<std::string>> values;
  if (names.empty()) return values;
  if (task.content_type == "application/json") {
    auto parsed = ParseJson(task.parameters, "", "Parameters");
    if (!parsed) return std::unexpected(parsed.error());
    const auto& doc = *parsed;
    if (!doc.is_object())
      return Fail(ErrorCode::kInvalidArgument, "Parameters must be a JSON object", "Parameters");
    for (const auto& name : names) {
      auto it = doc.find(name);
      if (it == doc.end())
        return Fail(ErrorCode::kInvalidArgument, "Parameters has no field '" + name + "'",
                    "Parameters/" + name);
      if (it->is_null())
        values.emplace_back(std::nullopt);
      else if (it->is_string())
        values.emplace_back(it->get<std::string>());
      else
        values.emplace_back(it->dump());
    }
    return values;
  }
  if (task.content_type == "application/xml") {
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(task.parameters.data(), task.parameters.size());
    if (!parsed || !doc.document_element())
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("Parameters is not an XML document: ") + parsed.description(),
                  "Parameters");
    auto root = doc.document_element();
    for (const auto& name : names) {
      auto element = root.child(name.c_str());
      if (!element)
        return Fail(ErrorCode::kInvalidArgument,
                    "Parameters has no element <" + name + "> under <" + root.name() + ">",
                    "Parameters/" + name);
      std::string nil = element.attribute("xsi:nil").as_string();
      if (nil == "true" || nil == "1")
        values.emplace_back(std::nullopt);
      else
        values.emplace_back(element.text().as_string());
    }
    return values;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "ContentType '" + task.content_type +
                  "' cannot be bound to query parameters; use application/json or "
                  "application/xml",
              "ContentType");
}

}  // namespace

pqxx::result ExecWithParameters(pqxx::transaction_base& tx, const std::string& sql,
                                const std::vector<std::optional<std::string>>& values) {
  std::vector<const char*> raw;  // libpqxx binds a null pointer as NULL
  for (const auto& v : values) raw.push_back(v ? v->c_str() : nullptr);
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(raw));
}

QueryCanceller::QueryCanceller(pqxx::connection_base& conn, const CancellationToken& token)
    : thread_([this, &conn, &token] {
        while (!done_.load()) {
          if (token.WaitFor(std::chrono::milliseconds(50))) {
            try {
              conn.cancel_query();
            } catch (const std::exception&) {
              // The statement ends by the deadline's statement_timeout, or with the run.
            }
            return;
          }
        }
      }) {}

QueryCanceller::~QueryCanceller() {
  done_ = true;
  thread_.join();
}

void LimitToDeadline(pqxx::transaction_base& tx, std::chrono::steady_clock::time_point deadline) {
  if (deadline == std::chrono::steady_clock::time_point::max()) return;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  tx.exec("SET LOCAL statement_timeout = " + std::to_string(std::max<long long>(1, left)));
}

HandlerFailure PgFailure(const std::exception& e, const std::string& what,
                         const CancellationToken& token) {
  if (token.cancelled())
    return HandlerFailure{
        what + " stopped (" + std::string(CancelReasonName(token.reason())) + ")", false, {}};
  Error error = PgError(e, what);
  return HandlerFailure{error.message, error.retryable(), {}};
}

}  // namespace conveyor

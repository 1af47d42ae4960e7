// UnnestRows: the rows a multi-row statement reads with unnest(), as named columns, each bound
// as one array parameter; TextColumn, IntColumn and UuidColumn make those arrays out of rows. A
// statement built with it names its columns instead of numbering 40 positional parameters: Unnest
// writes "unnest($7::uuid[], $8::text[]) AS v(id, name)" and appends the arrays to the statement's
// parameters (pass them with pqxx::prepare::make_dynamic_params). Bind does the same for one value.
// Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conveyor/pg_rows.h"

namespace conveyor {

class UnnestRows {
 public:
  // A column named `name` whose values are `array` (an array literal: UuidArrayParam,
  // TextArrayParam, IntArrayParam of conveyor/pg_rows.h), read as `type`.
  UnnestRows& Add(std::string name, std::string type, std::string array) {
    columns_.push_back({std::move(name), std::move(type), std::move(array)});
    return *this;
  }

  // "unnest(...) [WITH ORDINALITY] AS alias(names..., [ord])", binding the arrays from
  // $params.size() + 1 on.
  std::string Unnest(std::string_view alias, std::vector<std::string>& params,
                     bool with_ordinality = false) const {
    std::string arrays, names;
    for (const auto& c : columns_) {
      if (!names.empty()) {
        arrays += ", ";
        names += ", ";
      }
      arrays += Bind(params, c.array) + "::" + c.type + "[]";
      names += c.name;
    }
    if (with_ordinality) names += ", ord";
    return "unnest(" + arrays + ")" + (with_ordinality ? " WITH ORDINALITY" : "") + " AS " +
           std::string(alias) + "(" + names + ")";
  }

  // The column names, "a, b, c"; each after `prefix` ("EXCLUDED.a, EXCLUDED.b, ...").
  std::string Names(std::string_view prefix = {}) const {
    std::string names;
    for (const auto& c : columns_)
      names += (names.empty() ? "" : ", ") + std::string(prefix) + c.name;
    return names;
  }

  // Appends `value` to `params`; its placeholder, "$n".
  static std::string Bind(std::vector<std::string>& params, std::string value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  }

 private:
  struct Column {
    std::string name, type, array;
  };
  std::vector<Column> columns_;
};

// The array literal of one column of `rows`, each row's value as `value` gives it (a text, or
// std::nullopt for NULL; a number; a UUID).
template <typename Row, typename F>
std::string TextColumn(const std::vector<Row>& rows, F value) {
  std::vector<std::optional<std::string>> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(value(r));
  return TextArrayParam(out);
}
template <typename Row, typename F>
std::string IntColumn(const std::vector<Row>& rows, F value) {
  std::vector<long long> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(value(r));
  return IntArrayParam(out);
}
template <typename Row, typename F>
std::string UuidColumn(const std::vector<Row>& rows, F value) {
  std::vector<Uuid> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(value(r));
  return UuidArrayParam(out);
}

// Adds the columns of tasks that a Task holds, one row per task: every column but
// last_event_id, command_offset and what a command's later effects set (modified_*,
// deleted_*, response). The worker inserts created tasks with them, a producer its accepted
// ones (accepted_tasks), so both write a task's fields the same way.
void AddTaskColumns(UnnestRows& rows, const std::vector<const Task*>& tasks);

}  // namespace conveyor

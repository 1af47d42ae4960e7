// UnnestRows: the rows a multi-row statement reads with unnest(), as named columns, each bound
// as one array parameter. A statement built with it names its columns instead of numbering
// 40 positional parameters: Unnest writes "unnest($7::uuid[], $8::text[]) AS v(id, name)" and
// appends the arrays to the statement's parameters (pass them with
// pqxx::prepare::make_dynamic_params). Bind does the same for one value. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

  // The column names, "a, b, c".
  std::string Names() const {
    std::string names;
    for (const auto& c : columns_) names += (names.empty() ? "" : ", ") + c.name;
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

}  // namespace conveyor

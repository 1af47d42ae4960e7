// Reading tasks out of PostgreSQL rows, shared by every query that selects a task.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/task.h"
#include "conveyor/uuid.h"

namespace conveyor {

// The select list that TaskFromRow reads, for a query where `t` is the tasks table. Times
// come out as epoch microseconds, so no parsing of PostgreSQL's text format is needed.
std::string TaskColumns(const std::string& alias = "t");
inline constexpr int kTaskColumnCount = 23;

// Reads the kTaskColumnCount columns that TaskColumns() selects, starting at `first`.
Task TaskFromRow(const pqxx::row& row, int first = 0);

// A timestamp selected as epoch microseconds; std::nullopt for NULL.
std::optional<Timestamp> TimeFromField(const pqxx::field& f);

// "2026-01-02T03:04:05.000006Z": pass as a parameter cast with ::timestamptz.
std::string TimeParam(Timestamp t);
// The same, or std::nullopt (NULL) for no time.
std::optional<std::string> OptionalTimeParam(const std::optional<Timestamp>& t);

// A '{a,b,c}' array literal of UUIDs: pass as a parameter cast with ::uuid[].
std::string UuidArrayParam(const std::vector<Uuid>& ids);

// PostgreSQL array literals for binding a column of values as one parameter (cast it in SQL,
// e.g. $1::text[]); with unnest() they make one multi-row statement out of many rows.
// std::nullopt becomes NULL.
std::string TextArrayParam(const std::vector<std::optional<std::string>>& values);
std::string IntArrayParam(const std::vector<long long>& values);

}  // namespace conveyor

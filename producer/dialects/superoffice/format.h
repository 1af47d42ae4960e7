// How a SuperOffice answer is shaped for the caller: `$select` (which BatchTaskInfo fields
// keep their values) and `SO-TimeZone` (in which zone dates are written). Both are parsed once
// per request and then applied to the JSON form of the answer, before it is written as JSON or
// XML. Plain values: immutable after Parse and safe to share between threads.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "conveyor/clock.h"
#include "conveyor/result.h"

namespace date {
class time_zone;
}

namespace conveyor::superoffice {

// `$select=Name,State,ParameterObject/seconds`: the listed fields keep their values, every
// other field of a BatchTaskInfo is set to null (not removed), as SuperOffice does. Names are
// matched without regard to case; a path with `/` selects inside an object field
// (ParameterObject, FieldProperties), whose keys are free, so any key is accepted there.
class FieldSelection {
 public:
  // An absent or empty value selects everything. kInvalidArgument (field "$select") naming
  // an unknown field, or a path into a field that has no members (e.g. "Name/x").
  static Result<FieldSelection> Parse(std::string_view text);

  bool selects_all() const { return all_; }
  // Nulls what is not selected in a BatchTaskInfo object or in each element of an array of
  // them; anything else (null, an int, a bool) is left as it is.
  void Apply(nlohmann::json& value) const;

 private:
  struct Node {
    bool whole = false;                    // the field itself was named: keep all of it
    std::map<std::string, Node> children;  // lower-cased member names
  };
  static void ApplyTo(const Node& node, nlohmann::json& object);
  bool all_ = true;
  Node root_;
};

// `SO-TimeZone: Europe/Oslo` or `SO-TimeZone: Europe/Oslo, includeTZOffset`. Zones are IANA
// names from the system's tz database (/usr/share/zoneinfo, read through Howard Hinnant's date
// library, libhowardhinnant-date-dev: g++ 12's libstdc++ has no std::chrono::locate_zone).
//
// Without the header dates are UTC and carry "+00:00". With it they are converted to the zone
// and written without an offset (unspecified local time, as SuperOffice does), unless
// includeTZOffset is given: then the zone's offset at that instant follows ("+01:00").
// Thread-safe: the tz database is loaded once and only read.
class OutputTimeZone {
 public:
  // kInvalidArgument (field "SO-TimeZone") for an unknown zone or option.
  static Result<OutputTimeZone> Parse(std::string_view header);

  // "2026-01-15T13:00:00.0000000" (.NET's seven fractional digits), plus the offset when
  // asked for.
  std::string Format(Timestamp t) const;

 private:
  const date::time_zone* zone_ = nullptr;  // nullptr: UTC, offset written; not owned
  bool include_offset_ = false;
};

}  // namespace conveyor::superoffice

#include "conveyor/pg_rows.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>

#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"

namespace conveyor {

std::string TaskColumns(const std::string& a) {
  auto micros = [&](const char* c) {
    return "(extract(epoch from " + a + "." + c + ") * 1e6)::bigint";
  };
  return a + ".id, " + a + ".number, " + a + ".task_type_id, " + a + ".client_id, " + a +
         ".enabled, " + a + ".frequency, " + micros("start_date") + ", " + micros("finish_date") +
         ", " + a + ".parameters, " + a + ".content_type, " + a + ".notification, " +
         micros("created_at") + ", " + a + ".created_by, " + a + ".task_name, " + a +
         ".priority, " + micros("due_time") + ", " + micros("planned_completion_time") + ", " + a +
         ".external_refs::text, " + a + ".associate_id, " + a + ".description, " + a +
         ".request, " + a + ".response, " + a + ".schedule::text";
}

std::optional<Timestamp> TimeFromField(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return Timestamp(std::chrono::microseconds(f.as<long long>()));
}

Task TaskFromRow(const pqxx::row& row, int first) {
  auto at = [&](int i) { return row[first + i]; };
  Task t;
  t.id = Uuid::Parse(at(0).c_str()).value_or(Uuid());
  t.number = at(1).as<std::int64_t>();
  t.task_type_id = Uuid::Parse(at(2).c_str()).value_or(Uuid());
  if (!at(3).is_null()) t.client_id = Uuid::Parse(at(3).c_str());
  t.enabled = at(4).as<bool>();
  t.frequency = FrequencyFromName(at(5).c_str()).value_or(Frequency::kNone);
  t.start_date = TimeFromField(at(6));
  t.finish_date = TimeFromField(at(7));
  t.parameters = at(8).c_str();
  t.content_type = at(9).c_str();
  t.notification = NotificationFromName(at(10).c_str()).value_or(TaskNotification::kNone);
  t.created_at = TimeFromField(at(11)).value_or(Timestamp());
  t.created_by = at(12).c_str();
  t.name = at(13).c_str();
  if (!at(14).is_null()) t.priority = at(14).as<int>();
  t.due_time = TimeFromField(at(15));
  t.planned_completion_time = TimeFromField(at(16));
  auto refs = nlohmann::json::parse(at(17).c_str(), nullptr, false);
  if (refs.is_object())
    for (const auto& [key, value] : refs.items())
      if (value.is_number_integer()) t.external_refs[key] = value.get<std::int64_t>();
  t.associate_id = at(18).as<std::int32_t>();
  t.description = at(19).c_str();
  t.request = at(20).c_str();
  if (!at(21).is_null()) t.response = at(21).c_str();
  // Written by Conveyor (ScheduleToJson): a row that does not read is a bug, shown as the
  // default rather than failing every read of the task.
  auto schedule = ScheduleFromJson(nlohmann::json::parse(at(22).c_str(), nullptr, false));
  if (schedule) t.schedule = std::move(*schedule);
  return t;
}

std::string TimeParam(Timestamp t) { return FormatRfc3339(t); }

std::optional<std::string> OptionalTimeParam(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return TimeParam(*t);
}

// The array literals below are built for hundreds of rows at once (a worker's batch, a
// producer's group of accepted records): each is sized first and filled without a
// character-by-character append.

std::string TextArrayParam(const std::vector<std::optional<std::string>>& values) {
  std::size_t size = 2;
  for (const auto& v : values) size += (v ? v->size() + 2 : 4) + 1;
  std::string out;
  out.reserve(size + size / 16);  // room for some escapes
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    std::string_view rest = *values[i];
    out += '"';
    for (auto special = rest.find_first_of("\"\\"); special != std::string_view::npos;
         special = rest.find_first_of("\"\\")) {
      out.append(rest.substr(0, special)).append(1, '\\').append(1, rest[special]);
      rest.remove_prefix(special + 1);
    }
    out.append(rest).append(1, '"');
  }
  out += '}';
  return out;
}

std::string IntArrayParam(const std::vector<long long>& values) {
  std::string out;
  out.reserve(2 + values.size() * 21);
  out += '{';
  char digits[24];
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    auto end = std::to_chars(digits, digits + sizeof digits, values[i]).ptr;
    out.append(digits, end);
  }
  out += '}';
  return out;
}

std::string UuidArrayParam(const std::vector<Uuid>& ids) {
  std::string out;
  out.reserve(2 + ids.size() * 37);
  out += '{';
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += ids[i].ToString();
  }
  out += '}';
  return out;
}

}  // namespace conveyor

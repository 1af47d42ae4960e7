#include "conveyor/time_format.h"

#include <cctype>
#include <cstdio>

namespace conveyor {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Reads exactly `n` digits at `pos`; advances `pos`.
bool ReadDigits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

bool Expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

Result<Timestamp> ParseDateTime(std::string_view s) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(s) +
                    "' is not a date-time; expected ISO 8601 such as 2026-02-22T04:10:00+00:00");
  };
  std::size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!ReadDigits(s, pos, 4, year) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day))
    return bad();
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return bad();
  ++pos;
  if (!ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second))
    return bad();
  long long micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return bad();
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  int offset_minutes = 0;
  if (pos < s.size()) {
    char c = s[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh, om;
      if (!ReadDigits(s, pos, 2, oh)) return bad();
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (!ReadDigits(s, pos, 2, om) || oh > 23 || om > 59) return bad();
      offset_minutes = (oh * 60 + om) * (c == '-' ? -1 : 1);
    } else {
      return bad();
    }
  }
  if (pos != s.size()) return bad();

  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return bad();
  auto t = std::chrono::sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) +
           microseconds(micros) - minutes(offset_minutes);
  // An offset can carry 0001-01-01 or 9999-12-31 into a year that the formats below cannot
  // write back (-001, 10000) and PostgreSQL does not store (it has no year 0).
  constexpr auto kFirstDay = std::chrono::year(1) / std::chrono::January / 1;
  constexpr auto kDayAfterLast = std::chrono::year(10000) / std::chrono::January / 1;
  if (t < std::chrono::sys_days(kFirstDay) || t >= std::chrono::sys_days(kDayAfterLast))
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(s) + "' is outside the years 0001 to 9999 in UTC");
  return Timestamp(std::chrono::duration_cast<microseconds>(t.time_since_epoch()));
}

namespace {

std::string Format(Timestamp t, bool dotnet) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(t - day);
  long long micros = hms.subseconds().count();
  char buf[64];
  if (dotnet) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%07lld+00:00",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long long>(hms.hours().count()),
                  static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()), micros * 10);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long long>(hms.hours().count()),
                  static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()), micros);
  }
  return buf;
}

}  // namespace

std::string FormatDotNet(Timestamp t) { return Format(t, true); }
std::string FormatRfc3339(Timestamp t) { return Format(t, false); }

}  // namespace conveyor

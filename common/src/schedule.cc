#include "conveyor/schedule.h"

#include <date/date.h>
#include <date/tz.h>
#include <libical/ical.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string_view>

#include "conveyor/time_format.h"

namespace conveyor {

namespace {

using LocalSeconds = date::local_seconds;
using SysSeconds = date::sys_seconds;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// The unit of a rule's FREQ (SECONDLY .. YEARLY).
enum class Unit { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kYear };

// libical expands up to this year (MAX_TIME_T_YEAR in icalrecur.c with a 64-bit time_t).
constexpr int kLastLibicalYear = 2582;
// A repeating schedule's start must lie in these years: ICU (libical's calendar) is Julian
// before 1582, and a start near kLastLibicalYear would leave no room to repeat.
constexpr int kFirstStartYear = 1900;
constexpr int kLastStartYear = 2500;
// The due times Create looks at for the shortest interval and for repeats().
constexpr std::size_t kIntervalSample = 100;

}  // namespace

namespace internal {

struct ScheduleRule {
  ScheduleSpec spec;
  Timestamp first{};
  bool repeats = false;
  // The rest is set only for a recurring schedule (a Frequency other than NONE or a Recurrence).
  bool recurring = false;
  const date::time_zone* zone = nullptr;
  icalrecurrencetype rule{};  // without COUNT and UNTIL; BY lists sorted ascending
  Unit unit = Unit::kDay;
  int interval = 1;
  // A rule with any occurrence has one within this many periods (FREQ x INTERVAL) of any
  // point at or after its start: the period of the calendar pattern its BY parts can express
  // (an hour, a week, 400 Gregorian years), counted in its own units.
  std::int64_t window_periods = 1;
  LocalSeconds dtstart{};                  // the start's wall-clock time in `zone`, whole seconds
  SysSeconds start{};                      // the start rounded up to whole seconds
  std::optional<LocalSeconds> last_local;  // inclusive: COUNT, UNTIL without Z, a date UNTIL
  std::optional<SysSeconds> last_instant;  // inclusive: FinishDate, UNTIL with Z
};

}  // namespace internal

namespace {

using internal::ScheduleRule;

// --- libical's global state ----------------------------------------------------------------

// Clears libical's per-thread error number when a public call ends, whatever libical left.
class IcalErrnoReset {
 public:
  IcalErrnoReset() { icalerror_clear_errno(); }
  ~IcalErrnoReset() { icalerror_clear_errno(); }
  IcalErrnoReset(const IcalErrnoReset&) = delete;
  IcalErrnoReset& operator=(const IcalErrnoReset&) = delete;
};

// A libical built with ICAL_ERRORS_ARE_FATAL prints and aborts on the first malformed rule.
void MakeLibicalErrorsNonFatal() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (icalerror_get_errors_are_fatal()) icalerror_set_errors_are_fatal(0);
  });
}

// --- text ----------------------------------------------------------------------------------

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// User text quoted in a message: printable ASCII only (the message may end up in JSON or XML),
// and not too long.
std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > kMax) out += "...";
  return out + "'";
}

std::string Format(SysSeconds t) { return FormatRfc3339(Timestamp(t)); }

// --- time ----------------------------------------------------------------------------------

LocalSeconds ToLocal(const date::time_zone* zone, SysSeconds t) {
  return LocalSeconds{t.time_since_epoch() + zone->get_info(t).offset};
}

// RFC 5545 §3.3.5: a local time in a gap is read with the offset before the gap, an ambiguous
// one is its first occurrence. date/tz puts exactly that offset in local_info::first.
SysSeconds ToInstant(const date::time_zone* zone, LocalSeconds t) {
  return SysSeconds{t.time_since_epoch() - zone->get_info(t).first.offset};
}

struct OffsetRange {
  seconds min;
  seconds max;
};

// The smallest and largest UTC offsets of `zone` from `from` to `to`. A local time's instant is
// within [local - max, local - min] whenever the offsets near it are in the range; three days
// either side cover every gap and overlap the tz database has (Samoa skipped a day).
OffsetRange OffsetsBetween(const date::time_zone* zone, SysSeconds from, SysSeconds to) {
  auto info = zone->get_info(from);
  OffsetRange r{info.offset, info.offset};
  while (info.end < to) {
    info = zone->get_info(info.end);
    r.min = std::min(r.min, info.offset);
    r.max = std::max(r.max, info.offset);
  }
  return r;
}

OffsetRange OffsetsNear(const date::time_zone* zone, SysSeconds t) {
  return OffsetsBetween(zone, t - days(3), t + days(3));
}

SysSeconds AsSys(LocalSeconds t) { return SysSeconds{t.time_since_epoch()}; }
LocalSeconds AsLocal(SysSeconds t) { return LocalSeconds{t.time_since_epoch()}; }

LocalSeconds LastLibicalLocal() {
  return LocalSeconds{date::local_days{date::year{kLastLibicalYear} / 12 / 31}} + hours(23) +
         minutes(59) + seconds(59);
}

icaltimetype ToIcal(LocalSeconds t) {
  auto day = date::floor<days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<seconds> hms{t - day};
  icaltimetype out = icaltime_null_time();
  out.year = int(ymd.year());
  out.month = int(unsigned(ymd.month()));
  out.day = int(unsigned(ymd.day()));
  out.hour = int(hms.hours().count());
  out.minute = int(hms.minutes().count());
  out.second = int(hms.seconds().count());
  out.is_date = 0;
  out.zone = nullptr;  // floating: libical never looks at a time zone
  return out;
}

LocalSeconds FromIcal(const icaltimetype& t) {
  return LocalSeconds{date::local_days{date::year{t.year} / t.month / t.day}} + hours(t.hour) +
         minutes(t.minute) + seconds(t.second);
}

// --- the rule's grid -----------------------------------------------------------------------

std::int64_t UnitSeconds(Unit unit) {
  switch (unit) {
    case Unit::kSecond:
      return 1;
    case Unit::kMinute:
      return 60;
    case Unit::kHour:
      return 3600;
    case Unit::kDay:
      return 86400;
    case Unit::kWeek:
      return 7 * 86400;
    case Unit::kMonth:
      return 31 * 86400;  // the longest month: an upper bound, for windows only
    case Unit::kYear:
      return 366 * 86400;
  }
  return 86400;
}

// A DTSTART for libical that yields the rule's own occurrences from `from` on after only a few
// steps: the start moved forward by whole periods (FREQ x INTERVAL) to between one and two
// periods before `from` (it is at or after r.dtstart). Whole periods keep everything libical
// takes from DTSTART (the time of day, the weekday for WEEKLY, the day of the month for
// MONTHLY) and INTERVAL's alignment, which icalrecur_iterator_set_start loses for HOURLY,
// MINUTELY and SECONDLY in 3.0.16. At least a period back, because the first time libical
// returns is checked only against the rule's limiting parts (BYSETPOS, say, is not): it must
// fall in a period that ends before `from`, where it is dropped.
LocalSeconds GridBase(const ScheduleRule& r, LocalSeconds from) {
  if (r.unit == Unit::kYear) return r.dtstart;  // a year's first step is a real occurrence
  if (r.unit == Unit::kMonth) {
    date::year_month_day start{date::floor<days>(r.dtstart)};
    date::year_month_day at{date::floor<days>(from)};
    auto time = r.dtstart - date::floor<days>(r.dtstart);
    std::int64_t months = (int(at.year()) - int(start.year())) * 12 +
                          (int(unsigned(at.month())) - int(unsigned(start.month())));
    // libical's first MONTHLY step is a real occurrence (it expands the month's days first),
    // so the base need only lie in a month before from's: k = 0, DTSTART itself, will do. A
    // moved DTSTART must keep its day of the month (a default of the rule), so months without
    // that day are passed over.
    for (std::int64_t k = months > 0 ? (months - 1) / r.interval : 0; k > 0; --k) {
      auto moved = date::year_month{start.year(), start.month()} + date::months(k * r.interval);
      date::year_month_day candidate{moved.year(), moved.month(), start.day()};
      if (candidate.ok()) return LocalSeconds{date::local_days{candidate}} + time;
    }
    return r.dtstart;
  }
  std::int64_t period = UnitSeconds(r.unit) * r.interval;
  std::int64_t k = (from - r.dtstart).count() / period - 1;  // >= -1
  return r.dtstart + seconds(k * period);
}

// The end of a search window `periods` periods after `base`, no later than libical goes.
LocalSeconds WindowEnd(const ScheduleRule& r, LocalSeconds base, std::int64_t periods) {
  std::int64_t span = UnitSeconds(r.unit) * r.interval * periods;
  auto last = LastLibicalLocal();
  if (span >= (last - base).count()) return last;
  return base + seconds(span);
}

// --- libical iteration ---------------------------------------------------------------------

struct IteratorFree {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};

// The local occurrences libical computes from `base` (as DTSTART) up to `until` (inclusive).
class LibicalIteration {
 public:
  LibicalIteration(const ScheduleRule& r, LocalSeconds base, LocalSeconds until) {
    if (base > until || date::year_month_day{date::floor<days>(base)}.year() < date::year{0})
      return;
    icalrecurrencetype rule = r.rule;
    rule.until = ToIcal(until);
    it_.reset(icalrecur_iterator_new(rule, ToIcal(base)));
  }

  std::optional<LocalSeconds> Next() {
    if (!it_) return std::nullopt;
    icaltimetype t = icalrecur_iterator_next(it_.get());
    if (icaltime_is_null_time(t)) {
      it_.reset();
      return std::nullopt;
    }
    return FromIcal(t);
  }

 private:
  std::unique_ptr<icalrecur_iterator, IteratorFree> it_;
};

// The rule's local occurrences at or after `from` (itself at or after the start) and at or
// before `until`, oldest first. It searches in windows of r.window_periods periods, restarting
// libical just before the last occurrence found; a window with no occurrence proves that none
// follows, so a rule that ends (or never matches) costs one window, not a walk to year 2582.
class LocalOccurrences {
 public:
  LocalOccurrences(const ScheduleRule& r, LocalSeconds from, std::optional<LocalSeconds> until)
      : r_(r), from_(std::max(from, r.dtstart)), until_(until.value_or(LastLibicalLocal())) {
    until_ = std::min(until_, LastLibicalLocal());
  }

  std::optional<LocalSeconds> Next() {
    while (!done_) {
      if (!iteration_) {
        auto base = GridBase(r_, from_);
        window_end_ = std::min(until_, WindowEnd(r_, base, r_.window_periods + 3));
        iteration_.emplace(r_, base, window_end_);
        found_in_window_ = false;
      }
      auto t = iteration_->Next();
      if (t) {
        if (*t < from_) continue;
        found_in_window_ = true;
        from_ = *t + seconds(1);
        return t;
      }
      iteration_.reset();
      if (!found_in_window_ || window_end_ >= until_ || from_ > until_) done_ = true;
    }
    return std::nullopt;
  }

 private:
  const ScheduleRule& r_;
  LocalSeconds from_;
  LocalSeconds until_;
  std::optional<LibicalIteration> iteration_;
  LocalSeconds window_end_{};
  bool found_in_window_ = false;
  bool done_ = false;
};

// The schedule's due times at or after `threshold` and at or before `up_to`, as strictly
// increasing instants. Local occurrences come in order, but their instants need not: a time in
// a spring-forward gap is read with the offset before the gap, so it is the same instant as
// the local time one gap-length later, and local times less than that later come earlier. So
// instants wait in `pending_` until no later local time can give an earlier or equal one.
class DueTimes {
 public:
  DueTimes(const ScheduleRule& r, SysSeconds threshold, std::optional<SysSeconds> up_to)
      : r_(r),
        threshold_(std::max(threshold, r.start)),
        last_(Earliest(r.last_instant, up_to)),
        locals_(r, FirstLocal(r, threshold_), LastLocal(r, last_)) {}

  std::optional<SysSeconds> Next() {
    while (true) {
      if (!pending_.empty() && (exhausted_ || pending_.front() < safe_below_)) {
        emitted_ = pending_.front();
        pending_.erase(pending_.begin());
        return emitted_;
      }
      if (exhausted_) return std::nullopt;
      auto local = locals_.Next();
      if (!local) {
        exhausted_ = true;
        continue;
      }
      SysSeconds instant = ToInstant(r_.zone, *local);
      // No later local time has an instant below this one.
      safe_below_ = AsSys(*local) - MaxOffsetNear(*local);
      bool wanted = instant >= threshold_ && (!last_ || instant <= *last_) &&
                    (!emitted_ || instant > *emitted_);
      if (wanted) {
        auto at = std::lower_bound(pending_.begin(), pending_.end(), instant);
        if (at == pending_.end() || *at != instant) pending_.insert(at, instant);
      }
      if (last_ && safe_below_ > *last_) exhausted_ = true;
    }
  }

 private:
  static std::optional<SysSeconds> Earliest(std::optional<SysSeconds> a,
                                            std::optional<SysSeconds> b) {
    if (a && b) return std::min(*a, *b);
    return a ? a : b;
  }

  // Every local time whose instant is at or after `threshold` is at or after this.
  static LocalSeconds FirstLocal(const ScheduleRule& r, SysSeconds threshold) {
    return AsLocal(threshold) + OffsetsNear(r.zone, threshold).min;
  }

  // Every local time whose instant is at or before `last` is at or before this.
  static std::optional<LocalSeconds> LastLocal(const ScheduleRule& r,
                                               std::optional<SysSeconds> last) {
    std::optional<LocalSeconds> bound = r.last_local;
    if (last) {
      auto from_instant = AsLocal(*last) + OffsetsNear(r.zone, *last).max;
      bound = bound ? std::min(*bound, from_instant) : from_instant;
    }
    return bound;
  }

  // The largest offset that can apply to local times from `local` to two days later; cached
  // for a day of local times.
  seconds MaxOffsetNear(LocalSeconds local) {
    if (!cached_from_ || local < *cached_from_ || local > *cached_from_ + days(1)) {
      cached_from_ = local;
      cached_max_ = OffsetsBetween(r_.zone, AsSys(local) - days(3), AsSys(local) + days(4)).max;
    }
    return cached_max_;
  }

  const ScheduleRule& r_;
  SysSeconds threshold_;
  std::optional<SysSeconds> last_;
  LocalOccurrences locals_;
  std::vector<SysSeconds> pending_;  // sorted, distinct
  std::optional<SysSeconds> emitted_;
  SysSeconds safe_below_ = SysSeconds::min();
  bool exhausted_ = false;
  std::optional<LocalSeconds> cached_from_;
  seconds cached_max_{0};
};

// --- parsing a Recurrence ------------------------------------------------------------------

struct Until {
  LocalSeconds time;  // for a date: the last second of that day
  bool utc = false;   // "Z": `time` is UTC, not local
  std::string text;   // "UNTIL=..." as written
};

struct ParsedRecurrence {
  icalrecurrencetype rule{};
  Unit unit = Unit::kDay;
  int interval = 1;
  int count = 0;
  std::optional<Until> until;
  bool weekday_positions = false;  // BYDAY has a weekday with a position, such as 1MO
  std::int64_t window_periods = 1;
};

// An error in the spec's `field`, named as the task APIs name it.
Error SpecError(std::string field, std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), std::move(field));
}

Error RecurrenceError(std::string message) { return SpecError("Recurrence", std::move(message)); }

constexpr std::string_view kRuleExample = "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6";

struct Part {
  std::string_view text;  // "NAME=VALUE" as written
  std::string name;       // upper case
  std::string_view value;
};

std::string Quoted(const Part& p) { return Quote(p.text); }

// A rule's parts in the order written, each name at most once.
struct RuleParts {
  std::vector<Part> list;

  const Part* Find(std::string_view name) const {
    for (const Part& p : list)
      if (p.name == name) return &p;
    return nullptr;
  }
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
};

constexpr std::array<std::pair<std::string_view, Unit>, 7> kFrequencies = {{
    {"SECONDLY", Unit::kSecond},
    {"MINUTELY", Unit::kMinute},
    {"HOURLY", Unit::kHour},
    {"DAILY", Unit::kDay},
    {"WEEKLY", Unit::kWeek},
    {"MONTHLY", Unit::kMonth},
    {"YEARLY", Unit::kYear},
}};

constexpr std::array<std::string_view, 7> kWeekdays = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

// A whole number written as [+-]digits (at most six digits), or std::nullopt.
std::optional<int> ParseInteger(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 6) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

std::vector<std::string_view> SplitList(std::string_view value) {
  std::vector<std::string_view> items;
  while (true) {
    auto comma = value.find(',');
    items.push_back(value.substr(0, comma));
    if (comma == std::string_view::npos) return items;
    value.remove_prefix(comma + 1);
  }
}

// --- each part's value: one reader per part, which checks it and records what it says ------

struct NumberList {
  std::string_view name;
  int min;  // the smallest positive value (0 or 1)
  int max;
  bool negative;  // -max..-1 counts from the end
  std::string_view what;
};

constexpr std::array<NumberList, 8> kNumberLists = {{
    {"BYSECOND", 0, 59, false, "a second (0 to 59)"},
    {"BYMINUTE", 0, 59, false, "a minute (0 to 59)"},
    {"BYHOUR", 0, 23, false, "an hour (0 to 23)"},
    {"BYMONTHDAY", 1, 31, true, "a day of the month (1 to 31, or -31 to -1 from its end)"},
    {"BYYEARDAY", 1, 366, true, "a day of the year (1 to 366, or -366 to -1 from its end)"},
    {"BYWEEKNO", 1, 53, true, "a week of the year (1 to 53, or -53 to -1 from its end)"},
    {"BYMONTH", 1, 12, false, "a month (1 to 12)"},
    {"BYSETPOS", 1, 366, true, "a position in the set (1 to 366, or -366 to -1 from its end)"},
}};

Status CheckNumberList(const Part& p, const NumberList& list) {
  std::vector<int> seen;
  for (auto item : SplitList(p.value)) {
    auto v = ParseInteger(item);
    if (list.name == "BYSECOND" && v == 60)
      return std::unexpected(RecurrenceError(
          Quoted(p) + ": 60 is a leap second, which UTC-based time here never has; use 0 to 59"));
    bool ok =
        v && ((*v >= list.min && *v <= list.max) || (list.negative && *v <= -1 && *v >= -list.max));
    if (!ok)
      return std::unexpected(
          RecurrenceError(Quoted(p) + ": " + Quote(item) + " is not " + std::string(list.what)));
    if (std::find(seen.begin(), seen.end(), *v) != seen.end())
      return std::unexpected(RecurrenceError(Quoted(p) + ": " + Quote(item) + " is given twice"));
    seen.push_back(*v);
  }
  return {};
}

// BYDAY: [+-][1-53]weekday, weekday one of SU..SA.
Status ReadByDay(const Part& p, ParsedRecurrence& out) {
  std::vector<std::string> seen;
  for (auto item : SplitList(p.value)) {
    std::string upper = Upper(item);
    std::string_view rest = upper;
    bool ok = rest.size() >= 2 && std::find(kWeekdays.begin(), kWeekdays.end(),
                                            rest.substr(rest.size() - 2)) != kWeekdays.end();
    if (ok && rest.size() > 2) {
      auto position = ParseInteger(rest.substr(0, rest.size() - 2));
      ok = position && *position != 0 && *position >= -53 && *position <= 53;
      out.weekday_positions = true;
    }
    if (!ok)
      return std::unexpected(
          RecurrenceError(Quoted(p) + ": " + Quote(item) +
                          " is not a weekday (SU, MO, TU, WE, TH, FR, SA, with MONTHLY or "
                          "YEARLY also a position such as 1MO or -1FR)"));
    if (std::find(seen.begin(), seen.end(), upper) != seen.end())
      return std::unexpected(RecurrenceError(Quoted(p) + ": " + Quote(item) + " is given twice"));
    seen.push_back(upper);
  }
  return {};
}

// UNTIL: 20271231 (a local date), 20271231T235959 (local), 20271231T235959Z (UTC).
Result<Until> ParseUntil(const Part& p) {
  auto fail = [&] {
    return std::unexpected(RecurrenceError(
        Quoted(p) +
        ": UNTIL is a date-time such as 20271231T235959Z (UTC) or 20271231T235959 (local "
        "time in TimeZone), or a date such as 20271231"));
  };
  std::string v = Upper(p.value);
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > v.size()) return std::nullopt;
    int out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return std::nullopt;
      out = out * 10 + (v[i] - '0');
    }
    return out;
  };
  if (v.size() != 8 && v.size() != 15 && v.size() != 16) return fail();
  auto y = digits(0, 4), mo = digits(4, 2), d = digits(6, 2);
  if (!y || !mo || !d) return fail();
  date::year_month_day day{date::year{*y}, date::month(unsigned(*mo)), date::day(unsigned(*d))};
  if (!day.ok()) return fail();
  Until until;
  until.text = std::string(p.text);
  if (v.size() == 8) {
    until.time = LocalSeconds{date::local_days{day} + days(1)} - seconds(1);
    return until;
  }
  auto h = digits(9, 2), mi = digits(11, 2), s = digits(13, 2);
  if (v[8] != 'T' || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return fail();
  if (v.size() == 16 && v[15] != 'Z') return fail();
  until.time = LocalSeconds{date::local_days{day}} + hours(*h) + minutes(*mi) + seconds(*s);
  until.utc = v.size() == 16;
  return until;
}

// COUNT and INTERVAL: a whole number from 1 to `max`, written without a sign.
Status ReadWholeNumber(const Part& p, int max, int& into) {
  auto v = ParseInteger(p.value);
  if (!v || *v < 1 || *v > max || p.value[0] == '+' || p.value[0] == '-')
    return std::unexpected(RecurrenceError(Quoted(p) + ": " + p.name +
                                           " is a whole number from 1 to " + std::to_string(max)));
  into = *v;
  return {};
}

Status ReadCount(const Part& p, ParsedRecurrence& out) {
  return ReadWholeNumber(p, kMaxRecurrenceCount, out.count);
}

Status ReadInterval(const Part& p, ParsedRecurrence& out) {
  return ReadWholeNumber(p, kMaxRecurrenceInterval, out.interval);
}

Status ReadUntil(const Part& p, ParsedRecurrence& out) {
  auto until = ParseUntil(p);
  if (!until) return std::unexpected(until.error());
  out.until = *until;
  return {};
}

Status ReadWeekStart(const Part& p, ParsedRecurrence&) {
  if (std::find(kWeekdays.begin(), kWeekdays.end(), Upper(p.value)) == kWeekdays.end())
    return std::unexpected(
        RecurrenceError(Quoted(p) + ": WKST is a weekday (SU, MO, TU, WE, TH, FR, SA)"));
  return {};
}

// The BY parts that are lists of numbers, each checked against its row of kNumberLists.
Status ReadNumberList(const Part& p, ParsedRecurrence&) {
  for (const NumberList& list : kNumberLists)
    if (list.name == p.name) return CheckNumberList(p, list);
  return {};
}

// FREQ's value is read before every other part's (ReadFreq): they are checked against it.
Status FreqIsReadFirst(const Part&, ParsedRecurrence&) { return {}; }

struct PartReader {
  std::string_view name;
  Status (*read)(const Part&, ParsedRecurrence&);
};

// Every part an RRULE may have and how its value is read, in RFC 5545's order (which the
// message refusing an unknown part lists).
constexpr std::array<PartReader, 14> kPartReaders = {{
    {"FREQ", FreqIsReadFirst},
    {"UNTIL", ReadUntil},
    {"COUNT", ReadCount},
    {"INTERVAL", ReadInterval},
    {"BYSECOND", ReadNumberList},
    {"BYMINUTE", ReadNumberList},
    {"BYHOUR", ReadNumberList},
    {"BYDAY", ReadByDay},
    {"BYMONTHDAY", ReadNumberList},
    {"BYYEARDAY", ReadNumberList},
    {"BYWEEKNO", ReadNumberList},
    {"BYMONTH", ReadNumberList},
    {"BYSETPOS", ReadNumberList},
    {"WKST", ReadWeekStart},
}};

const PartReader* FindPartReader(std::string_view name) {
  auto it = std::find_if(kPartReaders.begin(), kPartReaders.end(),
                         [&](const PartReader& r) { return r.name == name; });
  return it == kPartReaders.end() ? nullptr : &*it;
}

// "FREQ, UNTIL, ..., WKST": the parts an RRULE may have, for a message.
std::string PartNames() {
  std::string out;
  for (const PartReader& r : kPartReaders) {
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

// --- the text and its parts ----------------------------------------------------------------

bool IsRuleCharacter(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ';' ||
         c == '=' || c == ',' || c == '+' || c == '-';
}

// A character a message refuses: printable ones quoted, the others as a byte value.
std::string DescribeCharacter(unsigned char c) {
  if (c == ' ') return "a space";
  if (c > 0x20 && c < 0x7f) return "'" + std::string(1, char(c)) + "'";
  return "byte " + std::to_string(c);
}

// The text as a whole: not too long, without the "RRULE:" prefix, only the characters of a rule.
Status CheckRecurrenceText(std::string_view text) {
  if (text.size() > kMaxRecurrenceLength)
    return std::unexpected(RecurrenceError("is " + std::to_string(text.size()) +
                                           " characters long; the most is " +
                                           std::to_string(kMaxRecurrenceLength)));
  if (Upper(text.substr(0, 6)) == "RRULE:")
    return std::unexpected(RecurrenceError(
        "give the RRULE value without the 'RRULE:' prefix, e.g. " + std::string(kRuleExample)));
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!IsRuleCharacter(c))
      return std::unexpected(
          RecurrenceError(DescribeCharacter(c) + " at position " + std::to_string(i + 1) +
                          " is not allowed; a rule is NAME=VALUE parts joined by ';' such as " +
                          std::string(kRuleExample)));
  }
  return {};
}

// One NAME=VALUE part: a part an RRULE may have, not among the parts `before` it.
Result<Part> ParsePart(std::string_view item, const RuleParts& before) {
  if (item.empty())
    return std::unexpected(
        RecurrenceError("has an empty part (';' at its start or ';;'); a rule looks like " +
                        std::string(kRuleExample)));
  auto equals = item.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == item.size())
    return std::unexpected(RecurrenceError(Quote(item) + " is not NAME=VALUE; a rule looks like " +
                                           std::string(kRuleExample)));
  Part p{item, Upper(item.substr(0, equals)), item.substr(equals + 1)};
  if (p.name == "RSCALE" || p.name == "SKIP")
    return std::unexpected(
        RecurrenceError(Quoted(p) +
                        ": RSCALE and SKIP (RFC 7529 calendars) are not supported; rules use "
                        "the Gregorian calendar"));
  if (!FindPartReader(p.name))
    return std::unexpected(RecurrenceError(Quoted(p) + ": " + Quote(p.name) +
                                           " is not a part of an RRULE (" + PartNames() + ")"));
  if (before.Has(p.name))
    return std::unexpected(RecurrenceError(Quoted(p) + ": " + p.name + " is given twice"));
  return p;
}

// The text's parts, split at ';' (a ';' at the end ends the last part).
Result<RuleParts> SplitParts(std::string_view text) {
  RuleParts parts;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto semicolon = rest.find(';');
    std::string_view item = rest.substr(0, semicolon);
    rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
    auto part = ParsePart(item, parts);
    if (!part) return std::unexpected(part.error());
    parts.list.push_back(std::move(*part));
  }
  if (parts.list.empty()) return std::unexpected(RecurrenceError("is empty"));
  return parts;
}

// FREQ, which every rule has: the unit the other parts are checked against.
Result<Unit> ReadFreq(const RuleParts& parts) {
  const Part* freq = parts.Find("FREQ");
  if (!freq)
    return std::unexpected(RecurrenceError(
        "has no FREQ; say how often it repeats, e.g. FREQ=DAILY or " + std::string(kRuleExample)));
  std::string name = Upper(freq->value);
  auto f = std::find_if(kFrequencies.begin(), kFrequencies.end(),
                        [&](const auto& e) { return e.first == name; });
  if (f == kFrequencies.end())
    return std::unexpected(RecurrenceError(
        Quoted(*freq) +
        ": FREQ is one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY"));
  return f->second;
}

// Each part's value, in the order written.
Status ReadPartValues(const RuleParts& parts, ParsedRecurrence& out) {
  for (const Part& p : parts.list)
    if (auto read = FindPartReader(p.name)->read(p, out); !read) return read;
  return {};
}

// --- the parts' combinations ---------------------------------------------------------------

// "FREQ=WEEKLY" for a rule with FREQ=weekly (read by ReadFreq): how messages name it.
std::string FreqText(const RuleParts& parts) { return "FREQ=" + Upper(parts.Find("FREQ")->value); }

// Refuses the rule at its part `name`, which it has.
std::unexpected<Error> RefusePart(const RuleParts& parts, std::string_view name, std::string why) {
  return std::unexpected(RecurrenceError(Quoted(*parts.Find(name)) + ": " + std::move(why)));
}

// RFC 5545 §3.3.10.
Status CheckRfc5545Combinations(const RuleParts& parts, const ParsedRecurrence& r) {
  if (parts.Has("COUNT") && parts.Has("UNTIL"))
    return RefusePart(parts, "UNTIL", "a rule gives COUNT or UNTIL, not both");
  if (parts.Has("BYWEEKNO") && r.unit != Unit::kYear)
    return RefusePart(parts, "BYWEEKNO", "BYWEEKNO is allowed only with FREQ=YEARLY");
  if (parts.Has("BYYEARDAY") &&
      (r.unit == Unit::kDay || r.unit == Unit::kWeek || r.unit == Unit::kMonth))
    return RefusePart(parts, "BYYEARDAY", "BYYEARDAY is not allowed with " + FreqText(parts));
  if (parts.Has("BYMONTHDAY") && r.unit == Unit::kWeek)
    return RefusePart(parts, "BYMONTHDAY", "BYMONTHDAY is not allowed with FREQ=WEEKLY");
  if (r.weekday_positions && r.unit != Unit::kMonth && r.unit != Unit::kYear)
    return RefusePart(parts, "BYDAY",
                      "a weekday with a position (1MO, -1FR) is allowed only with FREQ=MONTHLY or "
                      "YEARLY");
  if (r.weekday_positions && parts.Has("BYWEEKNO"))
    return RefusePart(parts, "BYDAY",
                      "a weekday with a position is not allowed together with BYWEEKNO");
  return {};
}

// libical 3.0.16 ignores BYSETPOS with other frequencies than MONTHLY and YEARLY, and applies
// it to the days chosen, never to the times of a day.
Status CheckBySetPos(const RuleParts& parts, const ParsedRecurrence& r) {
  if (!parts.Has("BYSETPOS")) return {};
  if (r.unit != Unit::kMonth && r.unit != Unit::kYear)
    return RefusePart(parts, "BYSETPOS",
                      "BYSETPOS works only with FREQ=MONTHLY or YEARLY (libical ignores it with " +
                          FreqText(parts) + ")");
  if (!parts.Has("BYDAY") && !parts.Has("BYMONTHDAY") && !parts.Has("BYYEARDAY") &&
      !parts.Has("BYWEEKNO") && !parts.Has("BYMONTH"))
    return RefusePart(parts, "BYSETPOS",
                      "BYSETPOS needs a BYDAY, BYMONTHDAY, BYYEARDAY, BYWEEKNO or "
                      "BYMONTH to choose from");
  for (std::string_view time_part : {"BYHOUR", "BYMINUTE", "BYSECOND"})
    if (const Part* p = parts.Find(time_part); p && p->value.find(',') != std::string_view::npos)
      return RefusePart(parts, "BYSETPOS",
                        "libical applies BYSETPOS to days, not to the times of a day: give one "
                        "value of " +
                            std::string(time_part) + " with it");
  return {};
}

// Date parts libical 3.0.16 picks wrong days with.
Status CheckLibicalDateParts(const RuleParts& parts, const ParsedRecurrence& r) {
  if (parts.Has("BYWEEKNO") && !parts.Has("BYDAY"))
    return RefusePart(parts, "BYWEEKNO",
                      "BYWEEKNO needs a BYDAY (libical picks wrong days without one)");
  if (r.unit != Unit::kYear) return {};
  if (parts.Has("BYYEARDAY") &&
      (parts.Has("BYMONTH") || parts.Has("BYMONTHDAY") || parts.Has("BYWEEKNO")))
    return RefusePart(parts, "BYYEARDAY",
                      "libical cannot combine BYYEARDAY with BYMONTH, BYMONTHDAY or BYWEEKNO");
  if (parts.Has("BYWEEKNO") && parts.Has("BYMONTHDAY"))
    return RefusePart(parts, "BYWEEKNO", "libical cannot combine BYWEEKNO with BYMONTHDAY");
  return {};
}

// Sub-daily rules: libical 3.0.16 expands a BY part of FREQ's own unit (BYHOUR with
// HOURLY) wrongly, skipping the first match and ignoring INTERVAL, and one of a larger time
// unit (BYHOUR with MINUTELY) from the wrong time of DTSTART; and a date part (BYMONTH with
// MINUTELY) could leave it stepping through months minute by minute. What is left is
// expanded right, cheaply (see ScheduleRule::window_periods).
Status CheckSubDailyParts(const RuleParts& parts, const ParsedRecurrence& r) {
  struct SubDaily {
    Unit unit;
    std::vector<std::string_view> allowed;
    std::string_view allowed_text;
  };
  for (const SubDaily& sub :
       {SubDaily{Unit::kSecond, {}, ""},
        SubDaily{Unit::kMinute, {"BYSECOND", "BYDAY"}, "BYSECOND and BYDAY"},
        SubDaily{Unit::kHour, {"BYSECOND", "BYMINUTE", "BYDAY"}, "BYSECOND, BYMINUTE and BYDAY"}}) {
    if (r.unit != sub.unit) continue;
    for (const Part& p : parts.list)
      if (p.name.starts_with("BY") &&
          std::find(sub.allowed.begin(), sub.allowed.end(), p.name) == sub.allowed.end())
        return RefusePart(parts, p.name,
                          FreqText(parts) +
                              (sub.allowed.empty()
                                   ? " takes no BY parts"
                                   : " may be narrowed only by " + std::string(sub.allowed_text)) +
                              " (libical expands other parts of it wrongly or slowly); say it "
                              "with FREQ=DAILY and the times listed, e.g. "
                              "FREQ=DAILY;BYHOUR=9,10,11;BYMINUTE=0,15,30,45");
  }
  return {};
}

using CombinationCheck = Status (*)(const RuleParts&, const ParsedRecurrence&);

// The first check that fails names the error, so this order is part of the messages.
constexpr std::array<CombinationCheck, 4> kCombinationChecks = {
    CheckRfc5545Combinations, CheckBySetPos, CheckLibicalDateParts, CheckSubDailyParts};

// --- libical's rule ------------------------------------------------------------------------

// Sorts a BY list in place: libical 3.0.16 walks BYHOUR, BYMINUTE and BYSECOND in the order
// written, so "BYHOUR=18,6" would give 18:00 before 06:00 of the same day.
template <std::size_t N>
void SortByList(short (&list)[N]) {
  std::size_t n = 0;
  while (n < N && list[n] != ICAL_RECURRENCE_ARRAY_MAX) ++n;
  std::sort(list, list + n);
}

// Asks libical to parse `text`, which has passed the checks above; if libical still refuses,
// names the first part at which it does.
Result<icalrecurrencetype> LibicalParse(std::string_view text, const std::vector<Part>& parts) {
  icalerror_clear_errno();
  icalrecurrencetype rule = icalrecurrencetype_from_string(std::string(text).c_str());
  bool failed = icalerrno != ICAL_NO_ERROR || rule.freq == ICAL_NO_RECURRENCE;
  icalerror_clear_errno();
  if (!failed) return rule;
  std::string prefix;
  for (const Part& p : parts) {
    if (!prefix.empty()) prefix += ';';
    prefix += p.text;
    icalrecurrencetype partial = icalrecurrencetype_from_string(prefix.c_str());
    bool bad = icalerrno != ICAL_NO_ERROR;
    icalerror_clear_errno();
    if (partial.rscale) free(partial.rscale);
    if (bad) return std::unexpected(RecurrenceError(Quoted(p) + ": libical cannot read it"));
  }
  return std::unexpected(RecurrenceError("libical cannot read " + Quote(text)));
}

// `rule` as ScheduleRule::rule keeps it: COUNT and UNTIL are the ScheduleRule's bounds instead.
icalrecurrencetype WithoutBoundsSorted(icalrecurrencetype rule) {
  rule.count = 0;
  rule.until = icaltime_null_time();
  SortByList(rule.by_second);
  SortByList(rule.by_minute);
  SortByList(rule.by_hour);
  SortByList(rule.by_month_day);
  SortByList(rule.by_year_day);
  SortByList(rule.by_week_no);
  SortByList(rule.by_month);
  SortByList(rule.by_set_pos);
  return rule;
}

// The period of the calendar pattern a rule's parts can express, in FREQ units: within it
// (times INTERVAL) a rule with any occurrence has one (see ScheduleRule::window_periods).
std::int64_t WindowPeriods(Unit unit, bool by_date) {
  switch (unit) {
    case Unit::kSecond:
      return 1;  // no BY parts: every period
    case Unit::kMinute:
      return 7 * 24 * 60;  // BYDAY: a week
    case Unit::kHour:
      return 7 * 24;
    case Unit::kDay:
      return by_date ? 146097 : 7;  // 400 Gregorian years, or a week
    case Unit::kWeek:
      return by_date ? 20871 : 1;
    case Unit::kMonth:
      return 4800;
    case Unit::kYear:
      return 400;
  }
  return 1;
}

// Checks `text` in the order a reader would (the text, its parts, FREQ, each part's value,
// the parts' combinations, libical's own parse), so the first thing wrong is the one named.
Result<ParsedRecurrence> ParseRecurrence(std::string_view text) {
  if (auto checked = CheckRecurrenceText(text); !checked) return std::unexpected(checked.error());
  auto parts = SplitParts(text);
  if (!parts) return std::unexpected(parts.error());
  auto unit = ReadFreq(*parts);
  if (!unit) return std::unexpected(unit.error());
  ParsedRecurrence out;
  out.unit = *unit;
  if (auto read = ReadPartValues(*parts, out); !read) return std::unexpected(read.error());
  for (CombinationCheck check : kCombinationChecks)
    if (auto allowed = check(*parts, out); !allowed) return std::unexpected(allowed.error());
  auto rule = LibicalParse(text, parts->list);
  if (!rule) return std::unexpected(rule.error());
  out.rule = WithoutBoundsSorted(*rule);
  bool by_date = parts->Has("BYMONTH") || parts->Has("BYMONTHDAY") || parts->Has("BYYEARDAY") ||
                 parts->Has("BYWEEKNO");
  out.window_periods = WindowPeriods(out.unit, by_date);
  return out;
}

// --- building a Schedule -------------------------------------------------------------------

std::string FrequencyRule(Frequency f) { return "FREQ=" + std::string(FrequencyName(f)); }

// Frequency is one of the enum's values, and NONE when a Recurrence is given.
Status CheckFrequency(const ScheduleSpec& spec) {
  if (!FrequencyFromNumber(static_cast<long long>(spec.frequency)))
    return std::unexpected(
        SpecError("Frequency", std::to_string(static_cast<int>(spec.frequency)) +
                                   " is not a frequency (NONE, HOURLY, DAILY, WEEKLY, MONTHLY)"));
  if (!spec.recurrence.empty() && spec.frequency != Frequency::kNone) {
    std::string both = "Recurrence and Frequency " + std::string(FrequencyName(spec.frequency));
    return std::unexpected(SpecError(
        "Recurrence", both + " are both set; give one of them (Frequency NONE with a Recurrence, "
                             "or a Frequency without one)"));
  }
  return {};
}

Result<const date::time_zone*> LocateZone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return std::unexpected(SpecError(
        "TimeZone", Quote(name) + " is not a time zone of the IANA database; use a name such as "
                                  "Europe/Oslo, America/New_York or UTC"));
  }
}

// How messages name the start: StartDate, or the anchor that stands for a missing one.
std::string DescribeStart(const ScheduleSpec& spec, Timestamp start) {
  return spec.start ? "StartDate " + FormatRfc3339(start)
                    : "the start (the task's creation time " + FormatRfc3339(start) + ")";
}

// A repeating schedule's rule, as its errors name it.
struct RuleSource {
  std::string field;  // "Recurrence", or "Frequency" when that gives the rule
  std::string text;   // the Recurrence, or FREQ=<the Frequency>
};

RuleSource RuleSourceOf(const ScheduleSpec& spec) {
  if (spec.recurrence.empty()) return {"Frequency", FrequencyRule(spec.frequency)};
  return {"Recurrence", spec.recurrence};
}

Status CheckRepeatingStart(Timestamp start, const std::string& start_text) {
  auto year = date::year_month_day{date::floor<days>(start)}.year();
  if (year < date::year{kFirstStartYear} || year > date::year{kLastStartYear})
    return std::unexpected(
        SpecError("StartDate", "a repeating schedule's start must be in the years " +
                                   std::to_string(kFirstStartYear) + " to " +
                                   std::to_string(kLastStartYear) + ", not " + start_text));
  return {};
}

// Puts the parsed rule into `rule` (its spec and zone set), with the bounds FinishDate and
// UNTIL give.
void SetRecurrence(ScheduleRule& rule, const ParsedRecurrence& parsed, Timestamp start) {
  rule.recurring = true;
  rule.rule = parsed.rule;
  rule.unit = parsed.unit;
  rule.interval = parsed.interval;
  rule.window_periods = parsed.window_periods;
  rule.start = std::chrono::ceil<seconds>(start);
  rule.dtstart = ToLocal(rule.zone, rule.start);
  if (rule.spec.finish) rule.last_instant = std::chrono::floor<seconds>(*rule.spec.finish);
  if (!parsed.until) return;
  if (parsed.until->utc) {
    SysSeconds until = AsSys(parsed.until->time);
    rule.last_instant = rule.last_instant ? std::min(*rule.last_instant, until) : until;
  } else {
    rule.last_local = parsed.until->time;
  }
}

// COUNT counts the rule's local occurrences from the start; the last one counted becomes an
// inclusive local bound, so that later calls can start near the time they ask about.
LocalSeconds LastCountedOccurrence(const ScheduleRule& rule, int count) {
  LocalOccurrences occurrences(rule, rule.dtstart, std::nullopt);
  std::optional<LocalSeconds> last;
  for (int i = 0; i < count; ++i) {
    auto t = occurrences.Next();
    if (!t) break;
    last = t;
  }
  return last.value_or(rule.dtstart - seconds(1));
}

// The first due times, for the shortest interval and repeats(): at least two, then those
// of the first year (a sparse rule's due times a century apart need not all be found).
std::vector<SysSeconds> FirstDueTimes(const ScheduleRule& rule) {
  DueTimes due(rule, rule.start, std::nullopt);
  std::vector<SysSeconds> sample;
  while (sample.size() < kIntervalSample) {
    auto t = due.Next();
    if (!t) break;
    sample.push_back(*t);
    if (sample.size() >= 2 && *t > sample.front() + days(366)) break;
  }
  return sample;
}

// The first due time the rule would have without FinishDate (an UNTIL in UTC still ends it).
std::optional<SysSeconds> FirstDueTimeIgnoringFinish(const ScheduleRule& rule,
                                                     const ParsedRecurrence& parsed) {
  ScheduleRule unbounded = rule;
  unbounded.last_instant.reset();
  if (parsed.until && parsed.until->utc) unbounded.last_instant = AsSys(parsed.until->time);
  return DueTimes(unbounded, rule.start, std::nullopt).Next();
}

// Why a rule has no due time: FinishDate comes first, UNTIL does, or nothing ever matches.
Error NoDueTimeError(const ScheduleRule& rule, const ParsedRecurrence& parsed,
                     const RuleSource& source, const std::string& start_text) {
  std::string message = Quote(source.text) + " has no due time";
  const ScheduleSpec& spec = rule.spec;
  if (spec.finish)
    if (auto later = FirstDueTimeIgnoringFinish(rule, parsed))
      return SpecError(source.field, message + " before FinishDate " + FormatRfc3339(*spec.finish) +
                                         " (the first after " + start_text + " is " +
                                         Format(*later) + ")");
  if (parsed.until)
    return SpecError(source.field,
                     message + " from " + start_text + " to " + Quote(parsed.until->text));
  return SpecError(source.field, message + " at or after " + start_text +
                                     ": no date and time matches all of its parts");
}

Status CheckShortestInterval(const std::vector<SysSeconds>& due, seconds min_interval,
                             const RuleSource& source) {
  for (std::size_t i = 1; i < due.size(); ++i) {
    auto gap = due[i] - due[i - 1];
    if (gap < min_interval)
      return std::unexpected(SpecError(
          source.field, Quote(source.text) + " has due times " + std::to_string(gap.count()) +
                            " s apart (" + Format(due[i - 1]) + " and " + Format(due[i]) +
                            "); the shortest interval allowed is " +
                            std::to_string(min_interval.count()) + " s"));
  }
  return {};
}

// Completes `rule` (its spec and zone set) for a repeating spec: the parsed rule, its bounds
// with COUNT resolved, and its first due time, which it must have, with due times at least
// `min_interval` apart.
Status CompleteRecurringRule(ScheduleRule& rule, Timestamp start, const std::string& start_text,
                             seconds min_interval) {
  RuleSource source = RuleSourceOf(rule.spec);
  auto parsed = ParseRecurrence(source.text);
  if (!parsed) return std::unexpected(parsed.error());
  if (auto allowed = CheckRepeatingStart(start, start_text); !allowed) return allowed;
  SetRecurrence(rule, *parsed, start);
  if (parsed->count > 0) rule.last_local = LastCountedOccurrence(rule, parsed->count);
  std::vector<SysSeconds> due = FirstDueTimes(rule);
  if (due.empty()) return std::unexpected(NoDueTimeError(rule, *parsed, source, start_text));
  if (auto allowed = CheckShortestInterval(due, min_interval, source); !allowed) return allowed;
  rule.first = Timestamp(due.front());
  rule.repeats = due.size() > 1;
  return {};
}

}  // namespace

Result<Schedule> Schedule::Create(const ScheduleSpec& spec, Timestamp anchor) {
  return Create(spec, anchor, kMinScheduleInterval);
}

Result<Schedule> Schedule::Create(const ScheduleSpec& spec, Timestamp anchor,
                                  std::chrono::seconds min_interval) {
  MakeLibicalErrorsNonFatal();
  IcalErrnoReset reset;
  if (auto checked = CheckFrequency(spec); !checked) return std::unexpected(checked.error());
  auto zone = LocateZone(spec.time_zone);
  if (!zone) return std::unexpected(zone.error());
  Timestamp start = spec.start.value_or(anchor);
  std::string start_text = DescribeStart(spec, start);
  if (spec.finish && *spec.finish <= start)
    return std::unexpected(
        SpecError("FinishDate", FormatRfc3339(*spec.finish) + " is not after " + start_text));

  auto rule = std::make_shared<internal::ScheduleRule>();
  rule->spec = spec;
  rule->zone = *zone;
  if (spec.frequency == Frequency::kNone && spec.recurrence.empty()) {
    rule->first = start;
    return Schedule(std::move(rule));
  }
  if (auto completed = CompleteRecurringRule(*rule, start, start_text, min_interval); !completed)
    return std::unexpected(completed.error());
  return Schedule(std::move(rule));
}

std::optional<Timestamp> Schedule::NextAfter(Timestamp t) const {
  const auto& r = *rule_;
  if (t < r.first) return r.first;
  if (!r.recurring) return std::nullopt;
  IcalErrnoReset reset;
  SysSeconds threshold = std::chrono::floor<seconds>(t) + seconds(1);
  if (threshold > AsSys(LastLibicalLocal())) return std::nullopt;
  auto next = DueTimes(r, threshold, std::nullopt).Next();
  if (!next) return std::nullopt;
  return Timestamp(*next);
}

std::vector<Timestamp> Schedule::Between(Timestamp after, Timestamp up_to,
                                         std::size_t limit) const {
  const auto& r = *rule_;
  std::vector<Timestamp> out;
  if (limit == 0 || up_to <= after || up_to < r.first) return out;
  if (!r.recurring) {
    if (after < r.first) out.push_back(r.first);
    return out;
  }
  IcalErrnoReset reset;
  SysSeconds threshold = after < r.first ? std::chrono::floor<seconds>(r.first)
                                         : std::chrono::floor<seconds>(after) + seconds(1);
  if (threshold > AsSys(LastLibicalLocal())) return out;
  DueTimes due(r, threshold, std::chrono::floor<seconds>(up_to));
  while (out.size() < limit) {
    auto t = due.Next();
    if (!t) break;
    out.push_back(Timestamp(*t));
  }
  return out;
}

Timestamp Schedule::first() const { return rule_->first; }

bool Schedule::repeats() const { return rule_->repeats; }

const ScheduleSpec& Schedule::spec() const { return rule_->spec; }

}  // namespace conveyor

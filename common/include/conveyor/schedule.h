// When a scheduled or recurring task is due: a pure function of its schedule and a time.
//
// A ScheduleSpec is what a task says (TwoSms Frequency/StartDate/FinishDate and Conveyor's
// Recurrence and TimeZone extensions); Schedule::Create checks it once and builds a Schedule,
// which answers "the first due time after t" and "the due times in (a, b]". Nothing here reads
// a clock or does I/O: callers pass the instants (the creation time as `anchor`, the scheduler's
// "now" as `t`).
//
// Due times. Frequency NONE without a recurrence has one due time, the start (to the
// microsecond). Otherwise an RFC 5545 RRULE is expanded by libical in floating local time,
// anchored at the start's wall-clock time in `time_zone` (its DTSTART), and each local time
// becomes an instant by RFC 5545 §3.3.5 with the system tz database (date/tz):
//   * a local time that does not exist (spring forward) is read with the offset before the gap:
//     02:30 in Europe/Oslo on 2027-03-28 is 03:30 CEST = 01:30Z;
//   * a local time that occurs twice (fall back) is its first occurrence (02:30 CEST);
//   * two local times that become one instant (02:30 in the gap and 03:30 after it) are one
//     due time; due times are strictly increasing.
// So a daily 02:30 fires once on both transition days, and an hourly rule fires once per
// wall-clock hour: on a fall-back day the repeated hour gets one due time, not two.
// A repeating schedule's due times are whole seconds (a start with a fraction of a second is
// rounded up to the next second first); they are the rule's occurrences at or after the start
// (the start itself only if the rule produces it) and at or before FinishDate (a due time equal
// to FinishDate is due). COUNT counts the rule's local occurrences from the start; UNTIL ending
// in Z is an instant, UNTIL without Z a wall-clock time in `time_zone`, and a date UNTIL (no
// time) includes that whole local day.
//
// What Create refuses beyond RFC 5545, each with an error that says so and what to write
// instead: a rule longer than kMaxRecurrenceLength characters, COUNT above kMaxRecurrenceCount,
// INTERVAL above kMaxRecurrenceInterval, BYSECOND=60, RSCALE and SKIP (RFC 7529), a repeating
// start outside the years 1900 to 2500; and what libical 3.0.16 expands wrongly or would expand
// slowly: FREQ=SECONDLY with any BY part, FREQ=MINUTELY with other than BYSECOND and BYDAY,
// FREQ=HOURLY with other than BYSECOND, BYMINUTE and BYDAY (say those with FREQ=DAILY and the
// times listed), BYSETPOS outside MONTHLY and YEARLY or with several hours, minutes or seconds,
// BYWEEKNO without BYDAY, and BYYEARDAY or BYWEEKNO with the YEARLY parts libical cannot
// combine them with.
//
// Cost. NextAfter and Between never iterate from a start long ago: they restart libical at a
// point of the rule's INTERVAL grid at most two periods before the time asked about (moving
// DTSTART by whole periods keeps every default libical takes from it; libical's own
// icalrecur_iterator_set_start loses INTERVAL's alignment and cannot be used with COUNT), so a
// call costs a few libical steps per due time it returns, however old the start. Between two
// due times libical steps through the periods that have none: for a sub-daily rule the limits
// above keep that to a week of minutes at most, and any search stops after the longest gap
// the rule's parts allow (a week, or 400 Gregorian years of days or months), so nothing walks
// on to libical's last year (2582). Create
// resolves COUNT once (at most kMaxRecurrenceCount occurrences); a rule that never matches
// costs it at most about a third of a second (measured: FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30).
//
// Ownership and threads. A Schedule is an immutable value that shares its parsed rule;
// copies are cheap, and any number of threads may call const members of one Schedule, or
// Create, at once. libical is used only in ways that are safe for that: times are floating (its
// built-in time-zone cache is never touched), icalerrno is per thread in Debian's build and is
// cleared after every use, and each call has its own iterator. Create once switches off
// libical's process-wide "errors are fatal" flag if a build had it on, so a bad rule is an
// error here and never an abort. The tz database of date/tz is loaded once, thread-safely.
//
// Errors. Create returns kInvalidArgument with `field` named as the task APIs name it
// ("Frequency", "Recurrence", "TimeZone", "StartDate", "FinishDate") and a message that says
// what is wrong and what is allowed. NextAfter and Between cannot fail.
//
// Known limit: date/tz (Debian libhowardhinnant-date 3.0.1) reads the zoneinfo files'
// transitions and ignores their POSIX rule for later years, so after 2037 every zone keeps the
// offset of its last transition (no daylight saving then).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/clock.h"
#include "conveyor/result.h"
#include "conveyor/task.h"

namespace conveyor {

namespace internal {
struct ScheduleRule;  // the checked spec and libical's parsed rule (schedule.cc)
}  // namespace internal

// The shortest time between two due times a schedule may have (say so in errors).
inline constexpr std::chrono::seconds kMinScheduleInterval{1};
// The longest Recurrence accepted, in characters.
inline constexpr std::size_t kMaxRecurrenceLength = 512;
// The largest COUNT and INTERVAL a Recurrence may give.
inline constexpr int kMaxRecurrenceCount = 10000;
inline constexpr int kMaxRecurrenceInterval = 1000;

// What a task says about when it runs (TwoSms Frequency/StartDate/FinishDate, Conveyor's
// Recurrence and TimeZone extensions).
struct ScheduleSpec {
  Frequency frequency = Frequency::kNone;
  std::string recurrence;  // an RFC 5545 RRULE value, e.g. "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=6";
                           // empty: `frequency` says it
  std::string time_zone = "UTC";    // IANA name; the rule is evaluated in local time there
  std::optional<Timestamp> start;   // DTSTART; std::nullopt: the `anchor` given to Create
  std::optional<Timestamp> finish;  // no due time after it
};

class Schedule {
 public:
  // Checks `spec` and builds the schedule; `anchor` stands for a missing start (the task's
  // creation time). Errors (kInvalidArgument) name the field the way the API does and say why:
  //   "TimeZone": unknown zone (named);
  //   "Recurrence": malformed rule, naming the part that is wrong (e.g. "BYDAY=XX"), a FREQ
  //                 the rule lacks, a rule whose due times come closer than kMinScheduleInterval,
  //                 one of the limits above;
  //   "Recurrence" and "Frequency" both set to something other than NONE: refused ("give one
  //                 of them");
  //   "StartDate": a repeating schedule's start outside the years 1900 to 2500;
  //   "FinishDate": not after the start;
  //   "Recurrence" (or "Frequency"): no due time between start and finish ("has no due time
  //                 before FinishDate ...", or at all: UNTIL before the start, an impossible
  //                 rule such as FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30).
  // A spec with Frequency NONE and no recurrence has exactly one due time: the start (or the
  // anchor). Frequency HOURLY/DAILY/WEEKLY/MONTHLY mean RRULE FREQ=HOURLY/DAILY/WEEKLY/MONTHLY
  // anchored at the start's local wall-clock time in `time_zone` (so MONTHLY from the 31st
  // skips 30-day months, as RFC 5545 does).
  static Result<Schedule> Create(const ScheduleSpec& spec, Timestamp anchor);
  // The same with another shortest interval than kMinScheduleInterval (a stricter policy).
  // Both check it on the due times of the schedule's first year (at most 100 of them): a rule
  // whose BYMONTH or similar parts make it denser later is not caught.
  static Result<Schedule> Create(const ScheduleSpec& spec, Timestamp anchor,
                                 std::chrono::seconds min_interval);

  // The first due time strictly after `t`; std::nullopt when none remains (past finish, COUNT
  // or UNTIL used up).
  std::optional<Timestamp> NextAfter(Timestamp t) const;
  // The due times in (after, up_to], oldest first, at most `limit` of them.
  std::vector<Timestamp> Between(Timestamp after, Timestamp up_to, std::size_t limit) const;
  // The first due time (the start for NONE).
  Timestamp first() const;
  // Whether it repeats (more than one due time possible): it has a second due time.
  bool repeats() const;
  const ScheduleSpec& spec() const;

 private:
  explicit Schedule(std::shared_ptr<const internal::ScheduleRule> rule) : rule_(std::move(rule)) {}

  std::shared_ptr<const internal::ScheduleRule> rule_;
};

}  // namespace conveyor

// ISO 8601 / RFC 3339 date-times as the three task APIs write them.
//
// Parsing accepts "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9 digits, and an
// optional offset ("Z", "+HH:MM", "-HHMM"). A date-time without an offset is taken as UTC.
// Precision below a microsecond is dropped. Formatting writes what .NET writes in the TwoSms
// samples: seven fractional digits and a "+00:00" offset ("2026-02-22T04:10:00.9620006+00:00").
// Hand-written: Debian 12's libstdc++ has no std::chrono::parse.
//
// Only instants from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z are accepted: the
// formats write four-digit years and PostgreSQL has no year 0, so whatever parses can be
// formatted, stored and parsed again.
#pragma once

#include <string>
#include <string_view>

#include "conveyor/clock.h"
#include "conveyor/result.h"

namespace conveyor {

Result<Timestamp> ParseDateTime(std::string_view text);

// "2026-02-22T04:10:00.9620006+00:00" (UTC, seven fractional digits).
std::string FormatDotNet(Timestamp t);

// "2026-02-22T04:10:00.962000Z" (UTC, RFC 3339, microseconds): events and logs.
std::string FormatRfc3339(Timestamp t);

}  // namespace conveyor

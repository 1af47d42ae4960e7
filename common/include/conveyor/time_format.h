// ISO 8601 / RFC 3339 date-times as the three task APIs write them.
//
// Parsing accepts "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9 digits, and an
// optional offset ("Z", "+HH:MM", "-HHMM"). A date-time without an offset is taken as UTC.
// Precision below a microsecond is dropped. Formatting writes what .NET writes in the TwoSms
// samples: seven fractional digits and a "+00:00" offset ("2026-02-22T04:10:00.9620006+00:00").
// Hand-written: Debian 12's libstdc++ has no std::chrono::parse.
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

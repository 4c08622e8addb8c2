// How mediationctl writes and reads times, dates and times of day, in one place, so that what it
// prints it accepts back as a flag (tests/clients/cli_times_test.cc checks every flag of every
// command that takes one).
//
// An instant (google.protobuf.Timestamp) is printed as London wall-clock time, to the second,
// with the zone's abbreviation: `2026-12-10 09:30 GMT`, `2026-07-01 14:00 BST`, `09:30:15 GMT`
// when the seconds are not zero (`--output=json` gives the exact instant). It is read from:
//   - that form. The abbreviation says which offset is meant, so the hour that happens twice when
//     the clocks go back (01:30 BST, then 01:30 GMT) is not ambiguous; an abbreviation London
//     does not use at that time (`2026-12-10 09:30 BST`) is refused as a likely mistake;
//   - London wall-clock time without a zone, `2026-12-10 09:30` or `2026-12-10T09:30[:SS]` (the
//     server's `local_start`); in the repeated hour this is ambiguous and refused;
//   - RFC 3339 with `Z` or an offset, `2026-12-10T09:30:00Z`, `2026-07-01T14:00:00+01:00`
//     (fractions of a second kept), which is what `--output=json` prints.
// A time that does not exist in London (in the hour skipped when the clocks go forward) is
// refused. A date is YYYY-MM-DD and a time of day HH:MM, both ways.
#ifndef MEDIATION_CLIENTS_CLI_TIMES_H_
#define MEDIATION_CLIENTS_CLI_TIMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace mediation::cli {

// Europe/London; UTC if the system has no tz database (install-deps.sh installs tzdata), in
// which case ParseInstant refuses London wall-clock times rather than misread them.
const absl::TimeZone& London();

std::string FormatInstant(absl::Time t);
absl::StatusOr<absl::Time> ParseInstant(absl::string_view text);

std::string FormatDate(absl::CivilDay day);
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text);

// Minutes after midnight, 0 to 1439.
std::string FormatTimeOfDay(int hours, int minutes);
absl::StatusOr<std::pair<int, int>> ParseTimeOfDay(absl::string_view text);

// What the help for each kind of flag says to write.
inline constexpr absl::string_view kInstantHelp =
    "YYYY-MM-DD HH:MM (London; GMT/BST suffix optional) or RFC 3339";
inline constexpr absl::string_view kDateHelp = "YYYY-MM-DD";
inline constexpr absl::string_view kTimeOfDayHelp = "HH:MM";

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_TIMES_H_

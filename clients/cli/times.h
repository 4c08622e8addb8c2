// How mediationctl writes and reads times, in one place, so that whatever it prints as a time it
// accepts back as a flag (tests/clients/cli_times_test.cc checks every flag that takes a time).
//
// An instant (google.protobuf.Timestamp) is printed as London wall-clock time with the zone's
// abbreviation, `2026-12-10 09:30 GMT` or `2026-07-01 14:00 BST` (seconds only when not zero:
// `09:30:15 GMT`), and is read from:
//   - that form: the abbreviation says which offset is meant, so the hour that happens twice
//     when the clocks go back (01:30 BST, then 01:30 GMT) is not ambiguous; an abbreviation that
//     London does not use at that time (`2026-12-10 09:30 BST`) is refused as a likely mistake;
//   - London wall-clock time without a zone, `2026-12-10 09:30` or `2026-12-10T09:30[:SS]`
//     (in the repeated hour, the first of the two, BST);
//   - RFC 3339 with `Z` or an offset, `2026-12-10T09:30:00Z`, `2026-07-01T14:00:00+01:00`
//     (fractions of a second kept), which is also what `--output=json` prints.
// A date is YYYY-MM-DD and a time of day HH:MM, both ways.
#ifndef MEDIATION_CLIENTS_CLI_TIMES_H_
#define MEDIATION_CLIENTS_CLI_TIMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace mediation::cli {

// Europe/London (UTC if the system has no tz database, which install-deps.sh prevents).
const absl::TimeZone& London();

// `2026-12-10 09:30 GMT`, as described above.
std::string FormatInstant(absl::Time t);

// Any of the forms above. INVALID_ARGUMENT says what was expected.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view text);

// What the help for a time flag says to write.
inline constexpr absl::string_view kInstantHelp =
    "YYYY-MM-DD HH:MM (London; GMT/BST suffix optional) or RFC 3339";

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_TIMES_H_

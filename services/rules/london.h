// Europe/London time, the one place that converts it (Howard Hinnant's date library over the
// system tz database): calendar days, wall-clock times of working patterns and availability, and
// the local texts responses and messages carry. Instants are UTC. Pure: no gRPC, no database.
#ifndef MEDIATION_SERVICES_RULES_LONDON_H_
#define MEDIATION_SERVICES_RULES_LONDON_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mediation::rules {

// Seconds since the Unix epoch, UTC.
using Instant = int64_t;
// A calendar day (Europe/London) as days since 1970-01-01.
using Day = int32_t;

// OK when the tz database knows Europe/London; otherwise a message saying what to install.
absl::Status CheckLondonTimeZone();

// The calendar day in Europe/London at instant `t`.
// REQUIRES (every function here): CheckLondonTimeZone() is OK.
Day LondonDay(absl::Time t);
Day LondonDayOf(Instant t);

// The instant London's day `day` begins (midnight is never skipped or repeated in London).
absl::Time LondonDayStart(Day day);

// Europe/London wall-clock to UTC: minute `minute` after local midnight on `day`. A time that
// does not exist (the spring-forward hour) maps to the first instant after the gap; an
// ambiguous one (the autumn hour that happens twice) to the earlier.
Instant LondonToUtc(Day day, int minute);
// "YYYY-MM-DDTHH:MM" in Europe/London; during the hour that happens twice in October, with the
// zone's abbreviation ("2027-10-31T01:30 BST" then "... GMT") so the two are not confused.
std::string LondonLocalText(Instant t);
// RFC 3339 local time in Europe/London with its offset: "2027-10-31T01:30:00+01:00" then
// "2027-10-31T01:30:00+00:00", so the repeated hour is never ambiguous (what responses carry).
std::string LondonRfc3339(Instant t);
// For people: "Tuesday 9 March 2027, 10:00 GMT (UTC+00:00)", the zone's abbreviation and
// offset always given (what emails say).
std::string LondonHumanText(Instant t);
// Whether Europe/London's wall-clock time at `t` happens twice (the autumn change's hour).
bool LondonTimeIsAmbiguous(Instant t);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_LONDON_H_

// Europe/London calendar days, through Howard Hinnant's date library and the system tz
// database. Working patterns and leave are London wall-clock dates and times; instants are UTC.
#ifndef MEDIATION_SERVICES_CORE_LONDON_H_
#define MEDIATION_SERVICES_CORE_LONDON_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mediation {

// Days since 1970-01-01.
using Day = int32_t;

// OK when the tz database knows Europe/London; otherwise a message saying what to install.
absl::Status CheckLondonTimeZone();

// The calendar day in Europe/London at instant `t`.
// REQUIRES: CheckLondonTimeZone() is OK.
Day LondonDay(absl::Time t);

// The instant London's day `day` begins (midnight is never skipped or repeated in London).
// REQUIRES: CheckLondonTimeZone() is OK.
absl::Time LondonDayStart(Day day);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_LONDON_H_

#include "services/core/london.h"

#include <date/tz.h>

#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"

namespace mediation {

absl::Status CheckLondonTimeZone() {
  try {
    (void)date::locate_zone("Europe/London");
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("the time zone database has no Europe/London (", e.what(),
                     "); install the tzdata package"));
  }
}

Day LondonDay(absl::Time t) {
  static const date::time_zone* const kLondon = date::locate_zone("Europe/London");
  const auto instant = std::chrono::time_point_cast<std::chrono::seconds>(absl::ToChronoTime(t));
  const auto local = kLondon->to_local(instant);
  return static_cast<Day>(date::floor<date::days>(local).time_since_epoch().count());
}

absl::Time LondonDayStart(Day day) {
  static const date::time_zone* const kLondon = date::locate_zone("Europe/London");
  const date::local_seconds midnight{date::local_days{date::days{day}}};
  const auto instant = kLondon->to_sys(midnight, date::choose::earliest);
  return absl::FromUnixSeconds(instant.time_since_epoch().count());
}

}  // namespace mediation

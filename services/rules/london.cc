#include "services/rules/london.h"

#include <date/tz.h>

#include <chrono>
#include <cstdlib>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mediation::rules {
namespace {

const date::time_zone* London() {
  static const date::time_zone* const zone = date::locate_zone("Europe/London");
  return zone;
}

}  // namespace

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
  const auto instant = std::chrono::time_point_cast<std::chrono::seconds>(absl::ToChronoTime(t));
  const auto local = London()->to_local(instant);
  return static_cast<Day>(date::floor<date::days>(local).time_since_epoch().count());
}

absl::Time LondonDayStart(Day day) {
  const date::local_seconds midnight{date::local_days{date::days{day}}};
  const auto instant = London()->to_sys(midnight, date::choose::earliest);
  return absl::FromUnixSeconds(instant.time_since_epoch().count());
}

Instant LondonToUtc(Day day, int minute) {
  const date::local_seconds local{date::local_days{date::days{day}} + std::chrono::minutes{minute}};
  const date::local_info info = London()->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
      return (local - info.first.offset).time_since_epoch().count();
    case date::local_info::ambiguous:  // The earlier of the two: still on summer time.
      return (local - info.first.offset).time_since_epoch().count();
    default:  // nonexistent: the clocks jumped over it; the first instant after the gap.
      return info.second.begin.time_since_epoch().count();
  }
}

bool LondonTimeIsAmbiguous(Instant t) {
  const date::local_seconds local = London()->to_local(date::sys_seconds{std::chrono::seconds{t}});
  return London()->get_info(local).result == date::local_info::ambiguous;
}

std::string LondonLocalText(Instant t) {
  const date::sys_seconds instant{std::chrono::seconds{t}};
  const date::local_seconds local = London()->to_local(instant);
  const date::local_days day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
  std::string text =
      absl::StrFormat("%04d-%02u-%02uT%02d:%02d", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                      static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  if (LondonTimeIsAmbiguous(t)) absl::StrAppend(&text, " ", London()->get_info(instant).abbrev);
  return text;
}

std::string LondonRfc3339(Instant t) {
  const date::sys_seconds instant{std::chrono::seconds{t}};
  const date::sys_info info = London()->get_info(instant);
  const date::local_seconds local = London()->to_local(instant);
  const date::local_days day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const int64_t seconds = (local - day).count();
  const int64_t offset = info.offset.count();
  return absl::StrFormat("%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", static_cast<int>(ymd.year()),
                         static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                         seconds / 3600, seconds / 60 % 60, seconds % 60, offset < 0 ? '-' : '+',
                         std::abs(offset) / 3600, std::abs(offset) / 60 % 60);
}

std::string LondonHumanText(Instant t) {
  static constexpr const char* kWeekdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  const date::sys_seconds instant{std::chrono::seconds{t}};
  const date::sys_info info = London()->get_info(instant);
  const date::local_seconds local = London()->to_local(instant);
  const date::local_days day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::weekday weekday{day};
  const int64_t seconds = (local - day).count();
  const int64_t offset = info.offset.count();
  return absl::StrFormat(
      "%s %u %s %d, %02d:%02d %s (UTC%c%02d:%02d)", kWeekdays[weekday.c_encoding()],
      static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
      static_cast<int>(ymd.year()), seconds / 3600, seconds / 60 % 60, info.abbrev,
      offset < 0 ? '-' : '+', std::abs(offset) / 3600, std::abs(offset) / 60 % 60);
}

Day LondonDayOf(Instant t) {
  const date::local_seconds local = London()->to_local(date::sys_seconds{std::chrono::seconds{t}});
  return static_cast<Day>(date::floor<date::days>(local).time_since_epoch().count());
}

}  // namespace mediation::rules

#include "clients/cli/times.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace mediation::cli {
namespace {

absl::Status Expected(absl::string_view text, absl::string_view problem = "") {
  return absl::InvalidArgumentError(
      absl::StrCat(problem.empty() ? "" : absl::StrCat(problem, "; "),
                   "expected a time as 2026-12-10 09:30 (London), 2026-12-10 09:30 GMT or "
                   "2026-12-10T09:30:00Z, not '",
                   text, "'"));
}

// A wall-clock time: YYYY-MM-DD, then a space or T, then HH:MM or HH:MM:SS.
bool ParseWallClock(absl::string_view text, absl::CivilSecond* out) {
  std::string s(text);
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  absl::CivilMinute minute;
  if (absl::ParseCivilTime(s, &minute)) {
    *out = absl::CivilSecond(minute);
    return true;
  }
  return absl::ParseCivilTime(s, out);
}

struct LondonZone {
  absl::TimeZone zone;
  bool loaded = false;
};

const LondonZone& LoadLondon() {
  static const LondonZone* const london = [] {
    auto* z = new LondonZone;
    z->loaded = absl::LoadTimeZone("Europe/London", &z->zone);
    if (!z->loaded) z->zone = absl::UTCTimeZone();
    return z;
  }();
  return *london;
}

}  // namespace

const absl::TimeZone& London() { return LoadLondon().zone; }

std::string FormatInstant(absl::Time t) {
  const absl::TimeZone::CivilInfo local = London().At(t);
  return absl::FormatTime(local.cs.second() == 0 ? "%Y-%m-%d %H:%M %Z" : "%Y-%m-%d %H:%M:%S %Z", t,
                          London());
}

absl::StatusOr<absl::Time> ParseInstant(absl::string_view raw) {
  const absl::string_view text = absl::StripAsciiWhitespace(raw);
  absl::Time t;
  std::string ignored;
  if (absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &ignored)) return t;

  // A wall-clock time, perhaps followed by a zone abbreviation (after a space past the date).
  std::string zone;
  absl::string_view clock = text;
  const size_t space = text.rfind(' ');
  if (space != absl::string_view::npos && space > 10) {
    zone = absl::AsciiStrToUpper(text.substr(space + 1));
    clock = text.substr(0, space);
  }
  absl::CivilSecond civil;
  if (!ParseWallClock(clock, &civil)) return Expected(text);
  if (zone == "UTC" || zone == "Z") return absl::FromCivil(civil, absl::UTCTimeZone());
  if (!LoadLondon().loaded) {
    return Expected(text, "the Europe/London time zone is not installed (tzdata)");
  }
  const absl::TimeZone::TimeInfo info = London().At(civil);
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) {
    return Expected(text, "that time does not exist in London (the clocks go forward)");
  }
  if (zone.empty()) {
    if (info.kind == absl::TimeZone::TimeInfo::REPEATED) {
      return Expected(text,
                      "that time happens twice in London (the clocks go back): add BST "
                      "or GMT");
    }
    return info.pre;
  }
  // The abbreviation says which of the two instants of a repeated hour is meant; it must be one
  // London uses then (GMT and BST, or historic ones such as BDST).
  for (const absl::Time candidate : {info.pre, info.post}) {
    if (absl::FormatTime("%Z", candidate, London()) == zone) return candidate;
  }
  return Expected(text, absl::StrCat("London is not on ", zone, " at that time"));
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(absl::StripAsciiWhitespace(text), &day)) {
    return absl::InvalidArgumentError("expected a date as YYYY-MM-DD");
  }
  return day;
}

std::string FormatTimeOfDay(int hours, int minutes) {
  return absl::StrFormat("%02d:%02d", hours, minutes);
}

absl::StatusOr<std::pair<int, int>> ParseTimeOfDay(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(absl::StripAsciiWhitespace(text), ':');
  int h = 0, m = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m) ||
      h < 0 || h > 23 || m < 0 || m > 59) {
    return absl::InvalidArgumentError("expected a time of day as HH:MM");
  }
  return std::make_pair(h, m);
}

}  // namespace mediation::cli

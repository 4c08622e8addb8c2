#include "clients/cli/times.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

const absl::TimeZone& London() {
  static const absl::TimeZone* const zone = [] {
    auto* z = new absl::TimeZone;
    if (!absl::LoadTimeZone("Europe/London", z)) *z = absl::UTCTimeZone();
    return z;
  }();
  return *zone;
}

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

  // A wall-clock time, perhaps followed by a zone abbreviation.
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
  if (!zone.empty() && zone != "GMT" && zone != "BST") {
    return Expected(text, absl::StrCat("'", zone, "' is not GMT, BST or UTC"));
  }
  const absl::TimeZone::TimeInfo info = London().At(civil);
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) {
    return Expected(text, "that time does not exist in London (the clocks go forward)");
  }
  if (zone.empty()) return info.pre;  // In the repeated hour, the first (BST).
  // GMT or BST says which of the two instants of a repeated hour is meant; it must be the
  // abbreviation London uses then.
  for (const absl::Time candidate : {info.pre, info.post}) {
    if (absl::FormatTime("%Z", candidate, London()) == zone) return candidate;
  }
  return Expected(text, absl::StrCat("London is not on ", zone, " at that time"));
}

}  // namespace mediation::cli

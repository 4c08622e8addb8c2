// iCalendar text (services/rules/icalendar.h). Invariants: FoldLine, on any bytes, keeps every
// physical line within 75 octets, ends each with CRLF, and unfolds back to its input, never
// splitting a UTF-8 character; RenderCalendar, for any text the API accepts (valid UTF-8, no
// control characters but tab and line breaks), writes only CRLF-terminated lines of at most 75
// octets with no broken UTF-8, and libical parses it without errors back to the same UIDs,
// instants (start and end, through the file's own VTIMEZONE), status, summary, location and
// description. Run with deploy/fuzz.sh.
#include <libical/ical.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/rules/icalendar.h"
#include "tests/fuzz/fuzz_support.h"

namespace mediation::rules {
namespace {

using fuzz::IsValidUtf8;

// Splits `text` on CRLF, checking every line is terminated and within 75 octets.
std::vector<std::string> PhysicalLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    const size_t crlf = text.find("\r\n", at);
    FUZZ_CHECK(crlf != std::string::npos, "a line without CRLF");
    std::string line = text.substr(at, crlf - at);
    FUZZ_CHECK(line.size() <= 75, absl::StrCat(line.size(), " octets: ", line));
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos, "a bare CR or LF");
    lines.push_back(std::move(line));
    at = crlf + 2;
  }
  return lines;
}

// Joins continuation lines (RFC 5545 3.1); checks no fold splits a UTF-8 character.
std::string Unfold(const std::vector<std::string>& lines, bool check_utf8) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0 && !lines[i].empty() && lines[i][0] == ' ') {
      if (check_utf8 && lines[i].size() > 1) {
        FUZZ_CHECK((static_cast<unsigned char>(lines[i][1]) & 0xC0) != 0x80,
                   "a fold inside a UTF-8 character");
      }
      out += lines[i].substr(1);
    } else {
      if (i > 0) out += "\n";
      out += lines[i];
    }
  }
  return out;
}

void FuzzFoldLine(FuzzedDataProvider& fdp) {
  // An exactly sized heap copy, so that reading past the end is caught.
  const std::string bytes = fdp.ConsumeRandomLengthString(600);
  if (bytes.find_first_of("\r\n") != std::string::npos) return;  // Content lines have none.
  std::unique_ptr<char[]> exact(new char[bytes.size()]);
  std::memcpy(exact.get(), bytes.data(), bytes.size());
  const std::string folded = FoldLine(absl::string_view(exact.get(), bytes.size()));
  const std::vector<std::string> lines = PhysicalLines(folded);
  for (size_t i = 1; i < lines.size(); ++i) FUZZ_CHECK(lines[i][0] == ' ', "continuation");
  FUZZ_CHECK(Unfold(lines, IsValidUtf8(bytes)) == bytes, "unfolding does not give the line back");
}

// Text the API accepts: valid UTF-8 without control characters other than tab, CR and LF,
// trimmed (as Validator stores it).
std::string ApiText(FuzzedDataProvider& fdp, size_t max_chars) {
  std::string text = fuzz::Utf8Text(fdp, max_chars);
  std::string out;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) continue;
    out += ch;
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string Text(const char* value) { return value == nullptr ? "" : value; }

void FuzzCalendar(FuzzedDataProvider& fdp) {
  std::vector<CalendarEvent> events;
  const int n = fdp.ConsumeIntegralInRange<int>(1, 3);
  for (int i = 0; i < n; ++i) {
    CalendarEvent e;
    e.uid = absl::StrCat("session-", i + 1, "@mediation.ppa.nhs.uk");
    // 2026 .. 2031 on the minute, sometimes in October's repeated hour.
    e.start = fdp.ConsumeBool() ? 1792888200 + 60 * fdp.ConsumeIntegralInRange<int64_t>(-90, 90)
                                : 60 * fdp.ConsumeIntegralInRange<int64_t>(29453760, 32083199);
    e.end = e.start + 900 * fdp.ConsumeIntegralInRange<int64_t>(1, 40);
    e.stamp = e.start - fdp.ConsumeIntegralInRange<int64_t>(0, 86400 * 90);
    e.sequence = fdp.ConsumeIntegralInRange<int>(0, 20);
    e.cancelled = fdp.ConsumeBool();
    e.summary = absl::StrCat("Joint meeting", ApiText(fdp, 100));  // Never empty.
    e.location = ApiText(fdp, 100);
    e.description = ApiText(fdp, 200);
    if (fdp.ConsumeBool()) e.url = "https://video.example/abc";
    events.push_back(std::move(e));
  }
  const std::string ics = RenderCalendar(events);
  FUZZ_CHECK(IsValidUtf8(ics), "broken UTF-8 in the calendar");
  const std::vector<std::string> lines = PhysicalLines(ics);
  Unfold(lines, /*check_utf8=*/true);

  icalcomponent* calendar = icalparser_parse_string(ics.c_str());
  FUZZ_CHECK(calendar != nullptr, "libical cannot parse the calendar");
  FUZZ_CHECK(icalcomponent_count_errors(calendar) == 0, icalcomponent_as_ical_string(calendar));
  icaltimezone* utc = icaltimezone_get_utc_timezone();
  auto normalised = [](const std::string& s) {
    return absl::StrReplaceAll(s, {{"\r\n", "\n"}, {"\r", "\n"}});
  };
  int i = 0;
  for (icalcomponent* e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
       e != nullptr; e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT), ++i) {
    FUZZ_CHECK(i < n, "more events than were written");
    const CalendarEvent& want = events[i];
    FUZZ_CHECK(Text(icalcomponent_get_uid(e)) == want.uid, "uid");
    const icaltimetype start = icaltime_convert_to_zone(icalcomponent_get_dtstart(e), utc);
    const icaltimetype end = icaltime_convert_to_zone(icalcomponent_get_dtend(e), utc);
    FUZZ_CHECK(icaltime_as_timet(start) == want.start,
               absl::StrCat("start ", icaltime_as_timet(start), " != ", want.start));
    FUZZ_CHECK(icaltime_as_timet(end) == want.end,
               absl::StrCat("end ", icaltime_as_timet(end), " != ", want.end));
    FUZZ_CHECK(icalcomponent_get_status(e) ==
                   (want.cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED),
               "status");
    FUZZ_CHECK(
        Text(icalcomponent_get_summary(e)) == normalised(want.summary),
        absl::StrCat("summary [", Text(icalcomponent_get_summary(e)), "] != [", want.summary, "]"));
    FUZZ_CHECK(Text(icalcomponent_get_location(e)) == normalised(want.location),
               absl::StrCat("location [", Text(icalcomponent_get_location(e)), "]"));
    FUZZ_CHECK(Text(icalcomponent_get_description(e)) == normalised(want.description),
               absl::StrCat("description [", Text(icalcomponent_get_description(e)), "]"));
  }
  FUZZ_CHECK(i == n, "events lost");
  icalcomponent_free(calendar);
}

}  // namespace
}  // namespace mediation::rules

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  if (fdp.ConsumeBool()) {
    mediation::rules::FuzzFoldLine(fdp);
  } else {
    mediation::rules::FuzzCalendar(fdp);
  }
  return 0;
}

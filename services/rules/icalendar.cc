#include "services/rules/icalendar.h"

#include <date/date.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace mediation::rules {
namespace {

// Europe/London since 1996: BST from 01:00 UTC on the last Sunday of March, GMT from 01:00 UTC
// (02:00 BST) on the last Sunday of October.
constexpr absl::string_view kLondonTimeZone[] = {
    "BEGIN:VTIMEZONE",
    "TZID:Europe/London",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19810329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19961027T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
};

// "20270328T090000" in Europe/London.
// REQUIRES: !LondonTimeIsAmbiguous(t).
std::string LocalStamp(Instant t) {
  std::string local = LondonLocalText(t);  // "2027-03-28T09:00"
  local.erase(std::remove(local.begin(), local.end(), '-'), local.end());
  local.erase(std::remove(local.begin(), local.end(), ':'), local.end());
  return absl::StrCat(local, "00");
}

// "20270328T080000Z".
std::string UtcStamp(Instant t) {
  const date::sys_seconds s{std::chrono::seconds{t}};
  const date::sys_days day = date::floor<date::days>(s);
  const date::year_month_day ymd{day};
  const auto secs = (s - day).count();
  return absl::StrFormat("%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                         static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                         static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                         static_cast<int>(secs % 60));
}

// The length of the UTF-8 character starting at `i`: 1 for ASCII, and for any byte that does not
// start a complete sequence (a stray or truncated one is kept as it is, never read past).
size_t CharLength(absl::string_view line, size_t i) {
  const unsigned char c = static_cast<unsigned char>(line[i]);
  const size_t n = c < 0x80           ? 1
                   : (c >> 5) == 0x6  ? 2
                   : (c >> 4) == 0xE  ? 3
                   : (c >> 3) == 0x1E ? 4
                                      : 1;
  if (n > line.size() - i) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(line[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

}  // namespace

std::string EscapeText(absl::string_view text) {
  std::string unix_lines = absl::StrReplaceAll(text, {{"\r\n", "\n"}, {"\r", "\n"}});
  return absl::StrReplaceAll(unix_lines,
                             {{"\\", "\\\\"}, {";", "\\;"}, {",", "\\,"}, {"\n", "\\n"}});
}

std::string FoldLine(absl::string_view line) {
  std::string out;
  size_t used = 0;  // Octets on the current physical line.
  for (size_t i = 0; i < line.size();) {
    const size_t n = CharLength(line, i);
    if (used + n > 75) {
      out += "\r\n ";
      used = 1;
    }
    out.append(line.data() + i, n);
    used += n;
    i += n;
  }
  out += "\r\n";
  return out;
}

namespace {

// A CN parameter value: a quoted string, which may hold neither quotes nor control characters.
std::string ParamText(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) continue;
    out.push_back(c);
  }
  return out;
}

// A mailto: address: nothing that could end the line or the value.
std::string MailtoText(absl::string_view email) {
  std::string out;
  for (const char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '"' || c == ';' || c == ':' ||
        c == ',') {
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Render(const std::vector<CalendarEvent>& events, absl::string_view method,
                   const CalendarPerson& organizer, const std::vector<CalendarPerson>& attendees) {
  std::string out;
  auto line = [&](absl::string_view text) { out += FoldLine(text); };
  line("BEGIN:VCALENDAR");
  line("VERSION:2.0");
  line("PRODID:-//Practitioner Performance Advice//Assisted mediation//EN");
  line("CALSCALE:GREGORIAN");
  line(absl::StrCat("METHOD:", method));
  for (absl::string_view tz : kLondonTimeZone) line(tz);
  for (const CalendarEvent& e : events) {
    line("BEGIN:VEVENT");
    line(absl::StrCat("UID:", e.uid));
    line(absl::StrCat("DTSTAMP:", UtcStamp(e.stamp)));
    // A local time in October's repeated hour would be ambiguous with TZID: say it in UTC.
    for (const auto& [name, at] : {std::pair{"DTSTART", e.start}, std::pair{"DTEND", e.end}}) {
      line(LondonTimeIsAmbiguous(at) ? absl::StrCat(name, ":", UtcStamp(at))
                                     : absl::StrCat(name, ";TZID=Europe/London:", LocalStamp(at)));
    }
    line(absl::StrCat("SEQUENCE:", e.sequence));
    line(absl::StrCat("STATUS:", e.cancelled ? "CANCELLED" : "CONFIRMED"));
    // iTIP (RFC 5546) requires an organiser for a published event: the service's mailbox.
    line(absl::StrCat("ORGANIZER;CN=\"", ParamText(organizer.name),
                      "\":mailto:", MailtoText(organizer.email)));
    for (const CalendarPerson& a : attendees) {
      line(absl::StrCat(
          "ATTENDEE;CN=\"", ParamText(a.name),
          "\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:", MailtoText(a.email)));
    }
    line(absl::StrCat("SUMMARY:", EscapeText(e.summary)));
    if (!e.location.empty()) line(absl::StrCat("LOCATION:", EscapeText(e.location)));
    if (!e.description.empty()) line(absl::StrCat("DESCRIPTION:", EscapeText(e.description)));
    if (!e.url.empty()) line(absl::StrCat("URL:", e.url));
    line("END:VEVENT");
  }
  line("END:VCALENDAR");
  return out;
}

}  // namespace

std::string RenderCalendar(const std::vector<CalendarEvent>& events) {
  return Render(events, "PUBLISH",
                {"Practitioner Performance Advice", "assisted.mediations@resolution.nhs.uk"}, {});
}

std::string RenderInvitation(const CalendarEvent& event, const CalendarPerson& organizer,
                             const std::vector<CalendarPerson>& attendees) {
  return Render({event}, event.cancelled ? "CANCEL" : "REQUEST", organizer, attendees);
}

}  // namespace mediation::rules

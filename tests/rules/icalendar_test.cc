#include "services/rules/icalendar.h"

#include <date/date.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include "absl/strings/str_split.h"

namespace mediation::rules {
namespace {

Instant Utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}}.time_since_epoch().count() *
             86400LL +
         h * 3600 + min * 60;
}

CalendarEvent Event() {
  return {.uid = "session-7@mediation.ppa.nhs.uk",
          .start = Utc(2027, 3, 29, 8),  // 09:00 BST, the day after the change.
          .end = Utc(2027, 3, 29, 11),
          .stamp = Utc(2027, 3, 1, 12, 30),
          .sequence = 2,
          .summary = "Assisted mediation: joint meeting (AM-2027-000031)",
          .location = "Quaker Meeting House, 12 Friar Lane, Leicester",
          .description = "Confidential; please do not forward.\nBring nothing."};
}

TEST(ICalendarTest, TextIsEscaped) {
  EXPECT_EQ(EscapeText("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
}

TEST(ICalendarTest, LongLinesFoldAt75OctetsWithoutSplittingACharacter) {
  const std::string line = "SUMMARY:" + std::string(70, 'x') + "é" + std::string(80, 'y');
  const std::string folded = FoldLine(line);
  std::vector<std::string> parts = absl::StrSplit(folded, "\r\n", absl::SkipEmpty());
  ASSERT_GE(parts.size(), 3u);
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(parts[i].size(), 75u) << i;
    if (i > 0) EXPECT_EQ(parts[i][0], ' ');
  }
  // "é" (two octets) does not fit after 73 octets + x: it starts the next line whole.
  EXPECT_EQ(parts[0].size(), 8u + 67u);
  std::string unfolded;
  for (size_t i = 0; i < parts.size(); ++i) unfolded += i == 0 ? parts[i] : parts[i].substr(1);
  EXPECT_EQ(unfolded, line);
}

TEST(ICalendarTest, TheEventCarriesLocalTimesWithTheirZone) {
  const std::string ics = RenderCalendar({Event()});
  std::vector<std::string> lines = absl::StrSplit(ics, "\r\n", absl::SkipEmpty());
  auto has = [&](const std::string& l) {
    return std::find(lines.begin(), lines.end(), l) != lines.end();
  };
  EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
  EXPECT_EQ(lines.back(), "END:VCALENDAR");
  EXPECT_TRUE(has("VERSION:2.0"));
  EXPECT_TRUE(has("TZID:Europe/London"));
  EXPECT_TRUE(has("UID:session-7@mediation.ppa.nhs.uk"));
  EXPECT_TRUE(has("DTSTAMP:20270301T123000Z"));
  EXPECT_TRUE(has("DTSTART;TZID=Europe/London:20270329T090000"));
  EXPECT_TRUE(has("DTEND;TZID=Europe/London:20270329T120000"));
  EXPECT_TRUE(has("SEQUENCE:2"));
  EXPECT_TRUE(has("STATUS:CONFIRMED"));
  EXPECT_TRUE(has("LOCATION:Quaker Meeting House\\, 12 Friar Lane\\, Leicester"));
  EXPECT_TRUE(has("DESCRIPTION:Confidential\\; please do not forward.\\nBring nothing."));
  EXPECT_EQ(ics.find("\n\n"), std::string::npos);
  EXPECT_EQ(ics.substr(ics.size() - 2), "\r\n");
}

// Found by fuzz_icalendar: a UTF-8 lead byte at the end of the line, without its continuation
// bytes, made FoldLine copy octets from past the end of its input (a heap overread under ASan).
TEST(ICalendarTest, FoldLineKeepsATruncatedCharacterWithoutReadingPastTheEnd) {
  const std::string buffer = "ab\xE2\x82 and more";  // Only the first 4 octets are the line.
  EXPECT_EQ(FoldLine(absl::string_view(buffer.data(), 4)), "ab\xE2\x82\r\n");
  EXPECT_EQ(FoldLine(absl::string_view("\xEF", 1)), "\xEF\r\n");
  // A lead byte followed by ASCII is one octet, not the start of a 3-octet character.
  const std::string stray = std::string(73, 'x') + "\xE2" + "yz";
  EXPECT_EQ(FoldLine(stray), std::string(73, 'x') + "\xE2" + "y\r\n z\r\n");
}

// Parses with libical, a standards-following parser, and checks what it understood.
TEST(ICalendarTest, LibicalParsesTheCalendarAndAgreesOnTheTimes) {
  CalendarEvent winter = Event();
  winter.uid = "session-6@mediation.ppa.nhs.uk";
  winter.start = Utc(2027, 3, 1, 9);  // 09:00 GMT: the same wall-clock time, an hour later UTC.
  winter.end = Utc(2027, 3, 1, 11);
  CalendarEvent repeated = Event();  // Across October's repeated hour: 01:30 happens twice.
  repeated.uid = "session-9@mediation.ppa.nhs.uk";
  repeated.start = Utc(2027, 10, 31, 0, 30);  // 01:30 BST.
  repeated.end = Utc(2027, 10, 31, 1, 30);    // 01:30 GMT.
  CalendarEvent cancelled = Event();
  cancelled.uid = "session-8@mediation.ppa.nhs.uk";
  cancelled.start = Utc(2027, 10, 29, 8);  // 09:00 BST on the Friday before the autumn change.
  cancelled.end = Utc(2027, 10, 29, 10);
  cancelled.cancelled = true;
  const std::string ics = RenderCalendar({Event(), winter, repeated, cancelled});
  // Ambiguous local times are written in UTC.
  EXPECT_NE(ics.find("DTSTART:20271031T003000Z\r\n"), std::string::npos);
  EXPECT_NE(ics.find("DTEND:20271031T013000Z\r\n"), std::string::npos);

  icalcomponent* calendar = icalparser_parse_string(ics.c_str());
  ASSERT_NE(calendar, nullptr);
  EXPECT_EQ(icalcomponent_isa(calendar), ICAL_VCALENDAR_COMPONENT);
  // libical records what it could not parse as X-LIC-ERROR properties.
  icalrestriction_check(calendar);
  EXPECT_EQ(icalcomponent_count_errors(calendar), 0) << icalcomponent_as_ical_string(calendar);

  icalcomponent* tz = icalcomponent_get_first_component(calendar, ICAL_VTIMEZONE_COMPONENT);
  ASSERT_NE(tz, nullptr);

  int events = 0;
  for (icalcomponent* e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
       e != nullptr; e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    ++events;
    const std::string uid = icalcomponent_get_uid(e);
    icaltimetype start = icalcomponent_get_dtstart(e);
    icaltimetype utc = icaltime_convert_to_zone(start, icaltimezone_get_utc_timezone());
    icaltimetype end_utc =
        icaltime_convert_to_zone(icalcomponent_get_dtend(e), icaltimezone_get_utc_timezone());
    if (uid == "session-9@mediation.ppa.nhs.uk") {
      EXPECT_EQ(utc.hour, 0);
      EXPECT_EQ(utc.minute, 30);
      EXPECT_EQ(end_utc.hour, 1);
      EXPECT_EQ(end_utc.minute, 30);
      continue;
    }
    EXPECT_EQ(start.hour, 9);
    if (uid == "session-6@mediation.ppa.nhs.uk") {
      EXPECT_EQ(utc.hour, 9);  // GMT: the file's VTIMEZONE rules were applied.
      EXPECT_EQ(end_utc.hour, 11);
    } else if (uid == "session-7@mediation.ppa.nhs.uk") {
      EXPECT_EQ(utc.hour, 8);  // 09:00 BST.
      EXPECT_EQ(icalcomponent_get_status(e), ICAL_STATUS_CONFIRMED);
      EXPECT_EQ(std::string(icalcomponent_get_location(e)),
                "Quaker Meeting House, 12 Friar Lane, Leicester");
    } else {
      EXPECT_EQ(utc.hour, 8);
      EXPECT_EQ(utc.day, 29);
      EXPECT_EQ(icalcomponent_get_status(e), ICAL_STATUS_CANCELLED);
    }
  }
  EXPECT_EQ(events, 4);
  icalcomponent_free(calendar);
}

TEST(ICalendarTest, InvitationsAreITipRequestsAndCancellations) {
  const CalendarPerson organizer{"Practitioner Performance Advice", "mediation@ppa.example"};
  // A name that would break a quoted parameter, and an address with a line break in it.
  const std::vector<CalendarPerson> attendee = {{"Dr \"Jo\" Reed", "jo.reed@example.org\r\nX:1"}};
  const std::string request = RenderInvitation(Event(), organizer, attendee);
  icalcomponent* calendar = icalparser_parse_string(request.c_str());
  ASSERT_NE(calendar, nullptr);
  icalrestriction_check(calendar);
  EXPECT_EQ(icalcomponent_count_errors(calendar), 0) << icalcomponent_as_ical_string(calendar);
  EXPECT_EQ(icalcomponent_get_method(calendar), ICAL_METHOD_REQUEST);
  icalcomponent* event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(std::string(icalcomponent_get_uid(event)), "session-7@mediation.ppa.nhs.uk");
  EXPECT_EQ(icalcomponent_get_sequence(event), 2);
  icalproperty* org = icalcomponent_get_first_property(event, ICAL_ORGANIZER_PROPERTY);
  ASSERT_NE(org, nullptr);
  EXPECT_EQ(std::string(icalproperty_get_organizer(org)), "mailto:mediation@ppa.example");
  EXPECT_EQ(icalcomponent_count_properties(event, ICAL_ATTENDEE_PROPERTY), 1);
  icalproperty* who = icalcomponent_get_first_property(event, ICAL_ATTENDEE_PROPERTY);
  EXPECT_EQ(std::string(icalproperty_get_attendee(who)), "mailto:jo.reed@example.orgX1");
  icalparameter* cn = icalproperty_get_first_parameter(who, ICAL_CN_PARAMETER);
  ASSERT_NE(cn, nullptr);
  EXPECT_EQ(std::string(icalparameter_get_cn(cn)), "Dr Jo Reed");
  EXPECT_EQ(request.find("\nX:1"), std::string::npos);
  icalcomponent_free(calendar);

  CalendarEvent cancelled = Event();
  cancelled.cancelled = true;
  cancelled.sequence = 3;
  const std::string cancel = RenderInvitation(cancelled, organizer, attendee);
  calendar = icalparser_parse_string(cancel.c_str());
  ASSERT_NE(calendar, nullptr);
  EXPECT_EQ(icalcomponent_get_method(calendar), ICAL_METHOD_CANCEL);
  event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
  EXPECT_EQ(icalcomponent_get_status(event), ICAL_STATUS_CANCELLED);
  EXPECT_EQ(icalcomponent_get_sequence(event), 3);
  EXPECT_EQ(std::string(icalcomponent_get_uid(event)), "session-7@mediation.ppa.nhs.uk");
  icalcomponent_free(calendar);
}

}  // namespace
}  // namespace mediation::rules

// iCalendar (RFC 5545) text for sessions: a VCALENDAR with the Europe/London VTIMEZONE and one
// VEVENT per session, local times with TZID, escaped text and folded lines. Pure.
#ifndef MEDIATION_SERVICES_RULES_ICALENDAR_H_
#define MEDIATION_SERVICES_RULES_ICALENDAR_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/rules/slots.h"

namespace mediation::rules {

struct CalendarEvent {
  std::string uid;    // Stable across reschedules.
  Instant start = 0;  // UTC seconds.
  Instant end = 0;
  Instant stamp = 0;  // DTSTAMP: when the file was made.
  int sequence = 0;   // Increases with every reschedule or cancellation.
  bool cancelled = false;
  std::string summary;  // Plain text; escaped on output.
  std::string location;
  std::string description;
  std::string url;  // Optional (a video link).
};

// TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines.
std::string EscapeText(absl::string_view text);

// Folds a content line at 75 octets (CRLF then a space), never inside a UTF-8 character, and
// ends it with CRLF.
std::string FoldLine(absl::string_view line);

// The whole calendar, CRLF line ends (METHOD:PUBLISH, a file to import).
std::string RenderCalendar(const std::vector<CalendarEvent>& events);

// An iTIP (RFC 5546) message for one event, for email: METHOD:REQUEST (a new or changed event;
// calendar programs update the event with the same UID when SEQUENCE is higher) or, when
// `event.cancelled`, METHOD:CANCEL with STATUS:CANCELLED. The organiser is the service's
// mailbox; each attendee gets an ATTENDEE line (give only the recipient's own: one message per
// recipient, and no other address in it).
struct CalendarPerson {
  std::string name;
  std::string email;
};
std::string RenderInvitation(const CalendarEvent& event, const CalendarPerson& organizer,
                             const std::vector<CalendarPerson>& attendees);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_ICALENDAR_H_

// SchedulingService's iCalendar exports: one session, or a mediator's sessions in a period. The
// RFC 5545 text is rules/icalendar.h's.
#include "services/scheduling/calendar_export.h"

#include "absl/strings/str_cat.h"
#include "services/core/validation.h"
#include "services/rules/icalendar.h"
#include "services/scheduling/calendars.h"
#include "services/scheduling/session_view.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/sessions.h"

namespace mediation {
namespace {

using scheduling::DaysWindow;
using scheduling::Interval;
using scheduling::KindText;
using scheduling::LoadSessionFor;
using scheduling::Seconds;
using scheduling::VisibleSession;

void SetCalendar(std::string ics, v1::CalendarExport* out) {
  out->set_content_type("text/calendar");
  out->set_ics(std::move(ics));
}

}  // namespace

// The calendar entry for a session: the case reference and the kind of meeting, never names
// or anything said in the case.
absl::StatusOr<rules::CalendarEvent> SessionCalendarEvent(storage::Tx& tx,
                                                          const storage::CaseRecord& c,
                                                          const storage::SessionRecord& s,
                                                          absl::Time now) {
  rules::CalendarEvent e{
      .uid = absl::StrCat("session-", s.id, "@mediation.ppa.nhs.uk"),
      .start = s.start_at,
      .end = s.end_at,
      .stamp = Seconds(now),
      .sequence = s.sequence,
      .cancelled = s.state == v1::SESSION_STATE_CANCELLED,
      .summary = absl::StrCat("Assisted mediation: ", KindText(s.kind), " (", c.reference, ")"),
      .description =
          "Practitioner Performance Advice assisted mediation. "
          "Confidential: please do not forward."};
  if (s.venue_id != 0) {
    absl::StatusOr<storage::VenueRecord> venue = storage::GetVenue(tx, s.venue_id);
    if (!venue.ok()) return venue.status();
    e.location = absl::StrCat(venue->name, ", ", venue->address);
  } else {
    e.location = "Video call";
    e.url = s.video_link;
  }
  return e;
}

absl::Status ExportSessionCalendar(CallContext& call, const v1::ExportSessionCalendarRequest& r,
                                   v1::ExportSessionCalendarResponse& response) {
  Validator v;
  v.PositiveId("session_id", r.session_id());
  if (!v.ok()) return v.status();
  call.AddObject("session", r.session_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<VisibleSession> found = LoadSessionFor(tx, call.principal(), r.session_id());
    if (!found.ok()) return found.status();
    absl::StatusOr<rules::CalendarEvent> event =
        SessionCalendarEvent(tx, found->c, found->session, call.now());
    if (!event.ok()) return event.status();
    SetCalendar(rules::RenderCalendar({*event}), response.mutable_calendar());
    return absl::OkStatus();
  });
}

absl::Status ExportMediatorCalendar(CallContext& call, const v1::ExportMediatorCalendarRequest& r,
                                    v1::ExportMediatorCalendarResponse& response) {
  const Principal& who = call.principal();
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  if (!v.ok()) return v.status();
  if (who.role == v1::ROLE_MEDIATOR && who.mediator_id != r.mediator_id()) {
    return absl::PermissionDeniedError(absl::StrCat("this token is mediator ", who.mediator_id,
                                                    " and may export only its own calendar"));
  }
  absl::StatusOr<Interval> window = DaysWindow(call.now(), r.has_first_day(), r.first_day(),
                                               r.has_last_day(), r.last_day(), 90, 366);
  if (!window.ok()) return window.status();
  call.AddObject("mediator", r.mediator_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = storage::GetMediator(tx, r.mediator_id()).status(); !s.ok()) return s;
    absl::StatusOr<std::vector<storage::SessionRecord>> sessions =
        storage::ListSessionsOfMediator(tx, r.mediator_id(), window->start, window->end);
    if (!sessions.ok()) return sessions.status();
    std::vector<rules::CalendarEvent> events;
    for (const auto& s : *sessions) {
      absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, s.case_id);
      if (!c.ok()) return c.status();
      absl::StatusOr<rules::CalendarEvent> e = SessionCalendarEvent(tx, *c, s, call.now());
      if (!e.ok()) return e.status();
      events.push_back(*std::move(e));
    }
    SetCalendar(rules::RenderCalendar(events), response.mutable_calendar());
    return absl::OkStatus();
  });
}

}  // namespace mediation

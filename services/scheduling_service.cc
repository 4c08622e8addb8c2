#include "services/scheduling_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/core/paging.h"
#include "services/core/validation.h"
#include "services/rules/slots.h"
#include "services/scheduling/booking.h"
#include "services/scheduling/calendar_export.h"
#include "services/scheduling/calendars.h"
#include "services/scheduling/session_view.h"
#include "services/session_validation.h"
#include "storage/cases.h"
#include "storage/sessions.h"

namespace mediation {
namespace {

using scheduling::CheckBookable;
using scheduling::DaysWindow;
using scheduling::Instant;
using scheduling::Interval;
using scheduling::IntervalList;
using scheduling::LoadSessionFor;
using scheduling::NeedsAt;
using scheduling::Participants;
using scheduling::ParticipantsOf;
using scheduling::PersonFree;
using scheduling::ReserveEverything;
using scheduling::RoomNeeds;
using scheduling::Seconds;
using scheduling::TimeToProto;
using scheduling::ValidStart;
using scheduling::VisibleSession;

constexpr int kDefaultSearchDays = 28;
constexpr int kMaxSearchDays = 180;

void RoomToProto(const storage::RoomRecord& room, v1::Room* out) {
  out->set_id(room.id);
  out->set_name(room.name);
  out->set_kind(room.kind);
  for (v1::AccessNeed f : room.features) out->add_features(f);
}

// A room's free time in `window`, for each of `rooms`, as a pool of which `needed` are needed.
absl::StatusOr<rules::RoomPool> PoolOf(storage::Tx& tx,
                                       const std::vector<storage::RoomRecord>& rooms, int needed,
                                       std::vector<std::vector<size_t>> eligible,
                                       const std::string& name, const Interval& window) {
  rules::RoomPool pool{.name = name, .needed = needed, .eligible = std::move(eligible)};
  for (const auto& r : rooms) {
    absl::StatusOr<IntervalList> free = scheduling::RoomFree(tx, r.id, window);
    if (!free.ok()) return free.status();
    pool.free_per_room.push_back(*std::move(free));
  }
  return pool;
}

absl::Status CreateVenue(CallContext& call, const v1::CreateVenueRequest& r,
                         v1::CreateVenueResponse& response) {
  Validator v;
  storage::VenueRecord venue;
  venue.name = v.RequiredLine("venue.name", r.venue().name(), 200);
  venue.address = v.RequiredText("venue.address", r.venue().address(), 500);
  if (r.venue().rooms_size() == 0 || r.venue().rooms_size() > 50) {
    v.Fail("venue.rooms", "between 1 and 50 rooms");
  }
  for (int i = 0; i < r.venue().rooms_size() && i < 50; ++i) {
    const v1::Room& room = r.venue().rooms(i);
    const std::string field = absl::StrCat("venue.rooms[", i, "]");
    storage::RoomRecord rec;
    rec.name = v.RequiredLine(absl::StrCat(field, ".name"), room.name(), 100);
    v.Enum(absl::StrCat(field, ".kind"), room.kind(), v1::RoomKind_IsValid, true);
    rec.kind = room.kind();
    rec.features = ValidateAccessNeeds(v, absl::StrCat(field, ".features"), room.features());
    venue.rooms.push_back(std::move(rec));
  }
  if (!v.ok()) return v.status();
  venue.created_at = call.now();
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::VenueRecord> stored = storage::InsertVenue(tx, venue);
    if (!stored.ok()) return stored.status();
    call.AddObject("venue", stored->id);
    v1::Venue* out = response.mutable_venue();
    out->set_id(stored->id);
    out->set_name(stored->name);
    out->set_address(stored->address);
    for (const auto& room : stored->rooms) RoomToProto(room, out->add_rooms());
    return absl::OkStatus();
  });
}

absl::Status ListVenues(CallContext& call, const v1::ListVenuesRequest&,
                        v1::ListVenuesResponse& response) {
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::VenueRecord>> venues = storage::ListVenues(tx);
    if (!venues.ok()) return venues.status();
    for (const auto& venue : *venues) {
      v1::Venue* out = response.add_venues();
      out->set_id(venue.id);
      out->set_name(venue.name);
      out->set_address(venue.address);
      for (const auto& room : venue.rooms) RoomToProto(room, out->add_rooms());
    }
    return absl::OkStatus();
  });
}

absl::Status SetPartyAvailability(CallContext& call, const v1::SetPartyAvailabilityRequest& r,
                                  v1::SetPartyAvailabilityResponse& response) {
  Validator v;
  v.PositiveId("party_id", r.party_id());
  const std::vector<std::pair<int64_t, int64_t>> windows =
      ValidateAvailabilityWindows(v, r.windows());
  if (!v.ok()) return v.status();
  call.AddObject("party", r.party_id());
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) {
    const bool in_case = std::any_of(c.parties.begin(), c.parties.end(),
                                     [&](const auto& p) { return p.id == r.party_id(); });
    if (!in_case) {
      return FieldError("party_id",
                        absl::StrCat("party ", r.party_id(), " is not a party of case ", c.id));
    }
    response.set_windows(static_cast<int32_t>(windows.size()));
    if (absl::Status s = storage::ReplacePartyAvailability(tx, r.party_id(), windows); !s.ok()) {
      return s;
    }
    // Sessions booked before the change stay booked; those outside the new windows are marked.
    return scheduling::MarkCollisions(
        tx, "party", r.party_id(), Seconds(call.now()), call.now(),
        absl::StrCat("party ", r.party_id(), " is not available then"), /*with_cases=*/true,
        response.mutable_collisions());
  });
}

absl::Status FindSlots(CallContext& call, const v1::FindSlotsRequest& r,
                       v1::FindSlotsResponse& response) {
  Validator v;
  ValidateShape(v, r.kind(), r.party_id(), r.mode(), r.venue_id());
  ValidateDuration(v, r.duration_minutes(), false);
  if (r.max_slots() < 0 || r.max_slots() > 50) v.Fail("max_slots", "must be 1 to 50 (0: 10)");
  if (!v.ok()) return v.status();
  absl::StatusOr<Interval> window =
      DaysWindow(call.now(), r.has_window_first_day(), r.window_first_day(),
                 r.has_window_last_day(), r.window_last_day(), kDefaultSearchDays, kMaxSearchDays);
  if (!window.ok()) return window.status();
  window->start = std::max(window->start, Seconds(call.now() + call.settings().minimum_notice));
  const Instant buffer = Seconds(call.settings().session_buffer);

  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) {
    if (absl::Status s = CheckBookable(c, r.kind()); !s.ok()) return s;
    absl::StatusOr<Participants> who = ParticipantsOf(tx, c, r.kind(), r.party_id());
    if (!who.ok()) return who.status();
    rules::SlotQuery query{.window = *window,
                           .duration = r.duration_minutes() * 60LL,
                           .max_slots = r.max_slots() == 0 ? 10 : r.max_slots()};
    if (window->end <= window->start) return absl::OkStatus();  // All within the notice.
    for (int64_t m : who->mediators) {
      absl::StatusOr<IntervalList> free = PersonFree(tx, "mediator", m, *window, buffer, 0);
      if (!free.ok()) return free.status();
      query.people.push_back({absl::StrCat("mediator ", m), *std::move(free)});
    }
    for (const storage::PartyRecord* p : who->parties) {
      absl::StatusOr<IntervalList> free = PersonFree(tx, "party", p->id, *window, buffer, 0);
      if (!free.ok()) return free.status();
      query.people.push_back({absl::StrCat("party ", p->id), *std::move(free)});
    }
    if (r.mode() == v1::SESSION_MODE_IN_PERSON) {
      absl::StatusOr<storage::VenueRecord> venue = storage::GetVenue(tx, r.venue_id());
      if (absl::IsNotFound(venue.status())) {
        return FieldError("venue_id", absl::StrCat("no venue ", r.venue_id()));
      }
      if (!venue.ok()) return venue.status();
      if (!who->unreadable_needs.empty()) {
        return absl::FailedPreconditionError(who->unreadable_needs);
      }
      const RoomNeeds needs = NeedsAt(*venue, r.kind(), who->parties);
      if (!needs.unmet.empty()) {
        response.set_unmet_access_needs(needs.unmet);
        return absl::OkStatus();
      }
      absl::StatusOr<rules::RoomPool> private_pool =
          PoolOf(tx, needs.private_rooms, needs.private_needed, needs.private_eligible,
                 absl::StrCat("private rooms at venue ", venue->id), *window);
      if (!private_pool.ok()) return private_pool.status();
      query.rooms.push_back(*std::move(private_pool));
      if (needs.joint_needed > 0) {
        absl::StatusOr<rules::RoomPool> joint_pool =
            PoolOf(tx, needs.joint_rooms, needs.joint_needed, {},
                   absl::StrCat("joint rooms at venue ", venue->id), *window);
        if (!joint_pool.ok()) return joint_pool.status();
        query.rooms.push_back(*std::move(joint_pool));
      }
    }
    const rules::SlotResult result = rules::FindCommonSlots(query);
    for (const Interval& slot : result.slots) {
      v1::Slot* out = response.add_slots();
      TimeToProto(slot.start, out->mutable_start());
      TimeToProto(slot.end, out->mutable_end());
      out->set_local_start(rules::LondonRfc3339(slot.start));
      out->set_local_end(rules::LondonRfc3339(slot.end));
    }
    response.set_most_blocking(result.most_blocking);
    response.set_blocked_minutes(static_cast<int32_t>(result.blocked_seconds / 60));
    return absl::OkStatus();
  });
}

absl::Status BookSession(CallContext& call, const v1::BookSessionRequest& r,
                         v1::BookSessionResponse& response) {
  Validator v;
  ValidateShape(v, r.kind(), r.party_id(), r.mode(), r.venue_id());
  ValidateDuration(v, r.duration_minutes(), false);
  const std::string link = ValidateVideoLink(v, r.mode(), r.video_link());
  if (!v.ok()) return v.status();
  absl::StatusOr<Instant> start = ValidStart(call, r.start(), r.has_start());
  if (!start.ok()) return start.status();
  const Instant end = *start + r.duration_minutes() * 60LL;
  const Instant buffer = Seconds(call.settings().session_buffer);

  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) {
    if (absl::Status s = CheckBookable(c, r.kind()); !s.ok()) return s;
    absl::StatusOr<Participants> who = ParticipantsOf(tx, c, r.kind(), r.party_id());
    if (!who.ok()) return who.status();
    absl::StatusOr<std::vector<storage::BookingRecord>> bookings =
        ReserveEverything(tx, call.principal(), *who, r.kind(), r.mode(), r.venue_id(), *start, end,
                          buffer, /*exclude_session=*/0);
    if (!bookings.ok()) return bookings.status();
    storage::SessionRecord s{.case_id = c.id,
                             .kind = r.kind(),
                             .mode = r.mode(),
                             .party_id = r.party_id(),
                             .start_at = *start,
                             .end_at = end,
                             .state = v1::SESSION_STATE_SCHEDULED,
                             .venue_id = r.venue_id(),
                             .video_link = link,
                             .sequence = 0,
                             .created_at = call.now(),
                             .updated_at = call.now(),
                             .bookings = *std::move(bookings)};
    absl::StatusOr<storage::SessionRecord> stored = storage::InsertSession(
        tx, s, {.at = call.now(), .token_id = call.principal().token_id, .change = "booked"});
    if (!stored.ok()) return stored.status();
    call.AddObject("session", stored->id);
    if (c.state == v1::CASE_STATE_MEDIATORS_ALLOCATED) {
      absl::Status moved = MoveCase(tx, c,
                                    {.to = v1::CASE_STATE_SESSIONS_SCHEDULED,
                                     .at = call.now(),
                                     .token_id = call.principal().token_id,
                                     .reason = "first session booked"});
      if (!moved.ok()) return moved;
    }
    return SessionView(tx, call.principal(), c, *stored, response.mutable_session());
  });
}

absl::Status RescheduleSession(CallContext& call, const v1::RescheduleSessionRequest& r,
                               v1::RescheduleSessionResponse& response) {
  Validator v;
  v.PositiveId("session_id", r.session_id());
  ValidateDuration(v, r.duration_minutes(), true);
  const std::string reason = v.RequiredText("reason", r.reason(), 1000);
  if (!v.ok()) return v.status();
  absl::StatusOr<Instant> start = ValidStart(call, r.start(), r.has_start());
  if (!start.ok()) return start.status();
  call.AddObject("session", r.session_id());
  const Instant buffer = Seconds(call.settings().session_buffer);

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<VisibleSession> found = LoadSessionFor(tx, call.principal(), r.session_id());
    if (!found.ok()) return found.status();
    storage::SessionRecord& s = found->session;
    call.AddObject("case", s.case_id);
    if (s.state != v1::SESSION_STATE_SCHEDULED) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", s.id, " is cancelled; book a new one instead"));
    }
    if (s.start_at <= Seconds(call.now())) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", s.id, " has already started; it cannot be moved"));
    }
    if (absl::Status st = CheckBookable(found->c, s.kind); !st.ok()) return st;
    const Instant end =
        *start + (r.duration_minutes() == 0 ? s.end_at - s.start_at : r.duration_minutes() * 60LL);
    absl::StatusOr<Participants> who = ParticipantsOf(tx, found->c, s.kind, s.party_id);
    if (!who.ok()) return who.status();
    absl::StatusOr<std::vector<storage::BookingRecord>> bookings =
        ReserveEverything(tx, call.principal(), *who, s.kind, s.mode, s.venue_id, *start, end,
                          buffer, /*exclude_session=*/s.id);
    if (!bookings.ok()) return bookings.status();
    absl::Status moved = storage::RescheduleSession(tx, s.id, *start, end, *bookings,
                                                    {.at = call.now(),
                                                     .token_id = call.principal().token_id,
                                                     .change = "rescheduled",
                                                     .previous_start = s.start_at,
                                                     .previous_end = s.end_at,
                                                     .reason = reason});
    if (!moved.ok()) return moved;
    absl::StatusOr<storage::SessionRecord> now = storage::GetSession(tx, s.id);
    if (!now.ok()) return now.status();
    return SessionView(tx, call.principal(), found->c, *now, response.mutable_session());
  });
}

absl::Status CancelSession(CallContext& call, const v1::CancelSessionRequest& r,
                           v1::CancelSessionResponse& response) {
  Validator v;
  v.PositiveId("session_id", r.session_id());
  const std::string reason = v.RequiredText("reason", r.reason(), 1000);
  if (!v.ok()) return v.status();
  call.AddObject("session", r.session_id());
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<VisibleSession> found = LoadSessionFor(tx, call.principal(), r.session_id());
    if (!found.ok()) return found.status();
    call.AddObject("case", found->c.id);
    if (found->session.state != v1::SESSION_STATE_SCHEDULED) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", r.session_id(), " is already cancelled"));
    }
    if (found->session.start_at <= Seconds(call.now())) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", r.session_id(), " has already started; it cannot be cancelled"));
    }
    absl::Status cancelled = storage::CancelSession(tx, r.session_id(),
                                                    {.at = call.now(),
                                                     .token_id = call.principal().token_id,
                                                     .change = "cancelled",
                                                     .previous_start = found->session.start_at,
                                                     .previous_end = found->session.end_at,
                                                     .reason = reason});
    if (!cancelled.ok()) return cancelled;
    absl::StatusOr<storage::SessionRecord> now = storage::GetSession(tx, r.session_id());
    if (!now.ok()) return now.status();
    return SessionView(tx, call.principal(), found->c, *now, response.mutable_session());
  });
}

absl::Status GetSession(CallContext& call, const v1::GetSessionRequest& r,
                        v1::GetSessionResponse& response) {
  Validator v;
  v.PositiveId("session_id", r.session_id());
  if (!v.ok()) return v.status();
  call.AddObject("session", r.session_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<VisibleSession> found = LoadSessionFor(tx, call.principal(), r.session_id());
    if (!found.ok()) return found.status();
    return SessionView(tx, call.principal(), found->c, found->session, response.mutable_session());
  });
}

// The rescheduling queue: sessions needing rescheduling in every case the caller may see.
absl::Status ListRescheduleQueue(CallContext& call, const v1::ListSessionsRequest& r,
                                 v1::ListSessionsResponse& response) {
  const Principal& who = call.principal();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("RescheduleQueue", r.page_size(), r.page_token());
  if (!cursor.ok()) return cursor.status();
  if (who.role != v1::ROLE_CASE_SUPPORT && who.role != v1::ROLE_SENIOR_ADVISER &&
      who.role != v1::ROLE_MEDIATOR) {
    return absl::PermissionDeniedError(
        "the rescheduling queue (needs_rescheduling without case_id) is for case support, Senior "
        "Advisers and mediators; give a case_id");
  }
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::SessionRecord>> sessions =
        storage::SessionsNeedingRescheduling(
            tx, who.role == v1::ROLE_MEDIATOR ? who.mediator_id : 0, Seconds(call.now()), *cursor);
    if (!sessions.ok()) return sessions.status();
    response.set_next_page_token(
        FinishPage("RescheduleQueue", *cursor, *sessions, [](const auto& s) { return s.id; }));
    // Each case once, however many of its sessions are in the page.
    std::map<int64_t, absl::StatusOr<storage::CaseRecord>> cases;
    for (const storage::SessionRecord& s : *sessions) {
      auto c = cases.find(s.case_id);
      if (c == cases.end()) c = cases.emplace(s.case_id, LoadCaseFor(tx, who, s.case_id)).first;
      if (absl::IsNotFound(c->second.status())) continue;  // A case the mediator no longer holds.
      if (!c->second.ok()) return c->second.status();
      if (absl::Status st = SessionView(tx, who, *c->second, s, response.add_sessions());
          !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  });
}

// The calendar: sessions starting in a window of days, across the cases the caller may see.
absl::Status ListSessionsInWindow(CallContext& call, const v1::ListSessionsRequest& r,
                                  v1::ListSessionsResponse& response) {
  const Principal& who = call.principal();
  if (r.page_size() != 0 || !r.page_token().empty()) {
    return FieldError("page_size", "the sessions of a window come in one page");
  }
  if (r.mediator_id() < 0) return FieldError("mediator_id", "must be a positive id or 0");
  if (r.needs_rescheduling()) {
    return FieldError("needs_rescheduling",
                      "give either the window or needs_rescheduling, not both");
  }
  int64_t mediator_id = r.mediator_id();
  if (who.role == v1::ROLE_MEDIATOR) {
    if (mediator_id != 0 && mediator_id != who.mediator_id) {
      return absl::PermissionDeniedError(absl::StrCat(
          "mediator_id: this token is mediator ", who.mediator_id, " and sees only its calendar"));
    }
    mediator_id = who.mediator_id;
  } else if (who.role != v1::ROLE_CASE_SUPPORT && who.role != v1::ROLE_SENIOR_ADVISER) {
    return absl::PermissionDeniedError(
        "the calendar (a window without case_id) is for case support, Senior Advisers and "
        "mediators; give a case_id");
  }
  absl::StatusOr<Interval> window =
      DaysWindow(call.now(), r.has_window_first_day(), r.window_first_day(),
                 r.has_window_last_day(), r.window_last_day(), 6, 42);
  if (!window.ok()) return window.status();
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::SessionRecord>> sessions = storage::ListSessionsStarting(
        tx, mediator_id, window->start, window->end, r.include_cancelled());
    if (!sessions.ok()) return sessions.status();
    // Each case once, however many of its sessions are in the window.
    std::map<int64_t, absl::StatusOr<storage::CaseRecord>> cases;
    for (const storage::SessionRecord& s : *sessions) {
      auto c = cases.find(s.case_id);
      if (c == cases.end()) c = cases.emplace(s.case_id, LoadCaseFor(tx, who, s.case_id)).first;
      if (absl::IsNotFound(c->second.status())) continue;  // A case the mediator no longer holds.
      if (!c->second.ok()) return c->second.status();
      if (!MaySeeSession(who, s)) continue;
      if (absl::Status st = SessionView(tx, who, *c->second, s, response.add_sessions());
          !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  });
}

absl::Status ListSessions(CallContext& call, const v1::ListSessionsRequest& r,
                          v1::ListSessionsResponse& response) {
  if (r.case_id() == 0 && (r.has_window_first_day() || r.has_window_last_day())) {
    return ListSessionsInWindow(call, r, response);
  }
  if (r.case_id() == 0 && r.needs_rescheduling()) return ListRescheduleQueue(call, r, response);
  if (r.page_size() != 0 || !r.page_token().empty()) {
    return FieldError("page_size",
                      "a case's sessions come in one page; page_size and page_token are for the "
                      "rescheduling queue (needs_rescheduling without case_id)");
  }
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) {
    absl::StatusOr<std::vector<storage::SessionRecord>> sessions =
        storage::ListSessionsOfCase(tx, c.id, r.include_cancelled());
    if (!sessions.ok()) return sessions.status();
    for (const auto& s : *sessions) {
      if (!MaySeeSession(call.principal(), s)) continue;
      if (r.needs_rescheduling() &&
          (s.needs_rescheduling.empty() || s.state != v1::SESSION_STATE_SCHEDULED)) {
        continue;
      }
      if (absl::Status st = SessionView(tx, call.principal(), c, s, response.add_sessions());
          !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(SchedulingService, CreateVenue)
MEDIATION_UNARY_RPC(SchedulingService, ListVenues)
MEDIATION_UNARY_RPC(SchedulingService, SetPartyAvailability)
MEDIATION_UNARY_RPC(SchedulingService, FindSlots)
MEDIATION_UNARY_RPC(SchedulingService, BookSession)
MEDIATION_UNARY_RPC(SchedulingService, RescheduleSession)
MEDIATION_UNARY_RPC(SchedulingService, CancelSession)
MEDIATION_UNARY_RPC(SchedulingService, GetSession)
MEDIATION_UNARY_RPC(SchedulingService, ListSessions)
MEDIATION_UNARY_RPC(SchedulingService, ExportSessionCalendar)
MEDIATION_UNARY_RPC(SchedulingService, ExportMediatorCalendar)

MEDIATION_SERVICE(SchedulingService)

}  // namespace mediation

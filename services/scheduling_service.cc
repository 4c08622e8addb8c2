#include "services/scheduling_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/core/london.h"
#include "services/core/validation.h"
#include "services/rules/icalendar.h"
#include "services/rules/slots.h"
#include "services/session_validation.h"
#include "storage/allocations.h"
#include "storage/audit.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/sessions.h"

namespace mediation {
namespace {

using rules::Instant;
using rules::Interval;
using rules::IntervalList;

constexpr int64_t kDaySeconds = 86400;
constexpr int kDefaultSearchDays = 28;
constexpr int kMaxSearchDays = 180;

Instant Seconds(absl::Duration d) { return absl::ToInt64Seconds(d); }
Instant Seconds(absl::Time t) { return absl::ToUnixSeconds(t); }

bool IsJoint(v1::SessionKind kind) { return kind != v1::SESSION_KIND_INDIVIDUAL_MEETING; }

std::string Short(v1::SessionKind kind) {
  switch (kind) {
    case v1::SESSION_KIND_INDIVIDUAL_MEETING:
      return "individual meeting";
    case v1::SESSION_KIND_JOINT_MEETING:
      return "joint meeting";
    default:
      return "follow-up review";
  }
}

// Sessions may be booked while mediation is under way; a follow-up review also after the
// outcome.
absl::Status CheckBookable(const storage::CaseRecord& c, v1::SessionKind kind) {
  std::vector<v1::CaseState> allowed = {v1::CASE_STATE_MEDIATORS_ALLOCATED,
                                        v1::CASE_STATE_SESSIONS_SCHEDULED,
                                        v1::CASE_STATE_IN_MEDIATION};
  if (kind == v1::SESSION_KIND_FOLLOW_UP_REVIEW) {
    allowed.push_back(v1::CASE_STATE_OUTCOME_RECORDED);
    allowed.push_back(v1::CASE_STATE_FOLLOW_UP);
  }
  if (std::find(allowed.begin(), allowed.end(), c.state) != allowed.end()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("case ", c.id, " is ", v1::CaseState_Name(c.state), "; a ", Short(kind),
                   " can be booked only once mediators are allocated and while the case is not "
                   "held or finished"));
}

// Who must be free for a session of `kind`.
struct Participants {
  int64_t case_id = 0;
  std::vector<int64_t> mediators;
  std::vector<int64_t> parties;
};

absl::StatusOr<Participants> ParticipantsOf(storage::Tx& tx, const storage::CaseRecord& c,
                                            v1::SessionKind kind, int64_t party_id) {
  Participants p{.case_id = c.id};
  absl::StatusOr<std::vector<storage::AllocationRecord>> allocations =
      storage::ListAllocationsOfCase(tx, c.id, /*include_closed=*/false);
  if (!allocations.ok()) return allocations.status();
  for (const auto& a : *allocations) {
    if (a.state == v1::ALLOCATION_STATE_ACCEPTED) p.mediators.push_back(a.mediator_id);
  }
  if (p.mediators.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", c.id, " has no mediator who has accepted it"));
  }
  if (kind == v1::SESSION_KIND_INDIVIDUAL_MEETING) {
    const bool in_case = std::any_of(c.parties.begin(), c.parties.end(),
                                     [&](const auto& party) { return party.id == party_id; });
    if (!in_case) {
      return FieldError("party_id",
                        absl::StrCat("party ", party_id, " is not a party of case ", c.id));
    }
    p.parties.push_back(party_id);
  } else {
    for (const auto& party : c.parties) p.parties.push_back(party.id);
  }
  return p;
}

IntervalList AsIntervals(const std::vector<storage::BookingRecord>& bookings,
                         int64_t exclude_session) {
  std::vector<Interval> out;
  for (const auto& b : bookings) {
    if (b.session_id != exclude_session) out.push_back({b.start_at, b.end_at});
  }
  return rules::Normalise(std::move(out));
}

// The time a person could attend at all in `window` (working pattern minus leave for a
// mediator; availability windows, or everything, for a party), before other sessions.
absl::StatusOr<IntervalList> BaseFree(storage::Tx& tx, const std::string& resource, int64_t id,
                                      const Interval& window) {
  if (resource == "mediator") {
    absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, id);
    if (!m.ok()) return m.status();
    std::vector<rules::WeeklyHours> hours;
    for (const auto& h : m->working_hours) {
      hours.push_back({h.weekday, h.start_minute, h.end_minute});
    }
    std::vector<rules::DayRange> leave;
    for (const auto& l : m->leave) leave.push_back({l.first_day, l.last_day});
    const IntervalList working = rules::ExpandWorkingPattern(
        hours, rules::LondonDayOf(window.start) - 1, rules::LondonDayOf(window.end) + 1);
    return rules::Subtract(rules::Intersect(working, {window}), rules::LondonDays(leave));
  }
  absl::StatusOr<bool> recorded = storage::PartyHasAvailability(tx, id);
  if (!recorded.ok()) return recorded.status();
  if (!*recorded) return IntervalList{window};  // No windows recorded: any time.
  absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> windows =
      storage::PartyAvailability(tx, id, window.start, window.end);
  if (!windows.ok()) return windows.status();
  std::vector<Interval> out;
  for (const auto& [s, e] : *windows) out.push_back({s, e});
  return rules::Intersect(rules::Normalise(std::move(out)), {window});
}

// Free time of one person in `window`: BaseFree minus other sessions widened by the buffer.
absl::StatusOr<IntervalList> PersonFree(storage::Tx& tx, const std::string& resource, int64_t id,
                                        const Interval& window, Instant buffer,
                                        int64_t exclude_session) {
  absl::StatusOr<IntervalList> base = BaseFree(tx, resource, id, window);
  if (!base.ok()) return base.status();
  // A party's bookings in every case they are a party of (the same person by email).
  absl::StatusOr<std::string> holder = storage::HolderOf(tx, resource, id);
  if (!holder.ok()) return holder.status();
  absl::StatusOr<std::vector<storage::BookingRecord>> bookings =
      storage::ActiveBookings(tx, *holder, window.start - buffer, window.end + buffer);
  if (!bookings.ok()) return bookings.status();
  return rules::Subtract(*base,
                         rules::Widen(AsIntervals(*bookings, exclude_session), buffer, buffer));
}

// The rooms a session of `kind` needs at `venue`: a private room for each party taking part,
// and a joint room for joint sessions.
struct RoomNeeds {
  std::vector<storage::RoomRecord> private_rooms;
  std::vector<storage::RoomRecord> joint_rooms;
  int private_needed = 0;
  int joint_needed = 0;
};

RoomNeeds NeedsAt(const storage::VenueRecord& venue, v1::SessionKind kind, int parties) {
  RoomNeeds n;
  for (const auto& r : venue.rooms) {
    (r.kind == v1::ROOM_KIND_JOINT ? n.joint_rooms : n.private_rooms).push_back(r);
  }
  n.private_needed = parties;
  n.joint_needed = IsJoint(kind) ? 1 : 0;
  return n;
}

absl::StatusOr<IntervalList> RoomFree(storage::Tx& tx, int64_t room_id, const Interval& window,
                                      int64_t exclude_session) {
  absl::StatusOr<std::vector<storage::BookingRecord>> bookings =
      storage::ActiveBookings(tx, absl::StrCat("room:", room_id), window.start, window.end);
  if (!bookings.ok()) return bookings.status();
  return rules::Subtract({window}, AsIntervals(*bookings, exclude_session));
}

absl::StatusOr<rules::RoomPool> PoolOf(storage::Tx& tx,
                                       const std::vector<storage::RoomRecord>& rooms, int needed,
                                       const std::string& name, const Interval& window) {
  rules::RoomPool pool{.name = name, .needed = needed};
  for (const auto& r : rooms) {
    absl::StatusOr<IntervalList> free = RoomFree(tx, r.id, window, 0);
    if (!free.ok()) return free.status();
    pool.free_per_room.push_back(*std::move(free));
  }
  return pool;
}

// A window of London days, [first 00:00, last+1 00:00), as UTC seconds.
absl::StatusOr<Interval> DaysWindow(absl::Time now, bool has_first, const v1::Date& first,
                                    bool has_last, const v1::Date& last, int default_days,
                                    int max_days) {
  Validator v;
  Day first_day = LondonDay(now);
  if (has_first) {
    std::optional<int32_t> d = DayFromProto(first);
    if (!d) v.Fail("window_first_day", "not a valid date");
    first_day = d.value_or(0);
  }
  Day last_day = first_day + default_days;
  if (has_last) {
    std::optional<int32_t> d = DayFromProto(last);
    if (!d) v.Fail("window_last_day", "not a valid date");
    last_day = d.value_or(0);
  }
  if (v.ok() && last_day < first_day) v.Fail("window_last_day", "must not be before the first");
  if (v.ok() && last_day - first_day >= max_days) {
    v.Fail("window_last_day", absl::StrCat("the window is at most ", max_days, " days"));
  }
  if (!v.ok()) return v.status();
  return Interval{rules::LondonToUtc(first_day, 0), rules::LondonToUtc(last_day + 1, 0)};
}

void TimeToProto(Instant t, google::protobuf::Timestamp* out) {
  out->set_seconds(t);
  out->set_nanos(0);
}

// -- Views -------------------------------------------------------------------------------

// Whether `who` takes part in (or may see) `s` at all, given it may see the case.
}  // namespace

bool MaySeeSession(const Principal& who, const storage::SessionRecord& s) {
  if (who.role == v1::ROLE_PARTY) {
    return std::any_of(s.bookings.begin(), s.bookings.end(), [&](const auto& b) {
      return b.resource == "party" && b.resource_id == who.party_id;
    });
  }
  if (who.role == v1::ROLE_ORGANISATION) return IsJoint(s.kind);
  return true;
}

absl::Status SessionView(storage::Tx& tx, const Principal& who, const storage::CaseRecord& c,
                         const storage::SessionRecord& s, v1::Session* out) {
  out->set_id(s.id);
  out->set_case_id(s.case_id);
  out->set_case_reference(c.reference);
  out->set_kind(s.kind);
  out->set_state(s.state);
  DayToProto(rules::LondonDayOf(s.start_at), out->mutable_local_date());
  if (who.role == v1::ROLE_ORGANISATION) return absl::OkStatus();  // Dates of joint sessions.

  out->set_mode(s.mode);
  TimeToProto(s.start_at, out->mutable_start());
  TimeToProto(s.end_at, out->mutable_end());
  out->set_local_start(rules::LondonRfc3339(s.start_at));
  out->set_local_end(rules::LondonRfc3339(s.end_at));
  out->set_party_id(s.party_id);
  out->set_video_link(s.video_link);
  out->set_sequence(s.sequence);
  if (s.venue_id != 0) {
    absl::StatusOr<storage::VenueRecord> venue = storage::GetVenue(tx, s.venue_id);
    if (!venue.ok()) return venue.status();
    out->set_venue_id(venue->id);
    out->set_venue_name(venue->name);
    for (const auto& b : s.bookings) {
      if (b.resource != "room") continue;
      // A party sees its own room and the joint room, not the other party's.
      if (who.role == v1::ROLE_PARTY && b.for_party_id != 0 && b.for_party_id != who.party_id) {
        continue;
      }
      v1::RoomUse* use = out->add_rooms();
      use->set_room_id(b.resource_id);
      use->set_party_id(b.for_party_id);
      for (const auto& r : venue->rooms) {
        if (r.id == b.resource_id) use->set_room_name(r.name);
      }
    }
  }
  for (const auto& b : s.bookings) {
    if (b.resource == "mediator") out->add_mediator_ids(b.resource_id);
    if (b.resource == "party") out->add_party_ids(b.resource_id);
  }
  for (const auto& ch : s.changes) {
    v1::SessionChange* change = out->add_changes();
    ToProto(ch.at, change->mutable_at());
    change->set_change(ch.change);
    if (ch.previous_start != 0) {
      TimeToProto(ch.previous_start, change->mutable_previous_start());
      TimeToProto(ch.previous_end, change->mutable_previous_end());
    }
    // Reasons can be about the other party; a party sees that a change happened, not why.
    if (who.role != v1::ROLE_PARTY) {
      change->set_reason(ch.reason);
      change->set_token_id(ch.token_id);
      ToProto(ch.withheld, change->mutable_withheld());
    }
  }
  return absl::OkStatus();
}

namespace {

// Loads a session the caller may see (its case visible, and the session itself for parties
// and organisations); NOT_FOUND otherwise, the same as for a missing session.
struct VisibleSession {
  storage::SessionRecord session;
  storage::CaseRecord c;
};

absl::StatusOr<VisibleSession> LoadSessionFor(storage::Tx& tx, const Principal& who,
                                              int64_t session_id) {
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("session ", session_id, " not found"));
  absl::StatusOr<storage::SessionRecord> s = storage::GetSession(tx, session_id);
  if (absl::IsNotFound(s.status())) return not_found;
  if (!s.ok()) return s.status();
  absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, who, s->case_id);
  if (absl::IsNotFound(c.status())) return not_found;
  if (!c.ok()) return c.status();
  if (!MaySeeSession(who, *s)) return not_found;
  return VisibleSession{*std::move(s), *std::move(c)};
}

// -- Booking -----------------------------------------------------------------------------

std::string When(Instant start, Instant end) {
  return absl::StrCat(rules::LondonLocalText(start), " to ", rules::LondonLocalText(end).substr(11),
                      " (Europe/London)");
}

// The other sessions holding `holder` within [from, to), as the booking check sees them.
absl::StatusOr<std::vector<rules::BusyTime>> BusyOf(storage::Tx& tx, const std::string& holder,
                                                    Instant from, Instant to,
                                                    int64_t exclude_session) {
  absl::StatusOr<std::vector<storage::BookingRecord>> bookings =
      storage::ActiveBookings(tx, holder, from, to);
  if (!bookings.ok()) return bookings.status();
  std::vector<rules::BusyTime> out;
  for (const storage::BookingRecord& b : *bookings) {
    if (b.session_id == exclude_session) continue;
    out.push_back(
        {.when = {b.start_at, b.end_at}, .session_id = b.session_id, .case_id = b.case_id});
  }
  return out;
}

// How a conflict names the other session: by id and case only to a caller who may see it.
std::string OtherSession(storage::Tx& tx, const Principal& who, const rules::BusyTime& busy) {
  absl::StatusOr<VisibleSession> seen = LoadSessionFor(tx, who, busy.session_id);
  if (!seen.ok()) return "";
  return absl::StrCat(" (session ", busy.session_id, " of case ", seen->c.reference, ")");
}

// Loads the calendars of every person and room [start, end) needs, checks them with
// rules::CheckReservation and returns the bookings to write. ABORTED naming the time (and the
// other session, to a caller who may see it) when another session is in the way; FAILED_
// PRECONDITION when a person is not working or not available then.
absl::StatusOr<std::vector<storage::BookingRecord>> ReserveEverything(
    storage::Tx& tx, const Principal& caller, const Participants& who, v1::SessionKind kind,
    v1::SessionMode mode, int64_t venue_id, Instant start, Instant end, Instant buffer,
    int64_t exclude_session) {
  rules::ReservationQuery query{.slot = {start, end}, .buffer = buffer};
  const Interval around{start - kDaySeconds, end + kDaySeconds};
  struct Person {
    std::string resource;
    int64_t id;
  };
  std::vector<Person> people;
  for (int64_t m : who.mediators) people.push_back({"mediator", m});
  for (int64_t p : who.parties) people.push_back({"party", p});
  for (const Person& p : people) {
    absl::StatusOr<std::string> holder = storage::HolderOf(tx, p.resource, p.id);
    if (!holder.ok()) return holder.status();
    absl::StatusOr<std::vector<rules::BusyTime>> busy =
        BusyOf(tx, *holder, start - buffer, end + buffer, exclude_session);
    if (!busy.ok()) return busy.status();
    absl::StatusOr<IntervalList> free = BaseFree(tx, p.resource, p.id, around);
    if (!free.ok()) return free.status();
    query.people.push_back({.name = absl::StrCat(p.resource, " ", p.id),
                            .free = *std::move(free),
                            .busy = *std::move(busy)});
  }
  std::vector<int64_t> room_parties;  // The party each private room is for.
  if (mode == v1::SESSION_MODE_IN_PERSON) {
    absl::StatusOr<storage::VenueRecord> venue = storage::GetVenue(tx, venue_id);
    if (absl::IsNotFound(venue.status())) {
      return FieldError("venue_id", absl::StrCat("no venue ", venue_id));
    }
    if (!venue.ok()) return venue.status();
    const RoomNeeds needs = NeedsAt(*venue, kind, static_cast<int>(who.parties.size()));
    auto request = [&](const std::vector<storage::RoomRecord>& rooms, int needed,
                       std::string what) -> absl::StatusOr<rules::RoomRequest> {
      rules::RoomRequest r{.what = std::move(what), .needed = needed};
      for (const storage::RoomRecord& room : rooms) {
        absl::StatusOr<std::vector<rules::BusyTime>> busy =
            BusyOf(tx, absl::StrCat("room:", room.id), start, end, exclude_session);
        if (!busy.ok()) return busy.status();
        r.rooms.push_back({.room_id = room.id, .busy = *std::move(busy)});
      }
      return r;
    };
    absl::StatusOr<rules::RoomRequest> private_rooms =
        request(needs.private_rooms, needs.private_needed, "private rooms");
    if (!private_rooms.ok()) return private_rooms.status();
    query.rooms.push_back(*std::move(private_rooms));
    absl::StatusOr<rules::RoomRequest> joint_rooms =
        request(needs.joint_rooms, needs.joint_needed, "joint rooms");
    if (!joint_rooms.ok()) return joint_rooms.status();
    query.rooms.push_back(*std::move(joint_rooms));
  }

  const rules::Reservation r = rules::CheckReservation(query);
  using Outcome = rules::Reservation::Outcome;
  switch (r.outcome) {
    case Outcome::kBusy: {
      const Person& p = people[r.person];
      const bool elsewhere = p.resource == "party" && r.clash.case_id != who.case_id;
      return absl::AbortedError(absl::StrCat(
          query.people[r.person].name, " is already booked at ",
          When(r.clash.when.start, r.clash.when.end), OtherSession(tx, caller, r.clash),
          elsewhere ? " in another case they are a party of (the same person by email)" : "",
          ", which is within ", buffer / 60, " minutes of this session; nothing was booked"));
    }
    case Outcome::kUnavailable: {
      const Person& p = people[r.person];
      return absl::FailedPreconditionError(absl::StrCat(query.people[r.person].name,
                                                        p.resource == "mediator"
                                                            ? " is not working (or is on leave) at "
                                                            : " is not available at ",
                                                        When(start, end)));
    }
    case Outcome::kNoRooms:
      return absl::AbortedError(absl::StrCat("venue ", venue_id, " has ", r.rooms_free, " of the ",
                                             query.rooms[r.request].needed, " ",
                                             query.rooms[r.request].what, " needed free at ",
                                             When(start, end), "; nothing was booked"));
    case Outcome::kReserved:
      break;
  }
  std::vector<storage::BookingRecord> bookings;
  for (const Person& p : people) {
    bookings.push_back(
        {.resource = p.resource, .resource_id = p.id, .start_at = start, .end_at = end});
  }
  for (size_t i = 0; i < r.rooms_taken.size(); ++i) {
    for (size_t n = 0; n < r.rooms_taken[i].size(); ++n) {
      // Private rooms (the first request) are for the parties, in order; the joint room for all.
      const int64_t for_party = i == 0 && n < who.parties.size() ? who.parties[n] : 0;
      bookings.push_back({.resource = "room",
                          .resource_id = r.rooms_taken[i][n],
                          .for_party_id = for_party,
                          .start_at = start,
                          .end_at = end});
    }
  }
  return bookings;
}

// The start of a booking: a quarter hour, no sooner than the minimum notice.
absl::StatusOr<Instant> ValidStart(const CallContext& call, const google::protobuf::Timestamp& t,
                                   bool present) {
  Validator v;
  ValidateQuarterHourStart(v, t, present);
  if (!v.ok()) return v.status();
  const Instant earliest = Seconds(call.now() + call.settings().minimum_notice);
  if (t.seconds() < earliest) {
    return absl::FailedPreconditionError(
        absl::StrCat("start: sessions need ", absl::ToInt64Hours(call.settings().minimum_notice),
                     " hours' notice; the earliest start is ", rules::LondonLocalText(earliest),
                     " (Europe/London)"));
  }
  return t.seconds();
}

// -- Handlers ----------------------------------------------------------------------------

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
    for (const auto& room : stored->rooms) {
      v1::Room* x = out->add_rooms();
      x->set_id(room.id);
      x->set_name(room.name);
      x->set_kind(room.kind);
    }
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
      for (const auto& room : venue.rooms) {
        v1::Room* x = out->add_rooms();
        x->set_id(room.id);
        x->set_name(room.name);
        x->set_kind(room.kind);
      }
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
    return storage::ReplacePartyAvailability(tx, r.party_id(), windows);
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
    for (int64_t p : who->parties) {
      absl::StatusOr<IntervalList> free = PersonFree(tx, "party", p, *window, buffer, 0);
      if (!free.ok()) return free.status();
      query.people.push_back({absl::StrCat("party ", p), *std::move(free)});
    }
    if (r.mode() == v1::SESSION_MODE_IN_PERSON) {
      absl::StatusOr<storage::VenueRecord> venue = storage::GetVenue(tx, r.venue_id());
      if (absl::IsNotFound(venue.status())) {
        return FieldError("venue_id", absl::StrCat("no venue ", r.venue_id()));
      }
      if (!venue.ok()) return venue.status();
      const RoomNeeds needs = NeedsAt(*venue, r.kind(), static_cast<int>(who->parties.size()));
      absl::StatusOr<rules::RoomPool> private_pool =
          PoolOf(tx, needs.private_rooms, needs.private_needed,
                 absl::StrCat("private rooms at venue ", venue->id), *window);
      if (!private_pool.ok()) return private_pool.status();
      query.rooms.push_back(*std::move(private_pool));
      if (needs.joint_needed > 0) {
        absl::StatusOr<rules::RoomPool> joint_pool =
            PoolOf(tx, needs.joint_rooms, needs.joint_needed,
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

absl::Status ListSessions(CallContext& call, const v1::ListSessionsRequest& r,
                          v1::ListSessionsResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) {
    absl::StatusOr<std::vector<storage::SessionRecord>> sessions =
        storage::ListSessionsOfCase(tx, c.id, r.include_cancelled());
    if (!sessions.ok()) return sessions.status();
    for (const auto& s : *sessions) {
      if (!MaySeeSession(call.principal(), s)) continue;
      if (absl::Status st = SessionView(tx, call.principal(), c, s, response.add_sessions());
          !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  });
}

// The calendar entry for a session: the case reference and the kind of meeting, never names
// or anything said in the case.
absl::StatusOr<rules::CalendarEvent> EventOf(storage::Tx& tx, const storage::CaseRecord& c,
                                             const storage::SessionRecord& s, absl::Time now) {
  rules::CalendarEvent e{
      .uid = absl::StrCat("session-", s.id, "@mediation.ppa.nhs.uk"),
      .start = s.start_at,
      .end = s.end_at,
      .stamp = Seconds(now),
      .sequence = s.sequence,
      .cancelled = s.state == v1::SESSION_STATE_CANCELLED,
      .summary = absl::StrCat("Assisted mediation: ", Short(s.kind), " (", c.reference, ")"),
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

void SetCalendar(std::string ics, v1::CalendarExport* out) {
  out->set_content_type("text/calendar");
  out->set_ics(std::move(ics));
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
    absl::StatusOr<rules::CalendarEvent> event = EventOf(tx, found->c, found->session, call.now());
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
      absl::StatusOr<rules::CalendarEvent> e = EventOf(tx, *c, s, call.now());
      if (!e.ok()) return e.status();
      events.push_back(*std::move(e));
    }
    SetCalendar(rules::RenderCalendar(events), response.mutable_calendar());
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<int> AdvanceCasesWithStartedSessions(storage::Store& store, absl::Time now) {
  int moved = 0;
  absl::Status status = store.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<int64_t>> started =
        storage::CasesWithStartedSessions(tx, Seconds(now));
    if (!started.ok()) return started.status();
    for (int64_t id : *started) {
      absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, id);
      if (!c.ok()) return c.status();
      absl::Status s = MoveCase(
          tx, *c,
          {.to = v1::CASE_STATE_IN_MEDIATION, .at = now, .reason = "the first session started"});
      if (!s.ok()) return s;
      storage::AuditRecord audit{.at = now,
                                 .call_id = "maintenance",
                                 .method = "server: first session started",
                                 .objects = absl::StrCat("case:", id),
                                 .outcome = "OK"};
      if (absl::Status a = storage::AppendAudit(tx, audit).status(); !a.ok()) return a;
      ++moved;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return moved;
}

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

}  // namespace mediation

#include "services/scheduling/booking.h"

#include "absl/strings/str_cat.h"
#include "services/scheduling/session_view.h"
#include "services/session_validation.h"
#include "storage/sessions.h"

namespace mediation::scheduling {
namespace {

// How a conflict names the other session: by id and case only to a caller who may see it.
std::string OtherSession(storage::Tx& tx, const Principal& who, const rules::BusyTime& busy) {
  absl::StatusOr<VisibleSession> seen = LoadSessionFor(tx, who, busy.session_id);
  if (!seen.ok()) return "";
  return absl::StrCat(" (session ", busy.session_id, " of case ", seen->c.reference, ")");
}

}  // namespace

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
  for (const storage::PartyRecord* p : who.parties) people.push_back({"party", p->id});
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
    if (!who.unreadable_needs.empty()) {
      return absl::FailedPreconditionError(who.unreadable_needs);
    }
    const RoomNeeds needs = NeedsAt(*venue, kind, who.parties);
    if (!needs.unmet.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          needs.unmet, "; choose another venue or a video session (nothing was booked)"));
    }
    auto request = [&](const std::vector<storage::RoomRecord>& rooms, int needed,
                       std::vector<std::vector<size_t>> eligible,
                       std::string what) -> absl::StatusOr<rules::RoomRequest> {
      rules::RoomRequest r{
          .what = std::move(what), .needed = needed, .eligible = std::move(eligible)};
      for (const storage::RoomRecord& room : rooms) {
        absl::StatusOr<std::vector<rules::BusyTime>> busy =
            BusyOf(tx, absl::StrCat("room:", room.id), start, end, exclude_session);
        if (!busy.ok()) return busy.status();
        r.rooms.push_back({.room_id = room.id, .busy = *std::move(busy)});
      }
      return r;
    };
    absl::StatusOr<rules::RoomRequest> private_rooms =
        request(needs.private_rooms, needs.private_needed, needs.private_eligible, "private rooms");
    if (!private_rooms.ok()) return private_rooms.status();
    query.rooms.push_back(*std::move(private_rooms));
    absl::StatusOr<rules::RoomRequest> joint_rooms =
        request(needs.joint_rooms, needs.joint_needed, {}, "joint rooms");
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
      const int64_t for_party = i == 0 && n < who.parties.size() ? who.parties[n]->id : 0;
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

}  // namespace mediation::scheduling

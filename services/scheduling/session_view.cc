#include "services/scheduling/session_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/convert.h"
#include "services/scheduling/calendars.h"
#include "storage/sessions.h"

namespace mediation {

using scheduling::IsJoint;
using scheduling::TimeToProto;

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
  out->set_needs_rescheduling(!s.needs_rescheduling.empty());
  // Why can be someone's leave or another party's availability: not for a party.
  if (!s.needs_rescheduling.empty() && who.role != v1::ROLE_PARTY) {
    out->set_needs_rescheduling_reason(s.needs_rescheduling);
    if (s.needs_rescheduling_at) {
      ToProto(*s.needs_rescheduling_at, out->mutable_needs_rescheduling_since());
    }
  }
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

namespace scheduling {

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

}  // namespace scheduling

}  // namespace mediation

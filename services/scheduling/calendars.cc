#include "services/scheduling/calendars.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/rules/london.h"
#include "storage/allocations.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/sessions.h"

namespace mediation::scheduling {
namespace {

IntervalList AsIntervals(const std::vector<storage::BookingRecord>& bookings,
                         int64_t exclude_session) {
  std::vector<Interval> out;
  for (const auto& b : bookings) {
    if (b.session_id != exclude_session) out.push_back({b.start_at, b.end_at});
  }
  return rules::Normalise(std::move(out));
}

std::string NeedText(v1::AccessNeed need) {
  switch (need) {
    case v1::ACCESS_NEED_STEP_FREE:
      return "step-free access";
    case v1::ACCESS_NEED_HEARING_LOOP:
      return "a hearing loop";
    case v1::ACCESS_NEED_QUIET_ROOM:
      return "a quiet room";
    case v1::ACCESS_NEED_BSL_INTERPRETER:
      return "space for a British Sign Language interpreter";
    default:
      return v1::AccessNeed_Name(need);
  }
}

bool Meets(const storage::RoomRecord& room, const std::vector<v1::AccessNeed>& needs) {
  return std::all_of(needs.begin(), needs.end(), [&](v1::AccessNeed n) {
    return std::find(room.features.begin(), room.features.end(), n) != room.features.end();
  });
}

}  // namespace

void TimeToProto(Instant t, google::protobuf::Timestamp* out) {
  out->set_seconds(t);
  out->set_nanos(0);
}

bool IsJoint(v1::SessionKind kind) { return kind != v1::SESSION_KIND_INDIVIDUAL_MEETING; }

std::string KindText(v1::SessionKind kind) {
  switch (kind) {
    case v1::SESSION_KIND_INDIVIDUAL_MEETING:
      return "individual meeting";
    case v1::SESSION_KIND_JOINT_MEETING:
      return "joint meeting";
    default:
      return "follow-up review";
  }
}

std::string When(Instant start, Instant end) {
  return absl::StrCat(rules::LondonLocalText(start), " to ", rules::LondonLocalText(end).substr(11),
                      " (Europe/London)");
}

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
      absl::StrCat("case ", c.id, " is ", v1::CaseState_Name(c.state), "; a ", KindText(kind),
                   " can be booked only once mediators are allocated and while the case is not "
                   "held or finished"));
}

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
  for (const storage::PartyRecord& party : c.parties) {
    if (IsJoint(kind) || party.id == party_id) p.parties.push_back(&party);
  }
  if (p.parties.empty()) {
    return FieldError("party_id",
                      absl::StrCat("party ", party_id, " is not a party of case ", c.id));
  }
  for (const storage::PartyRecord* party : p.parties) {
    const std::string field = absl::StrCat("parties[", party->id, "].access_needs");
    for (const storage::WithheldField& w : c.withheld) {
      if (w.field == field && p.unreadable_needs.empty()) {
        p.unreadable_needs = absl::StrCat(
            "party ", party->id,
            "'s access needs cannot be read (altered in the database or destroyed), so no room "
            "can be matched to them; book by video (an older backup may hold them)");
      }
    }
  }
  return p;
}

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

absl::StatusOr<IntervalList> RoomFree(storage::Tx& tx, int64_t room_id, const Interval& window) {
  absl::StatusOr<std::vector<storage::BookingRecord>> bookings =
      storage::ActiveBookings(tx, absl::StrCat("room:", room_id), window.start, window.end);
  if (!bookings.ok()) return bookings.status();
  return rules::Subtract({window}, AsIntervals(*bookings, 0));
}

std::string NeedsText(const std::vector<v1::AccessNeed>& needs) {
  std::vector<std::string> parts;
  for (v1::AccessNeed n : needs) parts.push_back(NeedText(n));
  if (parts.size() <= 1) return absl::StrJoin(parts, "");
  const std::string last = parts.back();
  parts.pop_back();
  return absl::StrCat(absl::StrJoin(parts, ", "), " and ", last);
}

RoomNeeds NeedsAt(const storage::VenueRecord& venue, v1::SessionKind kind,
                  const std::vector<const storage::PartyRecord*>& parties) {
  RoomNeeds n;
  n.private_needed = static_cast<int>(parties.size());
  n.joint_needed = IsJoint(kind) ? 1 : 0;
  std::vector<v1::AccessNeed> everyone;  // What the joint room must meet.
  for (const storage::PartyRecord* p : parties) {
    for (v1::AccessNeed need : p->access_needs) {
      if (std::find(everyone.begin(), everyone.end(), need) == everyone.end()) {
        everyone.push_back(need);
      }
    }
  }
  for (const auto& r : venue.rooms) {
    if (r.kind != v1::ROOM_KIND_JOINT) {
      n.private_rooms.push_back(r);
    } else if (Meets(r, everyone)) {
      n.joint_rooms.push_back(r);
    }
  }
  if (n.joint_needed > 0 && n.joint_rooms.empty() && !everyone.empty()) {
    n.unmet = absl::StrCat("venue ", venue.id, " has no joint room with ", NeedsText(everyone),
                           " (what the parties need)");
  }
  if (everyone.empty()) return n;
  for (const storage::PartyRecord* p : parties) {
    std::vector<size_t> rooms;
    for (size_t i = 0; i < n.private_rooms.size(); ++i) {
      if (Meets(n.private_rooms[i], p->access_needs)) rooms.push_back(i);
    }
    if (rooms.empty() && n.unmet.empty()) {
      n.unmet = absl::StrCat("venue ", venue.id, " has no private room with ",
                             NeedsText(p->access_needs), " for party ", p->id);
    }
    n.private_eligible.push_back(std::move(rooms));
  }
  if (n.unmet.empty() &&
      !rules::AssignRooms(n.private_eligible, std::vector<bool>(n.private_rooms.size(), true))) {
    n.unmet = absl::StrCat("venue ", venue.id,
                           " has too few private rooms meeting the parties' access needs for a "
                           "room each");
  }
  return n;
}

absl::StatusOr<Interval> DaysWindow(absl::Time now, bool has_first, const v1::Date& first,
                                    bool has_last, const v1::Date& last, int default_days,
                                    int max_days) {
  Validator v;
  rules::Day first_day = rules::LondonDay(now);
  if (has_first) {
    std::optional<int32_t> d = DayFromProto(first);
    if (!d) v.Fail("window_first_day", "not a valid date");
    first_day = d.value_or(0);
  }
  rules::Day last_day = first_day + default_days;
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

absl::Status MarkCollisions(storage::Tx& tx, const std::string& resource, int64_t id, Instant from,
                            absl::Time at, const std::string& why, bool with_cases,
                            google::protobuf::RepeatedPtrField<v1::SessionCollision>* out) {
  absl::StatusOr<std::vector<storage::SessionRecord>> sessions =
      storage::ScheduledSessionsHolding(tx, resource, id, from);
  if (!sessions.ok() || sessions->empty()) return sessions.status();
  // One read of the person's time over all their sessions (earliest first, at most a day each).
  const Interval span{sessions->front().start_at, sessions->back().start_at + kDaySeconds};
  absl::StatusOr<IntervalList> free = BaseFree(tx, resource, id, span);
  if (!free.ok()) return free.status();
  std::map<int64_t, std::string> references;
  for (const storage::SessionRecord& s : *sessions) {
    if (rules::Covers(*free, {s.start_at, s.end_at})) continue;
    if (absl::Status marked = storage::MarkNeedsRescheduling(tx, s.id, why, at); !marked.ok()) {
      return marked;
    }
    v1::SessionCollision* collision = out->Add();
    collision->set_session_id(s.id);
    if (with_cases) {
      if (!references.contains(s.case_id)) {
        absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, s.case_id);
        if (!c.ok()) return c.status();
        references[s.case_id] = c->reference;
      }
      collision->set_case_id(s.case_id);
      collision->set_case_reference(references[s.case_id]);
      collision->set_kind(s.kind);
    }
    TimeToProto(s.start_at, collision->mutable_start());
    TimeToProto(s.end_at, collision->mutable_end());
    collision->set_local_start(rules::LondonRfc3339(s.start_at));
    collision->set_local_end(rules::LondonRfc3339(s.end_at));
    collision->set_reason(s.needs_rescheduling.empty() ? why : s.needs_rescheduling);
  }
  return absl::OkStatus();
}

}  // namespace mediation::scheduling

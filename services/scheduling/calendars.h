// What scheduling knows about time, read from storage: who must be free for a session, when each
// person and room is free (working pattern, leave, availability windows, other sessions in any
// case), the rooms a session needs at a venue (meeting the parties' access needs), and the booked
// sessions a change of someone's time now collides with. The interval arithmetic and the slot
// and booking rules are pure, in rules/slots.h.
#ifndef MEDIATION_SERVICES_SCHEDULING_CALENDARS_H_
#define MEDIATION_SERVICES_SCHEDULING_CALENDARS_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "services/rules/slots.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::scheduling {

namespace v1 = ::ppa::mediation::v1;
using rules::Instant;
using rules::Interval;
using rules::IntervalList;

inline constexpr int64_t kDaySeconds = 86400;

inline Instant Seconds(absl::Duration d) { return absl::ToInt64Seconds(d); }
inline Instant Seconds(absl::Time t) { return absl::ToUnixSeconds(t); }
void TimeToProto(Instant t, google::protobuf::Timestamp* out);

// Joint meetings and follow-up reviews: every party takes part.
bool IsJoint(v1::SessionKind kind);
// "individual meeting", "joint meeting", "follow-up review".
std::string KindText(v1::SessionKind kind);
// "2026-12-10T09:30 to 11:30 (Europe/London)", for messages.
std::string When(Instant start, Instant end);

// Sessions may be booked while mediation is under way; a follow-up review also after the
// outcome. FAILED_PRECONDITION naming the state otherwise.
absl::Status CheckBookable(const storage::CaseRecord& c, v1::SessionKind kind);

// Who must be free for a session of `kind`: the mediators who accepted, and one party (an
// individual meeting) or every party.
struct Participants {
  int64_t case_id = 0;
  std::vector<int64_t> mediators;
  std::vector<const storage::PartyRecord*> parties;  // Into the case given to ParticipantsOf.
  // Set when a taking part party's access needs cannot be read (destroyed or altered): an
  // in-person session cannot be matched to rooms then, and is refused with this.
  std::string unreadable_needs;
};
absl::StatusOr<Participants> ParticipantsOf(storage::Tx& tx, const storage::CaseRecord& c,
                                            v1::SessionKind kind, int64_t party_id);

// The time a person could attend at all in `window`: working pattern minus leave for a mediator
// ("mediator"), availability windows (or any time, if none) for a party ("party").
absl::StatusOr<IntervalList> BaseFree(storage::Tx& tx, const std::string& resource, int64_t id,
                                      const Interval& window);
// BaseFree minus the person's other sessions (in every case) widened by `buffer`.
absl::StatusOr<IntervalList> PersonFree(storage::Tx& tx, const std::string& resource, int64_t id,
                                        const Interval& window, Instant buffer,
                                        int64_t exclude_session);
// The sessions other than `exclude_session` holding `holder` (storage::HolderOf) in [from, to).
absl::StatusOr<std::vector<rules::BusyTime>> BusyOf(storage::Tx& tx, const std::string& holder,
                                                    Instant from, Instant to,
                                                    int64_t exclude_session);
// A room's free time in `window`.
absl::StatusOr<IntervalList> RoomFree(storage::Tx& tx, int64_t room_id, const Interval& window);

// The rooms a session needs at a venue: a private room for each party taking part, meeting that
// party's access needs, and for joint sessions a joint room meeting every party's.
struct RoomNeeds {
  std::vector<storage::RoomRecord> private_rooms;
  std::vector<storage::RoomRecord> joint_rooms;  // Only those meeting every party's needs.
  int private_needed = 0;
  int joint_needed = 0;
  // Per party (in Participants order), the private rooms (indices) it may use; empty when no
  // party has needs, so the rooms are interchangeable.
  std::vector<std::vector<size_t>> private_eligible;
  // Why the venue can never meet the needs ("" when it can), e.g. "venue 2 has no private room
  // with step-free access for party 12".
  std::string unmet;
};
RoomNeeds NeedsAt(const storage::VenueRecord& venue, v1::SessionKind kind,
                  const std::vector<const storage::PartyRecord*>& parties);

// "step-free access and a hearing loop".
std::string NeedsText(const std::vector<v1::AccessNeed>& needs);

// [first 00:00, last+1 00:00) of Europe/London days as UTC seconds: today and `default_days`
// after unless given, at most `max_days`. INVALID_ARGUMENT naming window_first_day or
// window_last_day.
absl::StatusOr<Interval> DaysWindow(absl::Time now, bool has_first, const v1::Date& first,
                                    bool has_last, const v1::Date& last, int default_days,
                                    int max_days);

// The scheduled sessions of `resource` ("mediator" or "party") `id` starting at or after `from`
// that its time (BaseFree) no longer covers, after a change of leave, working pattern or
// availability made in `tx`. Each is marked as needing rescheduling (`why`, at `at`; a case
// event records it) and returned as a collision, with the reason it is marked for (the first
// one, if it was marked already). Without `with_cases` (an ADMIN caller, who never sees cases)
// a collision names the session and its time only, not the case or the kind of meeting.
absl::Status MarkCollisions(storage::Tx& tx, const std::string& resource, int64_t id, Instant from,
                            absl::Time at, const std::string& why, bool with_cases,
                            google::protobuf::RepeatedPtrField<v1::SessionCollision>* out);

}  // namespace mediation::scheduling

#endif  // MEDIATION_SERVICES_SCHEDULING_CALENDARS_H_

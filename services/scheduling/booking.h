// The booking check: loads the calendars of every person and room a session needs, then asks the
// pure rules::CheckReservation whether it can be booked. Run inside the write transaction that
// then writes the bookings: writes are serialised (storage/store.h), and the database's own
// triggers refuse an overlapping booking of the same holder that a future code path might forget
// to check.
#ifndef MEDIATION_SERVICES_SCHEDULING_BOOKING_H_
#define MEDIATION_SERVICES_SCHEDULING_BOOKING_H_

#include <google/protobuf/timestamp.pb.h>

#include <vector>

#include "absl/status/statusor.h"
#include "services/core/call_context.h"
#include "services/core/principal.h"
#include "services/scheduling/calendars.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::scheduling {

// What a session holds if it can be booked at [start, end): every participant and, in person,
// a private room per party meeting its access needs and (joint sessions) a joint room. ABORTED
// naming the time (and the other session, to a caller who may see it) when another session is
// in the way or the rooms are taken; FAILED_PRECONDITION when a person is not working or not
// available then, or the venue cannot meet the parties' access needs.
absl::StatusOr<std::vector<storage::BookingRecord>> ReserveEverything(
    storage::Tx& tx, const Principal& caller, const Participants& who, v1::SessionKind kind,
    v1::SessionMode mode, int64_t venue_id, Instant start, Instant end, Instant buffer,
    int64_t exclude_session);

// The start of a booking: present, a quarter hour, no sooner than the minimum notice.
absl::StatusOr<Instant> ValidStart(const CallContext& call, const google::protobuf::Timestamp& t,
                                   bool present);

}  // namespace mediation::scheduling

#endif  // MEDIATION_SERVICES_SCHEDULING_BOOKING_H_

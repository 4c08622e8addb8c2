// Venues and rooms, party availability, sessions and their bookings.
#ifndef MEDIATION_STORAGE_SESSIONS_H_
#define MEDIATION_STORAGE_SESSIONS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

absl::StatusOr<VenueRecord> InsertVenue(Tx& tx, VenueRecord venue);
// NOT_FOUND when there is no such venue.
absl::StatusOr<VenueRecord> GetVenue(Tx& tx, int64_t id);
absl::StatusOr<std::vector<VenueRecord>> ListVenues(Tx& tx);

// Replaces the party's availability windows ([start, end) UTC seconds).
absl::Status ReplacePartyAvailability(Tx& tx, int64_t party_id,
                                      const std::vector<std::pair<int64_t, int64_t>>& windows);
// Windows overlapping [from, to), earliest first (see PartyHasAvailability for whether any was
// recorded at all).
absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> PartyAvailability(Tx& tx, int64_t party_id,
                                                                           int64_t from,
                                                                           int64_t to);
// Whether the party has any availability window at all.
absl::StatusOr<bool> PartyHasAvailability(Tx& tx, int64_t party_id);

// Who a booking of `resource` ("mediator", "party" or "room") `resource_id` holds: a party's is
// the person ("person:<folded email>"), the same in every case they are a party of.
absl::StatusOr<std::string> HolderOf(Tx& tx, const std::string& resource, int64_t resource_id);

// Active bookings of one holder (HolderOf) overlapping [from, to), in any case, earliest first.
// Reads the bookings_active_by_holder index.
absl::StatusOr<std::vector<BookingRecord>> ActiveBookings(Tx& tx, const std::string& holder,
                                                          int64_t from, int64_t to);

// An active booking of another session that overlaps an active booking of the party and holds
// the same person (after a change of the party's email made them someone with sessions of their
// own); nullopt when there is none. Reads `start_at`, `end_at`, `session_id` and `case_id`.
absl::StatusOr<std::optional<BookingRecord>> PartyBookingClash(Tx& tx, int64_t party_id);

// Sessions starting in [from, to) (UTC seconds) of every case, or only those `mediator_id` takes
// part in (0: everyone's); scheduled ones, and cancelled ones too with `include_cancelled`;
// earliest first.
absl::StatusOr<std::vector<SessionRecord>> ListSessionsStarting(Tx& tx, int64_t mediator_id,
                                                                int64_t from, int64_t to,
                                                                bool include_cancelled);

// Inserts the session, its bookings and its "booked" change; returns it with ids.
absl::StatusOr<SessionRecord> InsertSession(Tx& tx, SessionRecord session,
                                            const SessionChangeRecord& booked);
// NOT_FOUND when there is no such session. Includes bookings and changes.
absl::StatusOr<SessionRecord> GetSession(Tx& tx, int64_t id);
// Earliest first; with bookings and changes.
absl::StatusOr<std::vector<SessionRecord>> ListSessionsOfCase(Tx& tx, int64_t case_id,
                                                              bool include_cancelled);
// Sessions the mediator takes part in (or took part in before they were cancelled), starting
// in [from, to).
absl::StatusOr<std::vector<SessionRecord>> ListSessionsOfMediator(Tx& tx, int64_t mediator_id,
                                                                  int64_t from, int64_t to);

// Moves a scheduled session (and its bookings) to [start, end), bumps its sequence and records
// the change. `bookings` replaces the session's bookings (rooms may change).
absl::Status RescheduleSession(Tx& tx, int64_t session_id, int64_t start, int64_t end,
                               const std::vector<BookingRecord>& bookings,
                               const SessionChangeRecord& change);
// Cancels a scheduled session: its bookings stop counting, its sequence increases.
absl::Status CancelSession(Tx& tx, int64_t session_id, const SessionChangeRecord& change);

// Cancels every scheduled session of the case that starts after `after` (UTC seconds), each with
// `change` (its previous times filled in). Returns how many.
absl::StatusOr<int> CancelSessionsOfCaseAfter(Tx& tx, int64_t case_id, int64_t after,
                                              SessionChangeRecord change);

// Scheduled sessions in which `resource` ("mediator" or "party") `resource_id` takes part,
// starting at or after `from`, earliest first; with bookings and changes.
absl::StatusOr<std::vector<SessionRecord>> ScheduledSessionsHolding(Tx& tx,
                                                                    const std::string& resource,
                                                                    int64_t resource_id,
                                                                    int64_t from);

// Marks a scheduled session as needing rescheduling, `why`, from `at` (a case event records
// it). A session already marked keeps its first reason. Rescheduling or cancelling clears it.
absl::Status MarkNeedsRescheduling(Tx& tx, int64_t session_id, const std::string& why,
                                   absl::Time at);

// Scheduled sessions needing rescheduling that start after `now` (UTC seconds; one that has
// started can no longer be moved), in every case (only those `mediator_id` takes part in, unless
// 0), by id after `cursor.after_id`.
absl::StatusOr<std::vector<SessionRecord>> SessionsNeedingRescheduling(Tx& tx, int64_t mediator_id,
                                                                       int64_t now,
                                                                       const PageCursor& cursor);

// Cases in SESSIONS_SCHEDULED with a scheduled session that started at or before `now`.
absl::StatusOr<std::vector<int64_t>> CasesWithStartedSessions(Tx& tx, int64_t now);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SESSIONS_H_

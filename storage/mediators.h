// The mediator registry: profiles, working patterns, leave and conflicts, and the bulk reads the
// allocation proposal needs.
#ifndef MEDIATION_STORAGE_MEDIATORS_H_
#define MEDIATION_STORAGE_MEDIATORS_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Inserts the profile and experience. ALREADY_EXISTS when another mediator has the email.
absl::StatusOr<MediatorRecord> InsertMediator(Tx& tx, MediatorRecord m);

// Replaces the profile and experience of mediator `m.id`. NOT_FOUND, ALREADY_EXISTS (email).
// Replaces the profile of mediator m.id if it is still at m.revision (then one more); ABORTED
// when it is not (changed meanwhile).
absl::Status UpdateMediatorProfile(Tx& tx, const MediatorRecord& m);

// The whole record: profile, experience, working hours, leave, conflicts, current cases.
absl::StatusOr<MediatorRecord> GetMediator(Tx& tx, int64_t id);

// Oldest first; profile, experience and current cases only.
absl::StatusOr<std::vector<MediatorRecord>> ListMediators(Tx& tx, bool active_only,
                                                          v1::Nation nation,
                                                          const PageCursor& cursor);

// Replaces the weekly pattern (and the working-days summary used by allocation) and returns the
// mediator's new revision (its etag changes). With `expected_revision` (not 0), ABORTED when the
// mediator is no longer at it. NOT_FOUND without the mediator.
absl::StatusOr<int64_t> ReplaceWorkingHours(Tx& tx, int64_t mediator_id,
                                            const std::vector<WorkingHoursRecord>& hours,
                                            int64_t expected_revision);

// `at`: when it is recorded (the registry key is made then if it is the first sealed note).
absl::StatusOr<LeaveRecord> InsertLeave(Tx& tx, LeaveRecord leave, absl::Time at);
// NOT_FOUND unless the leave belongs to the mediator.
absl::Status DeleteLeave(Tx& tx, int64_t mediator_id, int64_t leave_id);

absl::StatusOr<ConflictRecord> InsertConflict(Tx& tx, ConflictRecord conflict);
// NOT_FOUND unless the conflict belongs to the mediator; FAILED_PRECONDITION for a DISCOVERED
// conflict unless `allow_discovered`.
absl::Status DeleteConflict(Tx& tx, int64_t mediator_id, int64_t conflict_id,
                            bool allow_discovered);

// What the allocation proposal reads about every mediator, in one pass over the registry.
struct MediatorSummary {
  int64_t id = 0;
  std::string name;
  std::string normalised_name;
  std::string email;
  bool active = false;
  int32_t accreditation_expires = 0;
  int32_t insurance_expires = 0;
  int cpd_hours = 0;
  uint32_t nations = 0;
  uint32_t professions = 0;
  int max_concurrent_cases = 0;
  uint32_t working_days = 0;
  std::optional<absl::Time> last_allocated_at;
};

// Calls `visit` for every mediator in id order (or just `only_id` when it is not 0), without
// holding the whole roster in memory twice.
absl::Status VisitMediatorSummaries(Tx& tx, int64_t only_id,
                                    absl::FunctionRef<void(MediatorSummary&&)> visit);

// Open allocations per mediator (mediators with none are absent). Reads only open allocations.
absl::StatusOr<std::unordered_map<int64_t, int>> OpenAllocationCounts(Tx& tx);

// Leave overlapping [first_day, last_day].
absl::StatusOr<std::vector<LeaveRecord>> LeaveOverlapping(Tx& tx, int32_t first_day,
                                                          int32_t last_day);

// Conflicts that may concern a case: with its organisation, with the case, or with a person
// whose email_key is among `email_keys` or whose surname_key is among `name_words` (every word
// of every party's name, so a reordered name is found too). Found through indexes; the caller
// decides which of them match (rules::MatchPerson).
absl::StatusOr<std::vector<ConflictRecord>> ConflictsTouching(
    Tx& tx, int64_t organisation_id, int64_t case_id, const std::vector<std::string>& email_keys,
    const std::vector<std::string>& name_words);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_MEDIATORS_H_

// Cases with their parties, links to other case references and state history.
#ifndef MEDIATION_STORAGE_CASES_H_
#define MEDIATION_STORAGE_CASES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Inserts the case with its parties and links, assigns its reference
// ("AM-<year of created_at, UTC>-<id, at least six digits>") and records the initial state in the
// history. Returns the stored case with every id filled in.
absl::StatusOr<CaseRecord> InsertCase(Tx& tx, CaseRecord c);

// NOT_FOUND when there is no such case.
absl::StatusOr<CaseRecord> GetCase(Tx& tx, int64_t id);

struct CaseFilter {
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;  // UNSPECIFIED: any.
  int64_t organisation_id = 0;                       // 0: any.
  // Only cases the mediator holds a PENDING or ACCEPTED allocation on (0: any).
  int64_t mediator_id = 0;
  // Only cases with a scheduled session needing rescheduling that starts after this (UTC
  // seconds; 0: no such filter).
  int64_t needs_rescheduling_after = 0;
  // Only cases of organisations in this nation (UNSPECIFIED: any).
  v1::Nation nation = v1::NATION_UNSPECIFIED;
  // Only this case (a PARTY token's; 0: any).
  int64_t case_id = 0;
};

// Newest first: cases with id below `cursor.after_id` (0: from the newest).
absl::StatusOr<std::vector<CaseRecord>> ListCases(Tx& tx, const CaseFilter& filter,
                                                  const PageCursor& cursor);

// How many cases match `filter` in all.
absl::StatusOr<int64_t> CountCases(Tx& tx, const CaseFilter& filter);

// Replaces the case's referral details (referrer, summary, concern, parties, links) with those
// of `updated`, bumps its revision and records the previous details in referral_revisions.
// Parties with an id are updated in place; parties with id 0 are inserted. ABORTED when the
// stored revision is not `updated.revision - 1`, i.e. someone else changed it first.
struct ReferralRevisionRecord {
  int64_t revision = 0;  // The revision the change produced.
  absl::Time at;
  int64_t token_id = 0;
  std::string reason;
  std::vector<std::string> changed_fields;
  std::string previous;  // The details before the change, serialised by the caller.
};
absl::StatusOr<CaseRecord> UpdateReferralDetails(Tx& tx, CaseRecord updated,
                                                 const ReferralRevisionRecord& revision);

// The details of the case before revision `revision` (as UpdateReferralDetails was given them).
// NOT_FOUND without that revision; DATA_LOSS when they cannot be opened (destroyed or damaged).
absl::StatusOr<std::string> ReferralDetailsBefore(Tx& tx, int64_t case_id, int64_t revision);

// Moves a case from `c.state` (as last read) to `to`, with hold and withdrawal details as in `c`,
// and records the change in the history. ABORTED when the stored state is no longer `c.state`.
struct StateChangeRecord {
  v1::CaseState to = v1::CASE_STATE_UNSPECIFIED;
  absl::Time at;
  int64_t token_id = 0;
  std::string reason;
  // Stored on the case with the new state (cleared otherwise).
  v1::CaseState held_from_state = v1::CASE_STATE_UNSPECIFIED;
  std::string hold_reason;
  v1::WithdrawnBy withdrawn_by = v1::WITHDRAWN_BY_UNSPECIFIED;
  std::string withdrawal_reason;
  // Reopening a finished case (rules::ReopenTarget): it is no longer finished.
  bool reopening = false;
};
absl::Status ChangeCaseState(Tx& tx, const CaseRecord& c, const StateChangeRecord& change);

// One entry of a case's history: a state change or a referral revision.
struct HistoryRecord {
  absl::Time at;
  int64_t token_id = 0;
  v1::Role role = v1::ROLE_UNSPECIFIED;  // Of the token, when there is one.
  std::string actor;                     // The token's label.
  enum class Kind { kStateChange, kReferralRevision, kAllocation };
  Kind kind = Kind::kStateChange;
  v1::CaseState from = v1::CASE_STATE_UNSPECIFIED;  // UNSPECIFIED for the initial state.
  v1::CaseState to = v1::CASE_STATE_UNSPECIFIED;
  int64_t revision = 0;
  std::vector<std::string> changed_fields;
  // For allocation events: the allocation and the state it reached at `at`.
  int64_t allocation_id = 0;
  int64_t mediator_id = 0;
  v1::AllocationRole allocation_role = v1::ALLOCATION_ROLE_UNSPECIFIED;
  v1::AllocationState allocation_state = v1::ALLOCATION_STATE_UNSPECIFIED;
  std::string reason;
  std::vector<WithheldField> withheld;  // Sealed texts that could not be given back.
};

// Records when the case entered a final state (its notes' retention runs from then); nullopt
// when it is reopened.
absl::Status SetCaseFinished(Tx& tx, int64_t case_id, std::optional<absl::Time> at);
// The outcome and follow-up fields.
absl::Status SetOutcome(Tx& tx, int64_t case_id, v1::Outcome outcome, absl::Time at);
absl::Status SetReviewDate(Tx& tx, int64_t case_id, int32_t day);
// The follow-up review took place at `at`; `notes` (what it found) are sealed.
absl::Status SetReviewed(Tx& tx, int64_t case_id, absl::Time at, absl::string_view notes);
// Forgets the review date and the recorded review (a CLOSED case reopened for another review;
// the caller keeps the earlier one in the history).
absl::Status ClearReview(Tx& tx, int64_t case_id);

// Sets how many mediators the case needs (1 or 2).
absl::Status SetMediatorsRequired(Tx& tx, int64_t case_id, int count, absl::Time at);

// Oldest first; at the same instant, revisions and allocation events come before the state
// change they caused.
absl::StatusOr<std::vector<HistoryRecord>> CaseHistory(Tx& tx, int64_t case_id);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_CASES_H_

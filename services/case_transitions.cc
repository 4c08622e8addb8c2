#include "services/case_transitions.h"

#include "absl/strings/str_cat.h"
#include "services/rules/lifecycle.h"
#include "storage/allocations.h"
#include "storage/sessions.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

absl::Status MoveCase(storage::Tx& tx, storage::CaseRecord& c,
                      const storage::StateChangeRecord& change) {
  absl::Status allowed;
  if (change.reopening) {
    absl::StatusOr<v1::CaseState> target = rules::ReopenTarget(c.state);
    allowed = target.status();
    if (target.ok() && *target != change.to) {
      allowed = absl::FailedPreconditionError(absl::StrCat(
          "a ", v1::CaseState_Name(c.state), " case reopens to ", v1::CaseState_Name(*target)));
    }
  } else if (change.to == v1::CASE_STATE_ON_HOLD) {
    allowed = rules::CheckHold(c.state);
  } else if (change.to == v1::CASE_STATE_WITHDRAWN) {
    allowed = rules::CheckWithdrawal(c.state, c.held_from_state);
  } else if (c.state == v1::CASE_STATE_ON_HOLD && change.to != v1::CASE_STATE_WITHDRAWN) {
    absl::StatusOr<v1::CaseState> target = rules::ResumeTarget(c.state, c.held_from_state);
    allowed = target.status();
    if (target.ok() && *target != change.to) {
      allowed = absl::FailedPreconditionError(absl::StrCat("the case is ON_HOLD; resume it (to ",
                                                           v1::CaseState_Name(*target),
                                                           ") before moving it on"));
    }
  } else {
    allowed = rules::CheckTransition(c.state, change.to);
  }
  if (!allowed.ok()) {
    return absl::Status(allowed.code(), absl::StrCat("case ", c.id, ": ", allowed.message()));
  }
  if (absl::Status s = storage::ChangeCaseState(tx, c, change); !s.ok()) return s;
  if (change.reopening) {
    if (absl::Status s = storage::SetCaseFinished(tx, c.id, std::nullopt); !s.ok()) return s;
    c.finished_at.reset();
    // Back in FOLLOW_UP the same mediators hold the review; back in screening, new ones are
    // allocated once it is suitable again.
    if (absl::Status s = storage::ReopenAllocationsOfCase(
            tx, c.id, /*keep_mediators=*/change.to == v1::CASE_STATE_FOLLOW_UP, change.at);
        !s.ok()) {
      return s;
    }
  }
  if (rules::IsTerminal(change.to)) {
    // A finished case no longer occupies its mediators, and open offers lapse; its notes'
    // retention period starts.
    if (absl::Status s = storage::ReleaseAllocationsOfCase(tx, c.id, change.at); !s.ok()) return s;
    if (absl::Status s = storage::SetCaseFinished(tx, c.id, change.at); !s.ok()) return s;
  }
  if (rules::IsTerminal(change.to) || change.to == v1::CASE_STATE_ON_HOLD) {
    // Its sessions still to come are off everyone's calendars; held ones are booked again on
    // resuming.
    absl::StatusOr<int> cancelled = storage::CancelSessionsOfCaseAfter(
        tx, c.id, absl::ToUnixSeconds(change.at),
        {.at = change.at,
         .token_id = change.token_id,
         .change = "cancelled",
         .reason = change.to == v1::CASE_STATE_ON_HOLD
                       ? "the case was put on hold"
                       : absl::StrCat("the case ended: ", v1::CaseState_Name(change.to))});
    if (!cancelled.ok()) return cancelled.status();
  }
  c.state = change.to;
  c.held_from_state = change.held_from_state;
  c.hold_reason = change.hold_reason;
  c.withdrawn_by = change.withdrawn_by;
  c.withdrawal_reason = change.withdrawal_reason;
  c.updated_at = change.at;
  return absl::OkStatus();
}

}  // namespace mediation

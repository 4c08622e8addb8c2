// The case lifecycle: the one place that says which state changes are legal.
//
//   REFERRED -> SCREENING -> SUITABLE -> MEDIATORS_ALLOCATED -> SESSIONS_SCHEDULED ->
//   IN_MEDIATION -> OUTCOME_RECORDED -> FOLLOW_UP -> CLOSED   (OUTCOME_RECORDED may also close)
//   SCREENING -> NOT_SUITABLE (terminal)
//   any of REFERRED..FOLLOW_UP -> ON_HOLD -> back to the state it left
//   any of REFERRED..IN_MEDIATION, or ON_HOLD -> WITHDRAWN (terminal)
//   reopening, for a while after the case finished (ReopenTarget):
//     CLOSED -> FOLLOW_UP, NOT_SUITABLE -> SCREENING, WITHDRAWN -> SCREENING
#ifndef MEDIATION_SERVICES_RULES_LIFECYCLE_H_
#define MEDIATION_SERVICES_RULES_LIFECYCLE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ppa/mediation/v1/common.pb.h"

namespace mediation::rules {

namespace v1 = ::ppa::mediation::v1;

// OK when a case in `from` may move to `to` along the main path or a side exit (not holds and
// resumes, which HoldTarget and ResumeTarget check); otherwise FAILED_PRECONDITION naming the
// current state and where it may go.
absl::Status CheckTransition(v1::CaseState from, v1::CaseState to);

// CLOSED, NOT_SUITABLE and WITHDRAWN: nothing more happens to the case.
bool IsTerminal(v1::CaseState state);

// OK when a case in `from` may be put on hold.
absl::Status CheckHold(v1::CaseState from);

// OK when a case in `from` (held from `held_from` if ON_HOLD) may be withdrawn: only before the
// outcome is recorded, whether or not it is on hold.
absl::Status CheckWithdrawal(v1::CaseState from, v1::CaseState held_from);

// The state a finished case (CLOSED, NOT_SUITABLE, WITHDRAWN) returns to when reopened;
// FAILED_PRECONDITION naming the state for any other.
absl::StatusOr<v1::CaseState> ReopenTarget(v1::CaseState from);

// The state a held case resumes to; FAILED_PRECONDITION unless `from` is ON_HOLD.
absl::StatusOr<v1::CaseState> ResumeTarget(v1::CaseState from, v1::CaseState held_from);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_LIFECYCLE_H_

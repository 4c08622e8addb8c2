// Applies a lifecycle change to a stored case, after the rules in rules/lifecycle.h allow it.
#ifndef MEDIATION_SERVICES_CASE_TRANSITIONS_H_
#define MEDIATION_SERVICES_CASE_TRANSITIONS_H_

#include "absl/status/status.h"
#include "storage/cases.h"
#include "storage/tx.h"

namespace mediation {

// Moves `c` to `change.to`: a hold (to ON_HOLD), a resume (from ON_HOLD to the state it was held
// from), or a step of the lifecycle. FAILED_PRECONDITION naming the case's state when the
// lifecycle forbids it, and nothing is written. On success `c` reflects the new state.
absl::Status MoveCase(storage::Tx& tx, storage::CaseRecord& c,
                      const storage::StateChangeRecord& change);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CASE_TRANSITIONS_H_

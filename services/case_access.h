// Per-case visibility and the view of a case each role gets.
//
// The policy table decides which roles may call a case RPC; this decides, case by case, what
// they find. A case a principal may not see is answered exactly like a case that does not exist
// (NOT_FOUND), so its existence is not confirmed.
#ifndef MEDIATION_SERVICES_CASE_ACCESS_H_
#define MEDIATION_SERVICES_CASE_ACCESS_H_

#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ppa/mediation/v1/referral.pb.h"
#include "services/core/call_context.h"
#include "services/core/principal.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation {

// Whether `who` may see case `c`. A MEDIATOR may see the cases it holds an offered or accepted
// allocation on, which needs the transaction.
absl::StatusOr<bool> MayViewCase(storage::Tx& tx, const Principal& who,
                                 const storage::CaseRecord& c);

// NOT_FOUND "case <id> not found", the same text whether the case is absent or hidden.
absl::Status CaseNotFound(int64_t case_id);

// Reads the case if `who` may see it; CaseNotFound otherwise.
absl::StatusOr<storage::CaseRecord> LoadCaseFor(storage::Tx& tx, const Principal& who,
                                                int64_t case_id);

// The case as `who` may see it, with its latest screening decision (if any):
// - ORGANISATION: no hold reason, and of a withdrawal only the state;
// - PARTY: only the id, the reference and the state;
// - everyone else allowed to see the case: all of it.
// Screening notes and justifications are never part of a case.
void ToCaseView(const Principal& who, const storage::CaseRecord& c,
                const std::optional<storage::ScreeningDecisionRecord>& decision, v1::Case* out);

// The shape of most calls about one case: check `case_id`, name it for the audit row, open a
// read (or write) transaction, load the case if the caller may see it, and run `fn` on it.
using CaseFn = absl::FunctionRef<absl::Status(storage::Tx&, storage::CaseRecord&)>;
absl::Status ReadCase(CallContext& call, int64_t case_id, CaseFn fn);
absl::Status WriteCase(CallContext& call, int64_t case_id, CaseFn fn);

// OK when `who` is a MEDIATOR holding an ACCEPTED allocation on the case (a lead or
// co-mediator at work on it); PERMISSION_DENIED otherwise.
absl::Status RequireAcceptedMediator(storage::Tx& tx, const Principal& who, int64_t case_id);

// The case's accepted mediators.
absl::StatusOr<std::vector<int64_t>> AcceptedMediators(storage::Tx& tx, int64_t case_id);

// Reads the case's latest screening decision and writes the view of it for `who`. A mediator
// whose offer is still pending sees only the organisation and the parties' names and
// professions (to recognise a conflict), until it accepts; the proposed dates are on its offer
// (Allocation.proposed_first_day and proposed_last_day).
absl::Status WriteCaseView(storage::Tx& tx, const Principal& who, const storage::CaseRecord& c,
                           v1::Case* out);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CASE_ACCESS_H_

// Per-case visibility: which cases a principal may see at all. The policy table decides which
// roles may call a case RPC; this decides, case by case, what they find. A case a principal may
// not see is answered exactly like a case that does not exist (NOT_FOUND), so its existence is
// not confirmed.
#ifndef MEDIATION_SERVICES_CASE_ACCESS_H_
#define MEDIATION_SERVICES_CASE_ACCESS_H_

#include "absl/status/status.h"
#include "services/core/principal.h"
#include "storage/records.h"

namespace mediation {

bool MayViewCase(const Principal& who, const storage::CaseRecord& c);

// NOT_FOUND "case <id> not found", the same text whether the case is absent or hidden.
absl::Status CaseNotFound(int64_t case_id);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CASE_ACCESS_H_

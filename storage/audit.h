// The audit trail: one row per mutating or refused call, written in the same transaction as the
// change it records. Never holds a request body.
#ifndef MEDIATION_STORAGE_AUDIT_H_
#define MEDIATION_STORAGE_AUDIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

absl::StatusOr<int64_t> AppendAudit(Tx& tx, const AuditRecord& record);

struct AuditFilter {
  int64_t token_id = 0;  // 0: any.
  std::string object;    // A "kind:id" word that must appear in `objects`; empty: any.
};

// Newest first: rows with id below `cursor.after_id` (0: from the newest).
absl::StatusOr<std::vector<AuditRecord>> ListAudit(Tx& tx, const AuditFilter& filter,
                                                   const PageCursor& cursor);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_AUDIT_H_

// The audit trail: one row per mutating or refused call, written in the same transaction as the
// change it records. Never holds a request body.
#ifndef MEDIATION_STORAGE_AUDIT_H_
#define MEDIATION_STORAGE_AUDIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace SQLite {
class Database;
}

namespace mediation::storage {

// Appends `record` as the next link of the hash chain: its hash covers the previous row's hash
// and its own fields (id included), so an edited, deleted or reordered row breaks the chain.
absl::StatusOr<int64_t> AppendAudit(Tx& tx, const AuditRecord& record);

struct ChainCheck {
  bool intact = true;
  int64_t rows = 0;
  int64_t first_broken = 0;  // 0 when intact.
  std::string problem;
  std::string head_hash;  // Hex, of the last row.
};

// Walks the whole trail in id order and reports the first row that does not fit.
absl::StatusOr<ChainCheck> VerifyAuditChain(Tx& tx);

// Migration 6: gives rows written before the chain existed their links, in id order.
absl::Status BackfillAuditChain(SQLite::Database& db);

struct AuditFilter {
  int64_t token_id = 0;  // 0: any.
  std::string object;    // A "kind:id" word that must appear in `objects`; empty: any.
};

// Newest first: rows with id below `cursor.after_id` (0: from the newest).
absl::StatusOr<std::vector<AuditRecord>> ListAudit(Tx& tx, const AuditFilter& filter,
                                                   const PageCursor& cursor);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_AUDIT_H_

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

// The trail is a chain: each row holds the previous row's link and its own, an HMAC-SHA256
// (keyed by Tx::audit_key(), derived from the master key) over that previous link and the row's
// stored values, type by type. A head record holds the last link under a keyed MAC. So an
// edited, deleted, reordered or inserted row breaks a link, rows cut off the end no longer
// match the head, and without the key file nobody can recompute either.
//
// Appends `record` as the next link (its id is the last row's plus one) and moves the head.
// FAILED_PRECONDITION when the transaction has no audit key.
absl::StatusOr<int64_t> AppendAudit(Tx& tx, const AuditRecord& record);

struct ChainCheck {
  bool intact = true;
  int64_t rows = 0;
  int64_t first_broken = 0;  // 0 when intact.
  std::string problem;
  std::string head_hash;  // Hex, of the last row's link.
};

// Walks the whole trail in id order, then checks the head; reports the first row that does not
// fit. Never fails on damaged rows: damage is the report.
absl::StatusOr<ChainCheck> VerifyAuditChain(Tx& tx);

// Links rows written before the chain existed (a database from before schema version 6) and
// writes the head, once the key is known at start-up. Does nothing when any row already has a
// link. Returns how many rows it linked.
absl::StatusOr<int64_t> LinkUnchainedAuditRows(Tx& tx);

struct AuditFilter {
  int64_t token_id = 0;  // 0: any.
  std::string object;    // A "kind:id" word that must appear in `objects`; empty: any.
};

// Newest first: rows with id below `cursor.after_id` (0: from the newest).
absl::StatusOr<std::vector<AuditRecord>> ListAudit(Tx& tx, const AuditFilter& filter,
                                                   const PageCursor& cursor);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_AUDIT_H_

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
};

// Newest first: cases with id below `cursor.after_id` (0: from the newest).
absl::StatusOr<std::vector<CaseRecord>> ListCases(Tx& tx, const CaseFilter& filter,
                                                  const PageCursor& cursor);

struct StateChange {
  v1::CaseState from = v1::CASE_STATE_UNSPECIFIED;  // UNSPECIFIED for the initial state.
  v1::CaseState to = v1::CASE_STATE_UNSPECIFIED;
  absl::Time at;
  int64_t token_id = 0;
  std::string reason;
};

// Oldest first.
absl::StatusOr<std::vector<StateChange>> CaseHistory(Tx& tx, int64_t case_id);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_CASES_H_

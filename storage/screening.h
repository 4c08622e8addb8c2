// Screening answers (append-only: a new answer supersedes the one in force) and Senior Adviser
// decisions (kept for ever).
#ifndef MEDIATION_STORAGE_SCREENING_H_
#define MEDIATION_STORAGE_SCREENING_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Inserts `answer` and marks the answer it replaces (same case, criterion and party) as
// superseded by it. Returns it with its id.
absl::StatusOr<ScreeningAnswerRecord> InsertScreeningAnswer(Tx& tx, ScreeningAnswerRecord answer);

// Newest first; without `include_superseded`, only the answers in force.
absl::StatusOr<std::vector<ScreeningAnswerRecord>> ListScreeningAnswers(Tx& tx, int64_t case_id,
                                                                        bool include_superseded);

absl::StatusOr<ScreeningDecisionRecord> InsertScreeningDecision(Tx& tx,
                                                                ScreeningDecisionRecord decision);

// Newest first.
absl::StatusOr<std::vector<ScreeningDecisionRecord>> ListScreeningDecisions(Tx& tx,
                                                                            int64_t case_id);

// The newest decision, if any.
absl::StatusOr<std::optional<ScreeningDecisionRecord>> LatestScreeningDecision(Tx& tx,
                                                                               int64_t case_id);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SCREENING_H_

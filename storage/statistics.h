// Aggregates over cases for StatisticsService: counts by category and the durations medians
// are taken from. Nothing identifying leaves this file: keys are enum names, values counts.
#ifndef MEDIATION_STORAGE_STATISTICS_H_
#define MEDIATION_STORAGE_STATISTICS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

using Counts = std::vector<std::pair<std::string, int64_t>>;  // Sorted by key.

struct CaseStatistics {
  int64_t referrals = 0;
  Counts by_nation, by_organisation_kind, by_care_setting, by_sector;
  Counts parties_by_profession;
  // The latest confirmed screening decision of each case.
  int64_t screened = 0;
  int64_t suitable = 0;
  Counts failed_criteria;
  // Per case that got that far: from referral to MEDIATORS_ALLOCATED, and to the first session
  // (not cancelled) starting.
  std::vector<absl::Duration> to_allocation;
  std::vector<absl::Duration> to_first_session;
  Counts outcomes;
  Counts by_state;
};

// Over the cases referred in [from, to).
absl::StatusOr<CaseStatistics> ComputeCaseStatistics(Tx& tx, absl::Time from, absl::Time to);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_STATISTICS_H_

// Fee schedules (versioned; the newest is in force) and the charge indications given on cases.
#ifndef MEDIATION_STORAGE_CHARGES_H_
#define MEDIATION_STORAGE_CHARGES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// The newest schedule (the migration seeds version 1).
absl::StatusOr<FeeScheduleRecord> CurrentFeeSchedule(Tx& tx);

// Stores `schedule` as the next version and returns it with its version.
absl::StatusOr<FeeScheduleRecord> InsertFeeSchedule(Tx& tx, FeeScheduleRecord schedule);

absl::StatusOr<ChargeIndicationRecord> InsertChargeIndication(Tx& tx,
                                                              ChargeIndicationRecord indication);

// Newest first.
absl::StatusOr<std::vector<ChargeIndicationRecord>> ListChargeIndications(Tx& tx, int64_t case_id);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_CHARGES_H_

// The end of retention periods, run by the server's maintenance: a finished case's personal data
// is removed after --personal_data_retention_days (storage/retention.h). (Its notes go earlier,
// after --note_retention_days: services/notes_service.h.)
#ifndef MEDIATION_SERVICES_RETENTION_H_
#define MEDIATION_SERVICES_RETENTION_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace mediation {

// Anonymises every case finished at least `retention` before `now`, a few cases per transaction,
// each with an audit row. Returns how many cases.
absl::StatusOr<int> AnonymiseExpiredCases(storage::Store& store, absl::Time now,
                                          absl::Duration retention);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_RETENTION_H_

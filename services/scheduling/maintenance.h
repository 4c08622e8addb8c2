// Scheduling's part of the server's periodic maintenance.
#ifndef MEDIATION_SERVICES_SCHEDULING_MAINTENANCE_H_
#define MEDIATION_SERVICES_SCHEDULING_MAINTENANCE_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace mediation {

// Moves every SESSIONS_SCHEDULED case whose first session has started (by `now`) to
// IN_MEDIATION. The server runs it periodically; returns how many cases moved.
absl::StatusOr<int> AdvanceCasesWithStartedSessions(storage::Store& store, absl::Time now);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCHEDULING_MAINTENANCE_H_

// Allocations of mediators to cases: offers, responses, and their release when a case ends.
#ifndef MEDIATION_STORAGE_ALLOCATIONS_H_
#define MEDIATION_STORAGE_ALLOCATIONS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Inserts an offer and records it as the mediator's latest allocation (for fair rotation).
absl::StatusOr<AllocationRecord> InsertAllocation(Tx& tx, AllocationRecord a);

// NOT_FOUND when there is no such allocation.
absl::StatusOr<AllocationRecord> GetAllocation(Tx& tx, int64_t id);

// Oldest first. Without `include_closed`, only PENDING and ACCEPTED ones.
absl::StatusOr<std::vector<AllocationRecord>> ListAllocationsOfCase(Tx& tx, int64_t case_id,
                                                                    bool include_closed);
absl::StatusOr<std::vector<AllocationRecord>> ListAllocationsOfMediator(Tx& tx, int64_t mediator_id,
                                                                        bool include_closed);

// Records the response to a PENDING allocation (`a.state`, `open`, response fields). ABORTED if
// it is no longer PENDING.
absl::Status RecordAllocationResponse(Tx& tx, const AllocationRecord& a);

// When a case ends: PENDING offers become RELEASED, and no allocation of the case counts
// towards capacity any more.
absl::Status ReleaseAllocationsOfCase(Tx& tx, int64_t case_id, absl::Time at);

// A reopened case's allocations: with `keep_mediators` (a CLOSED case back in FOLLOW_UP) its
// accepted mediators count against their capacity again; otherwise (back to screening) they are
// released, so new ones can be allocated.
absl::Status ReopenAllocationsOfCase(Tx& tx, int64_t case_id, bool keep_mediators, absl::Time at);

// Whether the mediator holds a PENDING or ACCEPTED allocation on the case.
absl::StatusOr<bool> MediatorHoldsCase(Tx& tx, int64_t case_id, int64_t mediator_id);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_ALLOCATIONS_H_

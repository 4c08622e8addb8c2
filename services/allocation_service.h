// gRPC adapter for AllocationService: proposals, offers and responses. The exclusion and ranking
// rules are in rules/allocation.h; this file gathers their facts from storage.
#ifndef MEDIATION_SERVICES_ALLOCATION_SERVICE_H_
#define MEDIATION_SERVICES_ALLOCATION_SERVICE_H_

#include "ppa/mediation/v1/allocation.grpc.pb.h"
#include "services/core/raw_unary_service.h"
#include "storage/tx.h"

namespace mediation {

// Builds the proposal for `request` as the handler does (exposed for the benchmark).
absl::Status BuildProposal(storage::Tx& tx, const Principal& who, absl::Time now,
                           const v1::ProposeAllocationRequest& request,
                           v1::AllocationProposal* out);

class AllocationServiceImpl final : public RawUnaryService<v1::AllocationService> {
 public:
  explicit AllocationServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_ALLOCATION_SERVICE_H_

// gRPC adapter for AllocationService: proposals, offers and responses. The exclusion and ranking
// rules are in rules/allocation.h; this file gathers their facts from storage.
#ifndef MEDIATION_SERVICES_ALLOCATION_SERVICE_H_
#define MEDIATION_SERVICES_ALLOCATION_SERVICE_H_

#include "ppa/mediation/v1/allocation.grpc.pb.h"
#include "services/core/rpc_runner.h"
#include "storage/tx.h"

namespace mediation {

// Builds the proposal for `request` as the handler does (exposed for the benchmark).
absl::Status BuildProposal(storage::Tx& tx, const Principal& who, absl::Time now,
                           const v1::ProposeAllocationRequest& request,
                           v1::AllocationProposal* out);

class AllocationServiceImpl final : public v1::AllocationService::CallbackService {
 public:
  explicit AllocationServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* ProposeAllocation(grpc::CallbackServerContext* context,
                                              const v1::ProposeAllocationRequest* request,
                                              v1::ProposeAllocationResponse* response) override;
  grpc::ServerUnaryReactor* AllocateMediator(grpc::CallbackServerContext* context,
                                             const v1::AllocateMediatorRequest* request,
                                             v1::AllocateMediatorResponse* response) override;
  grpc::ServerUnaryReactor* RespondToAllocation(grpc::CallbackServerContext* context,
                                                const v1::RespondToAllocationRequest* request,
                                                v1::RespondToAllocationResponse* response) override;
  grpc::ServerUnaryReactor* ListAllocations(grpc::CallbackServerContext* context,
                                            const v1::ListAllocationsRequest* request,
                                            v1::ListAllocationsResponse* response) override;
  grpc::ServerUnaryReactor* SetMediatorsRequired(
      grpc::CallbackServerContext* context, const v1::SetMediatorsRequiredRequest* request,
      v1::SetMediatorsRequiredResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_ALLOCATION_SERVICE_H_

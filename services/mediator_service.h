// gRPC adapter for MediatorService: the mediator registry.
#ifndef MEDIATION_SERVICES_MEDIATOR_SERVICE_H_
#define MEDIATION_SERVICES_MEDIATOR_SERVICE_H_

#include "ppa/mediation/v1/mediator.grpc.pb.h"
#include "services/core/rpc_runner.h"
#include "storage/records.h"

namespace mediation {

void ToProto(const storage::MediatorRecord& m, v1::Mediator* out);

class MediatorServiceImpl final : public v1::MediatorService::CallbackService {
 public:
  explicit MediatorServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* RegisterMediator(grpc::CallbackServerContext* context,
                                             const v1::RegisterMediatorRequest* request,
                                             v1::RegisterMediatorResponse* response) override;
  grpc::ServerUnaryReactor* UpdateMediator(grpc::CallbackServerContext* context,
                                           const v1::UpdateMediatorRequest* request,
                                           v1::UpdateMediatorResponse* response) override;
  grpc::ServerUnaryReactor* GetMediator(grpc::CallbackServerContext* context,
                                        const v1::GetMediatorRequest* request,
                                        v1::GetMediatorResponse* response) override;
  grpc::ServerUnaryReactor* ListMediators(grpc::CallbackServerContext* context,
                                          const v1::ListMediatorsRequest* request,
                                          v1::ListMediatorsResponse* response) override;
  grpc::ServerUnaryReactor* SetWorkingPattern(grpc::CallbackServerContext* context,
                                              const v1::SetWorkingPatternRequest* request,
                                              v1::SetWorkingPatternResponse* response) override;
  grpc::ServerUnaryReactor* AddLeave(grpc::CallbackServerContext* context,
                                     const v1::AddLeaveRequest* request,
                                     v1::AddLeaveResponse* response) override;
  grpc::ServerUnaryReactor* RemoveLeave(grpc::CallbackServerContext* context,
                                        const v1::RemoveLeaveRequest* request,
                                        v1::RemoveLeaveResponse* response) override;
  grpc::ServerUnaryReactor* DeclareConflict(grpc::CallbackServerContext* context,
                                            const v1::DeclareConflictRequest* request,
                                            v1::DeclareConflictResponse* response) override;
  grpc::ServerUnaryReactor* RemoveConflict(grpc::CallbackServerContext* context,
                                           const v1::RemoveConflictRequest* request,
                                           v1::RemoveConflictResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_MEDIATOR_SERVICE_H_

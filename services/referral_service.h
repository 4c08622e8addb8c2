// gRPC adapter for ReferralService: referrals in, cases out.
#ifndef MEDIATION_SERVICES_REFERRAL_SERVICE_H_
#define MEDIATION_SERVICES_REFERRAL_SERVICE_H_

#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class ReferralServiceImpl final : public v1::ReferralService::CallbackService {
 public:
  explicit ReferralServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* CreateReferral(grpc::CallbackServerContext* context,
                                           const v1::CreateReferralRequest* request,
                                           v1::CreateReferralResponse* response) override;
  grpc::ServerUnaryReactor* UpdateReferral(grpc::CallbackServerContext* context,
                                           const v1::UpdateReferralRequest* request,
                                           v1::UpdateReferralResponse* response) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* context,
                                    const v1::GetCaseRequest* request,
                                    v1::GetCaseResponse* response) override;
  grpc::ServerUnaryReactor* ListCases(grpc::CallbackServerContext* context,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_REFERRAL_SERVICE_H_

// gRPC adapter for ChargesService: the fee schedule and indications of charges. The arithmetic is
// in rules/charges.h.
#ifndef MEDIATION_SERVICES_CHARGES_SERVICE_H_
#define MEDIATION_SERVICES_CHARGES_SERVICE_H_

#include "ppa/mediation/v1/charges.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class ChargesServiceImpl final : public v1::ChargesService::CallbackService {
 public:
  explicit ChargesServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* GetFeeSchedule(grpc::CallbackServerContext* context,
                                           const v1::GetFeeScheduleRequest* request,
                                           v1::GetFeeScheduleResponse* response) override;
  grpc::ServerUnaryReactor* SetFeeSchedule(grpc::CallbackServerContext* context,
                                           const v1::SetFeeScheduleRequest* request,
                                           v1::SetFeeScheduleResponse* response) override;
  grpc::ServerUnaryReactor* IndicateCharges(grpc::CallbackServerContext* context,
                                            const v1::IndicateChargesRequest* request,
                                            v1::IndicateChargesResponse* response) override;
  grpc::ServerUnaryReactor* ListChargeIndications(
      grpc::CallbackServerContext* context, const v1::ListChargeIndicationsRequest* request,
      v1::ListChargeIndicationsResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CHARGES_SERVICE_H_

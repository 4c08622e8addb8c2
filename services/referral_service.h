// gRPC adapter for ReferralService: referrals in, cases out.
#ifndef MEDIATION_SERVICES_REFERRAL_SERVICE_H_
#define MEDIATION_SERVICES_REFERRAL_SERVICE_H_

#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class ReferralServiceImpl final : public RawUnaryService<v1::ReferralService> {
 public:
  explicit ReferralServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_REFERRAL_SERVICE_H_

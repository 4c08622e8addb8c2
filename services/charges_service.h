// gRPC adapter for ChargesService: the fee schedule and indications of charges. The arithmetic is
// in rules/charges.h.
#ifndef MEDIATION_SERVICES_CHARGES_SERVICE_H_
#define MEDIATION_SERVICES_CHARGES_SERVICE_H_

#include "ppa/mediation/v1/charges.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class ChargesServiceImpl final : public RawUnaryService<v1::ChargesService> {
 public:
  explicit ChargesServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CHARGES_SERVICE_H_

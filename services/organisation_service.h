// gRPC adapter for OrganisationService.
#ifndef MEDIATION_SERVICES_ORGANISATION_SERVICE_H_
#define MEDIATION_SERVICES_ORGANISATION_SERVICE_H_

#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class OrganisationServiceImpl final : public RawUnaryService<v1::OrganisationService> {
 public:
  explicit OrganisationServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_ORGANISATION_SERVICE_H_

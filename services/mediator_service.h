// gRPC adapter for MediatorService: the mediator registry.
#ifndef MEDIATION_SERVICES_MEDIATOR_SERVICE_H_
#define MEDIATION_SERVICES_MEDIATOR_SERVICE_H_

#include "ppa/mediation/v1/mediator.grpc.pb.h"
#include "services/core/raw_unary_service.h"
#include "storage/records.h"

namespace mediation {

void ToProto(const storage::MediatorRecord& m, v1::Mediator* out);

class MediatorServiceImpl final : public RawUnaryService<v1::MediatorService> {
 public:
  explicit MediatorServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_MEDIATOR_SERVICE_H_

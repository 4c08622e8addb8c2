// gRPC adapters for AdminService and IdentityService: tokens, the audit trail and backups.
#ifndef MEDIATION_SERVICES_ADMIN_SERVICE_H_
#define MEDIATION_SERVICES_ADMIN_SERVICE_H_

#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class AdminServiceImpl final : public RawUnaryService<v1::AdminService> {
 public:
  explicit AdminServiceImpl(RpcRunner& runner);
};

class IdentityServiceImpl final : public RawUnaryService<v1::IdentityService> {
 public:
  explicit IdentityServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_ADMIN_SERVICE_H_

// gRPC adapter for OrganisationService.
#ifndef MEDIATION_SERVICES_ORGANISATION_SERVICE_H_
#define MEDIATION_SERVICES_ORGANISATION_SERVICE_H_

#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class OrganisationServiceImpl final : public v1::OrganisationService::CallbackService {
 public:
  explicit OrganisationServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* RegisterOrganisation(
      grpc::CallbackServerContext* context, const v1::RegisterOrganisationRequest* request,
      v1::RegisterOrganisationResponse* response) override;
  grpc::ServerUnaryReactor* GetOrganisation(grpc::CallbackServerContext* context,
                                            const v1::GetOrganisationRequest* request,
                                            v1::GetOrganisationResponse* response) override;
  grpc::ServerUnaryReactor* ListOrganisations(grpc::CallbackServerContext* context,
                                              const v1::ListOrganisationsRequest* request,
                                              v1::ListOrganisationsResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_ORGANISATION_SERVICE_H_

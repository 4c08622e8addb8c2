// gRPC adapters for AdminService and IdentityService: tokens, the audit trail and backups.
#ifndef MEDIATION_SERVICES_ADMIN_SERVICE_H_
#define MEDIATION_SERVICES_ADMIN_SERVICE_H_

#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* IssueToken(grpc::CallbackServerContext* context,
                                       const v1::IssueTokenRequest* request,
                                       v1::IssueTokenResponse* response) override;
  grpc::ServerUnaryReactor* ListTokens(grpc::CallbackServerContext* context,
                                       const v1::ListTokensRequest* request,
                                       v1::ListTokensResponse* response) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* context,
                                        const v1::RevokeTokenRequest* request,
                                        v1::RevokeTokenResponse* response) override;
  grpc::ServerUnaryReactor* ListAuditEvents(grpc::CallbackServerContext* context,
                                            const v1::ListAuditEventsRequest* request,
                                            v1::ListAuditEventsResponse* response) override;
  grpc::ServerUnaryReactor* VerifyAuditChain(grpc::CallbackServerContext* context,
                                             const v1::VerifyAuditChainRequest* request,
                                             v1::VerifyAuditChainResponse* response) override;
  grpc::ServerUnaryReactor* BackupDatabase(grpc::CallbackServerContext* context,
                                           const v1::BackupDatabaseRequest* request,
                                           v1::BackupDatabaseResponse* response) override;
  grpc::ServerUnaryReactor* RotateMasterKey(grpc::CallbackServerContext* context,
                                            const v1::RotateMasterKeyRequest* request,
                                            v1::RotateMasterKeyResponse* response) override;
  grpc::ServerUnaryReactor* GetKeyRotation(grpc::CallbackServerContext* context,
                                           const v1::GetKeyRotationRequest* request,
                                           v1::GetKeyRotationResponse* response) override;
  grpc::ServerUnaryReactor* ExportPersonData(grpc::CallbackServerContext* context,
                                             const v1::ExportPersonDataRequest* request,
                                             v1::ExportPersonDataResponse* response) override;

 private:
  RpcRunner& runner_;
};

class IdentityServiceImpl final : public v1::IdentityService::CallbackService {
 public:
  explicit IdentityServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* context,
                                   const v1::WhoAmIRequest* request,
                                   v1::WhoAmIResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_ADMIN_SERVICE_H_

// gRPC adapter for CaseService: holds, resumes, withdrawals and the case history.
#ifndef MEDIATION_SERVICES_CASE_SERVICE_H_
#define MEDIATION_SERVICES_CASE_SERVICE_H_

#include "ppa/mediation/v1/case.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class CaseServiceImpl final : public v1::CaseService::CallbackService {
 public:
  explicit CaseServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* HoldCase(grpc::CallbackServerContext* context,
                                     const v1::HoldCaseRequest* request,
                                     v1::HoldCaseResponse* response) override;
  grpc::ServerUnaryReactor* ResumeCase(grpc::CallbackServerContext* context,
                                       const v1::ResumeCaseRequest* request,
                                       v1::ResumeCaseResponse* response) override;
  grpc::ServerUnaryReactor* WithdrawCase(grpc::CallbackServerContext* context,
                                         const v1::WithdrawCaseRequest* request,
                                         v1::WithdrawCaseResponse* response) override;
  grpc::ServerUnaryReactor* ReopenCase(grpc::CallbackServerContext* context,
                                       const v1::ReopenCaseRequest* request,
                                       v1::ReopenCaseResponse* response) override;
  grpc::ServerUnaryReactor* GetCaseHistory(grpc::CallbackServerContext* context,
                                           const v1::GetCaseHistoryRequest* request,
                                           v1::GetCaseHistoryResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CASE_SERVICE_H_

// gRPC adapter for CaseService: holds, resumes, withdrawals and the case history.
#ifndef MEDIATION_SERVICES_CASE_SERVICE_H_
#define MEDIATION_SERVICES_CASE_SERVICE_H_

#include "ppa/mediation/v1/case.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class CaseServiceImpl final : public RawUnaryService<v1::CaseService> {
 public:
  explicit CaseServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CASE_SERVICE_H_

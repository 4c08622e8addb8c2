// gRPC adapter for ScreeningService: answers, evaluation and the Senior Adviser's decision. The
// rules themselves are in rules/screening.h.
#ifndef MEDIATION_SERVICES_SCREENING_SERVICE_H_
#define MEDIATION_SERVICES_SCREENING_SERVICE_H_

#include "ppa/mediation/v1/screening.grpc.pb.h"
#include "services/core/raw_unary_service.h"
#include "storage/records.h"

namespace mediation {

// A screening answer as the API shows it.
void ToProto(const storage::ScreeningAnswerRecord& a, v1::ScreeningAnswer* out);

class ScreeningServiceImpl final : public RawUnaryService<v1::ScreeningService> {
 public:
  explicit ScreeningServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCREENING_SERVICE_H_

// gRPC adapter for StatisticsService: anonymised aggregates over the cases of a period.
#ifndef MEDIATION_SERVICES_STATISTICS_SERVICE_H_
#define MEDIATION_SERVICES_STATISTICS_SERVICE_H_

#include "ppa/mediation/v1/statistics.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class StatisticsServiceImpl final : public RawUnaryService<v1::StatisticsService> {
 public:
  explicit StatisticsServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_STATISTICS_SERVICE_H_

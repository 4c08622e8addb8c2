// gRPC adapter for StatisticsService: anonymised aggregates over the cases of a period.
#ifndef MEDIATION_SERVICES_STATISTICS_SERVICE_H_
#define MEDIATION_SERVICES_STATISTICS_SERVICE_H_

#include "ppa/mediation/v1/statistics.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class StatisticsServiceImpl final : public v1::StatisticsService::CallbackService {
 public:
  explicit StatisticsServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* GetStatistics(grpc::CallbackServerContext* context,
                                          const v1::GetStatisticsRequest* request,
                                          v1::GetStatisticsResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_STATISTICS_SERVICE_H_

// gRPC adapter for the benchmark-only BenchmarkService (proto/ppa/mediation/bench/v1): an echo
// answered on gRPC's own thread, the ceiling the real calls are measured against. Registered
// only when ServerOptions::benchmark_service is set.
#ifndef MEDIATION_SERVICES_BENCHMARK_SERVICE_H_
#define MEDIATION_SERVICES_BENCHMARK_SERVICE_H_

#include "ppa/mediation/bench/v1/bench.grpc.pb.h"

namespace mediation {

class BenchmarkServiceImpl final
    : public ::ppa::mediation::bench::v1::BenchmarkService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const ::ppa::mediation::bench::v1::EchoRequest* request,
                                 ::ppa::mediation::bench::v1::EchoResponse* response) override;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_BENCHMARK_SERVICE_H_

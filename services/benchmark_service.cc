#include "services/benchmark_service.h"

namespace mediation {

grpc::ServerUnaryReactor* BenchmarkServiceImpl::Echo(
    grpc::CallbackServerContext* context, const ::ppa::mediation::bench::v1::EchoRequest* request,
    ::ppa::mediation::bench::v1::EchoResponse* response) {
  response->set_payload(request->payload());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace mediation

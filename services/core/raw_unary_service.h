// The gRPC side of every unary method of a service, served from the method registry with the
// request still in its wire form.
//
// Why raw: a typed gRPC method has its request parsed by gRPC before any handler runs, so a
// caller without a token could make the server build whatever the bytes describe (two million
// empty repeated entries: 4 MB on the wire, about 115 MB parsed, 600 MB for eight at once).
// Here the bytes reach RpcRunner::RawUnary, and the pipeline parses them only once the caller
// is authenticated and the policy allows the call, as the HTTP listener does.
#ifndef MEDIATION_SERVICES_CORE_RAW_UNARY_SERVICE_H_
#define MEDIATION_SERVICES_CORE_RAW_UNARY_SERVICE_H_

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/str_cat.h"
#include "services/core/method_registry.h"
#include "services/core/rpc_runner.h"

namespace mediation {

// `Service` is a generated service class (v1::CaseService). Each of its unary methods must be
// in the registry (MEDIATION_UNARY_RPC); one that is not answers UNIMPLEMENTED.
template <class Service>
class RawUnaryService : public Service::CallbackService {
 protected:
  explicit RawUnaryService(RpcRunner& runner) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            Service::service_full_name());
    // The generated service adds its methods in the order of the descriptor.
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (method->client_streaming() || method->server_streaming()) continue;
      const MethodEntry* entry =
          Methods().Find(absl::StrCat("/", service->full_name(), "/", method->name()));
      if (entry == nullptr) continue;
      this->MarkMethodRawCallback(
          i, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                 [&runner, entry](grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
                   return runner.RawUnary(context, *entry, request, response);
                 }));
    }
  }
};

}  // namespace mediation

// Defines the constructor of `Service##Impl` (declared in its header as a RawUnaryService) in
// the adapter's .cc, beside its MEDIATION_UNARY_RPC registrations: using the class links them.
#define MEDIATION_SERVICE(Service) \
  Service##Impl::Service##Impl(RpcRunner& runner) : RawUnaryService<v1::Service>(runner) {}

#endif  // MEDIATION_SERVICES_CORE_RAW_UNARY_SERVICE_H_

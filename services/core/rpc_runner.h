// The gRPC side of the call pipeline (call_pipeline.h): turns a gRPC call into a CallInput (the
// bearer token, the verified certificate identities, the deadline, cancellation), runs it on a
// worker off the gRPC callback thread, and finishes the reactor with the pipeline's answer.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_CORE_RPC_RUNNER_H_
#define MEDIATION_SERVICES_CORE_RPC_RUNNER_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/core/call_pipeline.h"
#include "services/core/method_registry.h"

namespace mediation {

class RpcRunner {
 public:
  // `pipeline` must outlive the runner.
  explicit RpcRunner(CallPipeline& pipeline) : pipeline_(pipeline) {}

  // Queues the call on the worker pool and returns the reactor that will finish it. The request
  // is parsed (into entry's request type) only once the caller is authorized; bytes that do not
  // parse are INVALID_ARGUMENT. See raw_unary_service.h.
  grpc::ServerUnaryReactor* RawUnary(grpc::CallbackServerContext* context, const MethodEntry& entry,
                                     const grpc::ByteBuffer* request, grpc::ByteBuffer* response);

  // The CallInput of a gRPC call to `method`.
  CallInput InputOf(grpc::CallbackServerContext* context, absl::string_view method) const;

  // The gRPC status of the pipeline's answer.
  static grpc::Status ToGrpc(const absl::Status& status);

  CallPipeline& pipeline() { return pipeline_; }
  WorkerPool& pool() { return pipeline_.pool(); }
  EventHub* hub() { return pipeline_.hub(); }
  const ServiceSettings& settings() const { return pipeline_.settings(); }

 private:
  CallPipeline& pipeline_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_RPC_RUNNER_H_

#include "services/core/rpc_runner.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/core/client_identities.h"

namespace mediation {

CallInput RpcRunner::InputOf(grpc::CallbackServerContext* context, absl::string_view method) const {
  CallInput input{.method = method,
                  .transport = Transport::kGrpc,
                  .peer = context->peer(),
                  .received = absl::Now()};
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    input.credentials.authorization.assign(it->second.data(), it->second.size());
  }
  // Certificate identities matter only when a certificate may stand for a token.
  if (input.credentials.authorization.empty() &&
      pipeline_.settings().client_identities != nullptr) {
    if (const std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
        auth != nullptr) {
      input.credentials.certificate_identities = PeerIdentities(*auth);
    }
  }
  const std::chrono::system_clock::time_point deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    input.deadline = absl::FromChrono(deadline);
  }
  input.cancelled = [context] { return context->IsCancelled(); };
  return input;
}

grpc::ServerUnaryReactor* RpcRunner::RawUnary(grpc::CallbackServerContext* context,
                                              const MethodEntry& entry,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const CallInput input = InputOf(context, entry.name);
  const bool queued = pipeline_.pool().Submit([=, this, &entry](storage::Store& store) {
    std::unique_ptr<google::protobuf::Message> parsed = entry.new_request();
    std::unique_ptr<google::protobuf::Message> answer = entry.new_response();
    auto decode = [&]() -> absl::StatusOr<const google::protobuf::Message*> {
      grpc::ByteBuffer bytes = *request;  // Shares the slices.
      grpc::ProtoBufferReader reader(&bytes);
      if (!parsed->ParseFromZeroCopyStream(&reader)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the request is not a valid ", parsed->GetDescriptor()->full_name(), " message"));
      }
      return parsed.get();
    };
    CallOutcome outcome;
    absl::Status status = pipeline_.Run(store, entry, input, decode, *answer, &outcome);
    if (status.ok()) {
      std::string bytes;
      if (answer->SerializeToString(&bytes)) {
        grpc::Slice slice(std::move(bytes));
        *response = grpc::ByteBuffer(&slice, 1);
      } else {
        status = pipeline_.Public(absl::InternalError("the response could not be serialized"),
                                  outcome.call_id);
      }
    }
    if (outcome.retry_after_seconds > 0) {
      context->AddTrailingMetadata("retry-after", std::to_string(outcome.retry_after_seconds));
    }
    reactor->Finish(ToGrpc(status));
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
  return reactor;
}

grpc::Status RpcRunner::ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace mediation

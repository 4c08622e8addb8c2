// Runs every unary RPC the same way, off the gRPC callback thread:
//   authenticate (the bearer token, else a mapped client certificate) -> check the central policy
//   -> run the handler on a worker's store -> audit (mutating calls always, refused calls too) ->
//   log one line -> finish.
// No exception escapes a handler; internal errors are logged under the call id and answered with
// INTERNAL and that id, never with internals.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_CORE_RPC_RUNNER_H_
#define MEDIATION_SERVICES_CORE_RPC_RUNNER_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/core/anonymous_refusals.h"
#include "services/core/call_context.h"
#include "services/core/call_log.h"
#include "services/core/event_hub.h"
#include "services/core/token_cache.h"
#include "services/core/worker_pool.h"
#include "storage/records.h"

// Defines `Service##Impl::Method`, which runs the handler function `mediation::Method` (defined
// in the adapter's .cc) through the adapter's `runner_`. The policy key is built from the same
// tokens as the generated method, so the two cannot drift apart.
#define MEDIATION_UNARY_RPC(Service, Method)                                                    \
  grpc::ServerUnaryReactor* Service##Impl::Method(grpc::CallbackServerContext* context,         \
                                                  const v1::Method##Request* request,           \
                                                  v1::Method##Response* response) {             \
    return runner_.Unary(context, "/ppa.mediation.v1." #Service "/" #Method, request, response, \
                         &::mediation::Method);                                                 \
  }

namespace mediation {

using Clock = std::function<absl::Time()>;

class RpcRunner {
 public:
  // `pool`, `log` and `hub` (optional: notified after every committed write) must outlive the
  // runner.
  RpcRunner(WorkerPool& pool, CallLog& log, Clock clock, ServiceSettings settings = {},
            EventHub* hub = nullptr);

  template <typename Request, typename Response>
  using Handler = absl::Status (*)(CallContext&, const Request&, Response&);

  // Queues the call on the worker pool and returns the reactor that will finish it.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, absl::string_view method,
                                  const Request* request, Response* response,
                                  Handler<Request, Response> handler) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const absl::Time received = absl::Now();
    const bool queued = pool_.Submit([=, this](storage::Store& store) {
      reactor->Finish(
          Execute(store, context, method, received, *request, *response,
                  [&](CallContext& call) { return handler(call, *request, *response); }));
    });
    if (!queued) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    }
    return reactor;
  }

  // For server-streaming calls, which run their own reactors: authenticates the caller and
  // checks the policy exactly as a unary call does, auditing a refusal. On success the
  // principal; the call id names the call in the log either way.
  struct Admission {
    std::string call_id;
    absl::Time now;
    absl::StatusOr<Principal> principal;
  };
  Admission Admit(storage::Store& store, grpc::CallbackServerContext* context,
                  absl::string_view method);

  // A refusal found after admission (a case the caller may not see): audited like one.
  void AuditRefusal(storage::Store& store, absl::string_view method, const Principal& who,
                    const std::string& call_id, absl::Time now, const absl::Status& status,
                    absl::string_view objects);

  // The log line of a finished streaming call; returns the status to finish it with (internal
  // detail logged, not returned).
  grpc::Status FinishStream(absl::string_view method, const std::string& call_id,
                            const std::string& principal, const absl::Status& status,
                            absl::Duration latency);

  WorkerPool& pool() { return pool_; }
  EventHub* hub() { return hub_; }
  absl::Time Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_())); }
  const ServiceSettings& settings() const { return settings_; }

  // Authenticates `authorization` (the header's value) against `store` (or the tokens kept in
  // memory, see token_cache.h); UNAUTHENTICATED with a message saying what is wrong when it
  // fails. When the token is known but revoked or expired, `*known_token_id` is set to its id,
  // so the refusal can be audited against it.
  absl::StatusOr<Principal> Authenticate(storage::Store& store, absl::string_view authorization,
                                         absl::Time now, int64_t* known_token_id);

  // Refused calls without a known token, counted until maintenance writes them down.
  AnonymousRefusals& anonymous_refusals() { return refusals_; }

 private:
  // Authenticates the call: by its bearer token when it sends one, else (when the server maps
  // client certificates) by the verified TLS peer's certificate identity. Same contract as
  // Authenticate.
  absl::StatusOr<Principal> AuthenticateCall(storage::Store& store,
                                             grpc::CallbackServerContext* context, absl::Time now,
                                             int64_t* known_token_id);

  // The principal `token` makes, or UNAUTHENTICATED when it is revoked or expired at `now`.
  static absl::StatusOr<Principal> PrincipalOf(const storage::TokenRecord& token, absl::Time now,
                                               int64_t* known_token_id);

  // A call still waiting for a worker settings_.max_call after it was `received` is answered
  // DEADLINE_EXCEEDED without running: the server's ceiling on calls without a (shorter)
  // deadline. A handler that has started runs to the end (its database work is short).
  grpc::Status Execute(storage::Store& store, grpc::CallbackServerContext* context,
                       absl::string_view method, absl::Time received,
                       const google::protobuf::Message& request,
                       google::protobuf::Message& response,
                       absl::FunctionRef<absl::Status(CallContext&)> run);

  // Runs `run` for a permitted call: through its idempotency key when the request carries one.
  absl::Status RunPermitted(CallContext& call, const google::protobuf::Message& request,
                            google::protobuf::Message& response,
                            absl::FunctionRef<absl::Status(CallContext&)> run);

  // Turns the handler's status into the caller's: internal detail is logged, not returned.
  grpc::Status ToGrpc(const absl::Status& status, const std::string& call_id);

  // Appends `row` in a transaction of its own; failures are logged and returned.
  absl::Status Audit(storage::Store& store, const storage::AuditRecord& row);

  // A call whose authentication failed with `status`: audited against its token when the token
  // is known (revoked, expired); otherwise counted by peer (anonymous_refusals.h) and, past the
  // peer's limit, RESOURCE_EXHAUSTED instead. Returns what the caller is answered.
  absl::Status RefuseUnauthenticated(storage::Store& store, const MethodPolicy& policy,
                                     grpc::CallbackServerContext* context, int64_t known_token_id,
                                     absl::Status status, const std::string& call_id,
                                     absl::Time now);

  std::string NextCallId();

  WorkerPool& pool_;
  CallLog& log_;
  const Clock clock_;
  const ServiceSettings settings_;
  EventHub* const hub_;
  TokenCache tokens_;
  AnonymousRefusals refusals_;
  const uint32_t call_id_prefix_;
  std::atomic<uint64_t> call_counter_{0};
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_RPC_RUNNER_H_

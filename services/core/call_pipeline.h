// Runs every call the same way, whatever transport brought it:
//   authenticate (a bearer token, else a browser session, else a mapped client certificate) ->
//   check the central policy -> run the handler on a worker's store (through its idempotency
//   key, when the request has one) -> audit (mutating calls always, refused calls too) -> log one
//   line.
// The transports (the gRPC adapters, services/core/rpc_runner.h, and the HTTP listener,
// services/http/) only turn their calls into a CallInput and the answer back into theirs. No
// handler knows which transport called it; the audit row and the log line record it.
// No exception escapes a handler; internal errors are logged under the call id and answered
// with their code and that id, never with internals.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_CORE_CALL_PIPELINE_H_
#define MEDIATION_SERVICES_CORE_CALL_PIPELINE_H_

#include <google/protobuf/message.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/core/anonymous_refusals.h"
#include "services/core/call_context.h"
#include "services/core/call_log.h"
#include "services/core/event_hub.h"
#include "services/core/method_registry.h"
#include "services/core/token_cache.h"
#include "services/core/worker_pool.h"
#include "storage/records.h"

namespace mediation {

using Clock = std::function<absl::Time()>;

enum class Transport { kGrpc, kHttp };

// "grpc" or "http": what audit rows and log lines say.
absl::string_view TransportName(Transport transport);

// What the caller presented; the pipeline verifies it. At most one is used: a bearer token
// when there is one, else a browser session, else certificate identities.
struct Credentials {
  // The Authorization header's value ("Bearer <secret>"), as sent.
  std::string authorization;
  // A browser session's id, from its cookie (HTTP only).
  std::string browser_session;
  // The identities of the client certificate the TLS layer verified ("uri:...", see
  // client_identities.h); used only when the server maps certificates to tokens.
  std::vector<std::string> certificate_identities;
};

struct CallInput {
  // The full method name, "/ppa.mediation.v1.ReferralService/GetCase".
  absl::string_view method;
  Transport transport = Transport::kGrpc;
  Credentials credentials;
  // The caller's address, written as gRPC writes peers ("ipv4:127.0.0.1:5000").
  std::string peer;
  // When the transport received the call, and the caller's deadline (none: infinite; the
  // server's ceiling, settings.max_call, applies either way).
  absl::Time received = absl::Now();
  absl::Time deadline = absl::InfiniteFuture();
  // Whether the caller has gone away (empty: never asked).
  std::function<bool()> cancelled;
};

// What a transport passes on besides the status and the response.
struct CallOutcome {
  std::string call_id;
  // Positive: the caller should wait this long before retrying (RESOURCE_EXHAUSTED).
  int64_t retry_after_seconds = 0;
};

class CallPipeline {
 public:
  // `pool`, `log` and `hub` (optional: notified after every committed write) must outlive the
  // pipeline.
  CallPipeline(WorkerPool& pool, CallLog& log, Clock clock, ServiceSettings settings = {},
               EventHub* hub = nullptr);

  // Runs the unary call `entry` with `request` on `store` (a worker's), filling `response`.
  // Returns the status the caller is to get: internal detail is logged under the call id and
  // replaced. A call still waiting for a worker settings.max_call after it was received, or past
  // its deadline, is answered DEADLINE_EXCEEDED without running; a handler that has started
  // runs to the end (its database work is short).
  absl::Status Run(storage::Store& store, const MethodEntry& entry, const CallInput& input,
                   const google::protobuf::Message& request, google::protobuf::Message& response,
                   CallOutcome* outcome);

  // The same, for a transport that decodes the request only once the caller is authorized (so
  // a large request from a caller without credentials costs its bytes, never its parse):
  // `decode` is called at most once, after authentication and the policy check; an error it
  // returns (INVALID_ARGUMENT naming the problem) is the call's answer.
  using Decode = absl::FunctionRef<absl::StatusOr<const google::protobuf::Message*>()>;
  absl::Status Run(storage::Store& store, const MethodEntry& entry, const CallInput& input,
                   Decode decode, google::protobuf::Message& response, CallOutcome* outcome);

  // For server-streaming calls, which their transports run themselves: authenticates the
  // caller and checks the policy exactly as Run does, auditing a refusal. On success the
  // principal; the call id names the call in the log either way.
  struct Admission {
    std::string call_id;
    absl::Time now;
    absl::StatusOr<Principal> principal;
    int64_t retry_after_seconds = 0;
  };
  Admission Admit(storage::Store& store, const CallInput& input);

  // A refusal found after admission (a case the caller may not see): audited like one.
  void AuditRefusal(storage::Store& store, const CallInput& input, const Principal& who,
                    const std::string& call_id, absl::Time now, const absl::Status& status,
                    absl::string_view objects);

  // The log line of a finished streaming call; returns the status to finish it with (internal
  // detail logged, not returned).
  absl::Status FinishStream(const CallInput& input, const std::string& call_id,
                            const std::string& principal, const absl::Status& status,
                            absl::Duration latency);

  // Authenticates the credentials of `input` at `now` (see Credentials); UNAUTHENTICATED with
  // a message saying what is wrong when it fails. When the token is known but revoked or
  // expired, `*known_token_id` is set to its id, so the refusal can be audited against it.
  absl::StatusOr<Principal> Authenticate(storage::Store& store, const Credentials& credentials,
                                         absl::Time now, int64_t* known_token_id);

  // Authenticates a bearer token's `authorization` header value alone (same contract).
  absl::StatusOr<Principal> AuthenticateBearer(storage::Store& store,
                                               absl::string_view authorization, absl::Time now,
                                               int64_t* known_token_id);

  // Browser sessions (HTTP only). SignIn exchanges an access token's secret for a new session:
  // UNAUTHENTICATED as for a call with that token (counted, and limited, the same way). Both
  // are audited ("/auth/sign-in", "/auth/sign-out"). The session id is returned once, for the
  // cookie; only its hash is stored.
  struct SignedIn {
    std::string session;
    Principal principal;
    absl::Time expires_at;
  };
  absl::StatusOr<SignedIn> SignIn(storage::Store& store, absl::string_view secret,
                                  const CallInput& input, CallOutcome* outcome);
  // Exchanges a party's one-time sign-in link code (services/party_links.h) for a new session
  // of a new PARTY token, in one transaction: UNAUTHENTICATED for a code never issued (counted,
  // and limited, as a call without a valid token); FAILED_PRECONDITION for a used, expired or
  // replaced link. Audited ("/auth/party-link") with the link, the token and the session; a
  // refused link too.
  absl::StatusOr<SignedIn> SignInWithPartyLink(storage::Store& store, absl::string_view code,
                                               const CallInput& input, CallOutcome* outcome);
  // Ends the session (whichever state it is in); OK when there is none.
  absl::Status SignOut(storage::Store& store, absl::string_view session, const CallInput& input,
                       CallOutcome* outcome);

  // Turns a handler's status into the caller's: storage and internal detail is logged under
  // `call_id` and replaced by a message naming the call id.
  absl::Status Public(const absl::Status& status, const std::string& call_id);

  WorkerPool& pool() { return pool_; }
  EventHub* hub() { return hub_; }
  CallLog& log() { return log_; }
  absl::Time Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_())); }
  const ServiceSettings& settings() const { return settings_; }
  std::string NextCallId();

  // Refused calls without a known token, counted until maintenance writes them down.
  AnonymousRefusals& anonymous_refusals() { return refusals_; }

 private:
  // The principal a browser session stands for; refreshes its last activity.
  absl::StatusOr<Principal> AuthenticateSession(storage::Store& store, absl::string_view session,
                                                absl::Time now, int64_t* known_token_id);
  // The principal a mapped client certificate stands for.
  absl::StatusOr<Principal> AuthenticateCertificate(storage::Store& store,
                                                    const std::vector<std::string>& identities,
                                                    absl::Time now, int64_t* known_token_id);

  // The principal `token` makes, or UNAUTHENTICATED when it is revoked or expired at `now`.
  static absl::StatusOr<Principal> PrincipalOf(const storage::TokenRecord& token, absl::Time now,
                                               int64_t* known_token_id);

  // Runs `entry`'s handler for a permitted call: through its idempotency key when the request
  // carries one.
  absl::Status RunPermitted(CallContext& call, const MethodEntry& entry,
                            const google::protobuf::Message& request,
                            google::protobuf::Message& response);

  // Appends `row` in a transaction of its own; failures are logged and returned.
  absl::Status Audit(storage::Store& store, const storage::AuditRecord& row);

  // A call whose authentication failed with `status`: audited against its token when the token
  // is known (revoked, expired); otherwise counted by peer (anonymous_refusals.h) and, past the
  // peer's limit, RESOURCE_EXHAUSTED instead. Returns what the caller is answered.
  absl::Status RefuseUnauthenticated(storage::Store& store, const MethodPolicy& policy,
                                     const CallInput& input, int64_t known_token_id,
                                     absl::Status status, const std::string& call_id,
                                     absl::Time now, int64_t* retry_after_seconds);

  // Authentication and the policy, shared by Run and Admit.
  // `*who` describes the caller once its credentials are verified (for the log line).
  absl::StatusOr<Principal> Authorize(storage::Store& store, const MethodPolicy& policy,
                                      const CallInput& input, const std::string& call_id,
                                      absl::Time now, int64_t* retry_after_seconds,
                                      std::string* who);

  void LogCall(const CallInput& input, const std::string& call_id, const std::string& principal,
               const absl::Status& status, absl::Duration latency);

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

// "INVALID_ARGUMENT": the gRPC name of a status code.
absl::string_view CodeName(absl::StatusCode code);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_CALL_PIPELINE_H_

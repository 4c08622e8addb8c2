#include "services/core/rpc_runner.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <exception>
#include <memory>
#include <optional>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/core/client_identities.h"
#include "services/core/secrets.h"
#include "services/core/validation.h"
#include "storage/audit.h"
#include "storage/tokens.h"

namespace mediation {
namespace {

absl::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal:
      return "INTERNAL";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

// Read calls are audited only when refused: the caller was not allowed, or asked for something it
// may not see.
bool IsRefusal(absl::StatusCode code) {
  return code == absl::StatusCode::kUnauthenticated ||
         code == absl::StatusCode::kPermissionDenied || code == absl::StatusCode::kNotFound;
}

// The request's idempotency key: empty when it has none, INVALID_ARGUMENT when it is malformed.
absl::StatusOr<std::string> IdempotencyKey(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("idempotency_key");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return std::string();
  }
  std::string key = request.GetReflection()->GetString(request, field);
  if (key.size() > 128) {
    return FieldError("idempotency_key", "at most 128 characters");
  }
  for (const char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return FieldError("idempotency_key",
                        "printable ASCII only (letters, digits, punctuation; no spaces)");
    }
  }
  return key;
}

// Identifies a request apart from its idempotency key: SHA-256 of its deterministic encoding.
std::string RequestFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  copy->GetReflection()->ClearField(copy.get(),
                                    copy->GetDescriptor()->FindFieldByName("idempotency_key"));
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&out);
  }
  return absl::BytesToHexString(Sha256(bytes));
}

std::string AuthorizationHeader(const grpc::CallbackServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

RpcRunner::RpcRunner(WorkerPool& pool, CallLog& log, Clock clock, ServiceSettings settings,
                     EventHub* hub)
    : pool_(pool),
      log_(log),
      clock_(std::move(clock)),
      settings_(settings),
      hub_(hub),
      refusals_(settings.anonymous_refusal_burst, settings.anonymous_refusals_per_second),
      call_id_prefix_(absl::Uniform<uint32_t>(absl::BitGen())) {}

RpcRunner::Admission RpcRunner::Admit(storage::Store& store, grpc::CallbackServerContext* context,
                                      absl::string_view method) {
  Admission admission{.call_id = NextCallId(), .now = Now(), .principal = Principal{}};
  const MethodPolicy* policy = FindMethodPolicy(method);
  if (policy == nullptr) {
    admission.principal = absl::InternalError(absl::StrCat("no access policy for ", method));
    return admission;
  }
  int64_t known_token_id = 0;
  absl::StatusOr<Principal> principal =
      AuthenticateCall(store, context, admission.now, &known_token_id);
  if (!principal.ok()) {
    admission.principal =
        absl::IsUnauthenticated(principal.status())
            ? RefuseUnauthenticated(store, *policy, context, known_token_id, principal.status(),
                                    admission.call_id, admission.now)
            : principal.status();
    return admission;
  }
  if (!policy->roles.Contains(principal->role)) {
    const absl::Status denied = absl::PermissionDeniedError(
        absl::StrCat("a ", v1::Role_Name(principal->role), " token may not call ", method));
    AuditRefusal(store, method, *principal, admission.call_id, admission.now, denied, "");
    admission.principal = denied;
    return admission;
  }
  admission.principal = *std::move(principal);
  return admission;
}

absl::Status RpcRunner::RefuseUnauthenticated(storage::Store& store, const MethodPolicy& policy,
                                              grpc::CallbackServerContext* context,
                                              int64_t known_token_id, absl::Status status,
                                              const std::string& call_id, absl::Time now) {
  if (known_token_id != 0) {
    const Principal unverified{.token_id = known_token_id};
    (void)Audit(store, CallContext(store, policy, unverified, call_id, now, settings_)
                           .AuditRow(CodeName(status.code())));
    return status;
  }
  const AnonymousRefusals::Verdict verdict =
      refusals_.Refused(AnonymousRefusals::PeerAddress(context->peer()), policy.method, now);
  if (!verdict.limited) return status;
  const int64_t seconds = absl::ToInt64Seconds(verdict.retry_after);
  context->AddTrailingMetadata("retry-after", std::to_string(seconds));
  return absl::ResourceExhaustedError(
      absl::StrCat("too many calls without a valid access token from this address; retry in ",
                   seconds, " s with a token (", status.message(), ")"));
}

void RpcRunner::AuditRefusal(storage::Store& store, absl::string_view method, const Principal& who,
                             const std::string& call_id, absl::Time now, const absl::Status& status,
                             absl::string_view objects) {
  const MethodPolicy* policy = FindMethodPolicy(method);
  if (policy == nullptr) return;
  CallContext call(store, *policy, who, call_id, now, settings_);
  storage::AuditRecord row = call.AuditRow(CodeName(status.code()));
  row.objects = std::string(objects);
  (void)Audit(store, row);
}

grpc::Status RpcRunner::FinishStream(absl::string_view method, const std::string& call_id,
                                     const std::string& principal, const absl::Status& status,
                                     absl::Duration latency) {
  grpc::Status result = ToGrpc(status, call_id);
  log_.Call({.call_id = call_id,
             .method = method,
             .principal = principal,
             .code = CodeName(status.code()),
             .latency = latency});
  return result;
}

std::string RpcRunner::NextCallId() {
  return absl::StrFormat("%08x-%06x", call_id_prefix_, call_counter_.fetch_add(1) + 1);
}

absl::StatusOr<Principal> RpcRunner::Authenticate(storage::Store& store,
                                                  absl::string_view authorization, absl::Time now,
                                                  int64_t* known_token_id) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send the metadata header 'authorization: Bearer <token>'");
  }
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("malformed authorization header: expected 'Bearer <token>'");
  }
  const absl::string_view secret = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  const std::string sha256 = Sha256(secret);
  const storage::TokenChangeState before = storage::TokenChanges();
  if (std::optional<storage::TokenRecord> kept = tokens_.Find(sha256, before); kept.has_value()) {
    return PrincipalOf(*kept, now, known_token_id);
  }
  storage::TokenRecord token;
  absl::Status status = store.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::TokenRecord> found = storage::FindTokenByHash(tx, sha256);
    if (!found.ok()) return found.status();
    token = *std::move(found);
    return absl::OkStatus();
  });
  if (absl::IsNotFound(status)) return absl::UnauthenticatedError("unknown access token");
  if (!status.ok()) return status;
  tokens_.Insert(sha256, token, before, storage::TokenChanges());
  return PrincipalOf(token, now, known_token_id);
}

absl::StatusOr<Principal> RpcRunner::AuthenticateCall(storage::Store& store,
                                                      grpc::CallbackServerContext* context,
                                                      absl::Time now, int64_t* known_token_id) {
  const std::string authorization = AuthorizationHeader(context);
  // A bearer token, when sent, decides who the caller is; a mapped certificate only stands in
  // for a missing one (see --client_identities).
  if (!authorization.empty() || settings_.client_identities == nullptr) {
    return Authenticate(store, authorization, now, known_token_id);
  }
  const std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  const std::vector<std::string> identities =
      auth == nullptr ? std::vector<std::string>() : PeerIdentities(*auth);
  if (identities.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send the metadata header 'authorization: Bearer <token>', or "
        "connect with a client certificate the server maps to a token");
  }
  absl::StatusOr<int64_t> token_id = settings_.client_identities->TokenFor(identities);
  if (absl::IsNotFound(token_id.status())) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the client certificate (", absl::StrJoin(identities, ", "),
        ") is not mapped to an access token: send the metadata header 'authorization: Bearer "
        "<token>', or ask the operator to map the certificate"));
  }
  if (!token_id.ok()) return token_id.status();
  storage::TokenRecord token;
  absl::Status status = store.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::TokenRecord> found = storage::GetToken(tx, *token_id);
    if (!found.ok()) return found.status();
    token = *std::move(found);
    return absl::OkStatus();
  });
  if (absl::IsNotFound(status)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the client certificate is mapped to access token ", *token_id,
        ", which does not exist; ask the operator to correct the client identity file"));
  }
  if (!status.ok()) return status;
  absl::StatusOr<Principal> principal = PrincipalOf(token, now, known_token_id);
  if (principal.ok()) principal->by_certificate = true;
  return principal;
}

absl::StatusOr<Principal> RpcRunner::PrincipalOf(const storage::TokenRecord& token, absl::Time now,
                                                 int64_t* known_token_id) {
  *known_token_id = token.id;
  if (token.revoked_at.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat("access token ", token.id, " was revoked"));
  }
  if (token.expires_at.has_value() && *token.expires_at <= now) {
    return absl::UnauthenticatedError(absl::StrCat("access token ", token.id, " has expired"));
  }
  Principal principal;
  principal.token_id = token.id;
  principal.role = token.role;
  principal.mediator_id = token.mediator_id;
  principal.organisation_id = token.organisation_id;
  principal.case_id = token.case_id;
  principal.party_id = token.party_id;
  return principal;
}

absl::Status RpcRunner::RunPermitted(CallContext& call, const google::protobuf::Message& request,
                                     google::protobuf::Message& response,
                                     absl::FunctionRef<absl::Status(CallContext&)> run) {
  absl::StatusOr<std::string> key = IdempotencyKey(request);
  if (!key.ok()) return key.status();
  if (key->empty()) return run(call);
  call.MakeIdempotent(*key, RequestFingerprint(request), &response);
  absl::StatusOr<bool> replayed = call.ReplayIfRepeated();
  if (!replayed.ok()) return replayed.status();
  if (*replayed) return absl::OkStatus();
  const absl::Status status = run(call);
  if (call.replayed_response().has_value()) {
    // A concurrent repeat committed first and Write answered from it: whatever the handler did
    // after its Write, the answer is the kept response.
    response.Clear();
    response.ParseFromString(*call.replayed_response());
    return absl::OkStatus();
  }
  return status;
}

grpc::Status RpcRunner::Execute(storage::Store& store, grpc::CallbackServerContext* context,
                                absl::string_view method, absl::Time received,
                                const google::protobuf::Message& request,
                                google::protobuf::Message& response,
                                absl::FunctionRef<absl::Status(CallContext&)> run) {
  const absl::Time start = absl::Now();
  // Stored instants have microsecond precision; "now" has the same, so a response built from
  // it matches what a later read returns.
  const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(clock_()));
  const std::string call_id = NextCallId();
  std::string principal_text = "anonymous";
  absl::Status status;

  const MethodPolicy* policy = FindMethodPolicy(method);
  if (policy == nullptr) {
    status = absl::InternalError(absl::StrCat("no access policy for ", method));
  } else if (context->IsCancelled()) {
    status = absl::CancelledError("the call was cancelled before it started");
  } else if (start - received >= settings_.max_call) {
    status = absl::DeadlineExceededError(absl::StrCat(
        "the server was too busy to start the call within its limit of ",
        absl::FormatDuration(settings_.max_call), "; nothing was done, try again later"));
  } else {
    int64_t known_token_id = 0;
    absl::StatusOr<Principal> principal = AuthenticateCall(store, context, now, &known_token_id);
    if (!principal.ok()) {
      status = principal.status();
      if (absl::IsUnauthenticated(status)) {
        status =
            RefuseUnauthenticated(store, *policy, context, known_token_id, status, call_id, now);
      }
    } else {
      principal_text = principal->Describe();
      CallContext call(store, *policy, *principal, call_id, now, settings_);
      if (!policy->roles.Contains(principal->role)) {
        status = absl::PermissionDeniedError(
            absl::StrCat("a ", v1::Role_Name(principal->role), " token may not call ", method));
      } else {
        try {
          status = RunPermitted(call, request, response, run);
        } catch (const std::exception& e) {
          status = absl::InternalError(absl::StrCat("handler threw: ", e.what()));
        } catch (...) {
          status = absl::InternalError("handler threw a non-standard exception");
        }
      }
      const bool audit = policy->access == Access::kWrite         ? !call.audited()
                         : policy->access == Access::kAuditedRead ? true
                                                                  : IsRefusal(status.code());
      if (status.ok() && policy->access == Access::kWrite && hub_ != nullptr) hub_->Notify();
      if (audit) {
        absl::Status audited = Audit(store, call.AuditRow(CodeName(status.code())));
        if (!audited.ok() && status.ok() && policy->access == Access::kAuditedRead) {
          // A confidential read is answered only once it is on the record.
          response.Clear();
          status = audited;
        }
      }
    }
  }

  grpc::Status result = ToGrpc(status, call_id);
  log_.Call({.call_id = call_id,
             .method = method,
             .principal = principal_text,
             .code = CodeName(status.code()),
             .latency = absl::Now() - start});
  return result;
}

grpc::Status RpcRunner::ToGrpc(const absl::Status& status, const std::string& call_id) {
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.ok()) return grpc::Status::OK;
  // DATA_LOSS from the services says which record is damaged, and nothing else: it passes.
  const bool internal_detail = storage::IsStorageError(status) ||
                               status.code() == absl::StatusCode::kInternal ||
                               status.code() == absl::StatusCode::kUnknown;
  if (!internal_detail) return grpc::Status(code, std::string(status.message()));
  log_.Error(call_id, status.ToString(absl::StatusToStringMode::kWithNoExtraData));
  std::string message;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      message = "the database is busy; try again shortly";
      break;
    case absl::StatusCode::kResourceExhausted:
      message = "the server's storage is full; nothing was saved";
      break;
    case absl::StatusCode::kAborted:
      message = "the change conflicted with another; try again";
      break;
    default:
      message = "internal error; the service team can trace it by its call id";
  }
  return grpc::Status(code, absl::StrCat(message, " (call id ", call_id, ")"));
}

absl::Status RpcRunner::Audit(storage::Store& store, const storage::AuditRecord& row) {
  absl::Status status = store.Write(
      [&](storage::Tx& tx) -> absl::Status { return storage::AppendAudit(tx, row).status(); });
  if (!status.ok()) {
    log_.Error(row.call_id, absl::StrCat("could not write the audit row: ", status.ToString()));
  }
  return status;
}

}  // namespace mediation

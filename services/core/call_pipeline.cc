#include "services/core/call_pipeline.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
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
#include "services/party_links.h"
#include "storage/audit.h"
#include "storage/browser_sessions.h"
#include "storage/party_links.h"
#include "storage/tokens.h"

namespace mediation {

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

namespace {

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

}  // namespace

absl::string_view TransportName(Transport transport) {
  return transport == Transport::kHttp ? "http" : "grpc";
}

CallPipeline::CallPipeline(WorkerPool& pool, CallLog& log, Clock clock, ServiceSettings settings,
                           EventHub* hub)
    : pool_(pool),
      log_(log),
      clock_(std::move(clock)),
      settings_(settings),
      hub_(hub),
      refusals_(settings.anonymous_refusal_burst, settings.anonymous_refusals_per_second),
      call_id_prefix_(absl::Uniform<uint32_t>(absl::BitGen())) {}

std::string CallPipeline::NextCallId() {
  return absl::StrFormat("%08x-%06x", call_id_prefix_, call_counter_.fetch_add(1) + 1);
}

absl::StatusOr<Principal> CallPipeline::Authorize(storage::Store& store, const MethodPolicy& policy,
                                                  const CallInput& input,
                                                  const std::string& call_id, absl::Time now,
                                                  int64_t* retry_after_seconds, std::string* who) {
  int64_t known_token_id = 0;
  absl::StatusOr<Principal> principal =
      Authenticate(store, input.credentials, now, &known_token_id);
  if (!principal.ok()) {
    if (!absl::IsUnauthenticated(principal.status())) return principal.status();
    return RefuseUnauthenticated(store, policy, input, known_token_id, principal.status(), call_id,
                                 now, retry_after_seconds);
  }
  *who = principal->Describe();
  if (!policy.roles.Contains(principal->role)) {
    const absl::Status denied = absl::PermissionDeniedError(
        absl::StrCat("a ", v1::Role_Name(principal->role), " token may not call ", policy.method));
    AuditRefusal(store, input, *principal, call_id, now, denied, "");
    return denied;
  }
  return principal;
}

CallPipeline::Admission CallPipeline::Admit(storage::Store& store, const CallInput& input) {
  Admission admission{.call_id = NextCallId(), .now = Now(), .principal = Principal{}};
  const MethodPolicy* policy = FindMethodPolicy(input.method);
  if (policy == nullptr) {
    admission.principal = absl::InternalError(absl::StrCat("no access policy for ", input.method));
    return admission;
  }
  std::string who;
  admission.principal = Authorize(store, *policy, input, admission.call_id, admission.now,
                                  &admission.retry_after_seconds, &who);
  return admission;
}

absl::Status CallPipeline::RefuseUnauthenticated(storage::Store& store, const MethodPolicy& policy,
                                                 const CallInput& input, int64_t known_token_id,
                                                 absl::Status status, const std::string& call_id,
                                                 absl::Time now, int64_t* retry_after_seconds) {
  if (known_token_id != 0) {
    const Principal unverified{.token_id = known_token_id};
    (void)Audit(store, CallContext(store, policy, unverified, call_id, now, settings_,
                                   TransportName(input.transport))
                           .AuditRow(CodeName(status.code())));
    return status;
  }
  const AnonymousRefusals::Verdict verdict =
      refusals_.Refused(AnonymousRefusals::PeerAddress(input.peer), policy.method, now);
  if (!verdict.limited) return status;
  const int64_t seconds = absl::ToInt64Seconds(verdict.retry_after);
  *retry_after_seconds = std::max<int64_t>(seconds, 1);
  return absl::ResourceExhaustedError(
      absl::StrCat("too many calls without a valid access token from this address; retry in ",
                   seconds, " s with a token (", status.message(), ")"));
}

void CallPipeline::AuditRefusal(storage::Store& store, const CallInput& input, const Principal& who,
                                const std::string& call_id, absl::Time now,
                                const absl::Status& status, absl::string_view objects) {
  const MethodPolicy* policy = FindMethodPolicy(input.method);
  if (policy == nullptr) return;
  CallContext call(store, *policy, who, call_id, now, settings_, TransportName(input.transport));
  storage::AuditRecord row = call.AuditRow(CodeName(status.code()));
  row.objects = std::string(objects);
  (void)Audit(store, row);
}

void CallPipeline::LogCall(const CallInput& input, const std::string& call_id,
                           const std::string& principal, const absl::Status& status,
                           absl::Duration latency) {
  log_.Call({.call_id = call_id,
             .method = input.method,
             .principal = principal,
             .code = CodeName(status.code()),
             .transport = TransportName(input.transport),
             .latency = latency});
}

absl::Status CallPipeline::FinishStream(const CallInput& input, const std::string& call_id,
                                        const std::string& principal, const absl::Status& status,
                                        absl::Duration latency) {
  absl::Status result = Public(status, call_id);
  LogCall(input, call_id, principal, status, latency);
  return result;
}

absl::StatusOr<Principal> CallPipeline::Authenticate(storage::Store& store,
                                                     const Credentials& credentials, absl::Time now,
                                                     int64_t* known_token_id) {
  // A bearer token, when sent, decides who the caller is; a browser session or a mapped
  // certificate only stands in for a missing one.
  if (!credentials.authorization.empty()) {
    return AuthenticateBearer(store, credentials.authorization, now, known_token_id);
  }
  if (!credentials.browser_session.empty()) {
    return AuthenticateSession(store, credentials.browser_session, now, known_token_id);
  }
  if (settings_.client_identities == nullptr) {
    return absl::UnauthenticatedError(
        "missing credentials: send the metadata header 'authorization: Bearer <token>'");
  }
  if (credentials.certificate_identities.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send the metadata header 'authorization: Bearer <token>', or "
        "connect with a client certificate the server maps to a token");
  }
  return AuthenticateCertificate(store, credentials.certificate_identities, now, known_token_id);
}

absl::StatusOr<Principal> CallPipeline::AuthenticateBearer(storage::Store& store,
                                                           absl::string_view authorization,
                                                           absl::Time now,
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
  if (!settings_.shared_database) {
    if (std::optional<storage::TokenRecord> kept = tokens_.Find(sha256, before); kept.has_value()) {
      return PrincipalOf(*kept, now, known_token_id);
    }
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
  if (!settings_.shared_database) tokens_.Insert(sha256, token, before, storage::TokenChanges());
  return PrincipalOf(token, now, known_token_id);
}

absl::StatusOr<Principal> CallPipeline::AuthenticateSession(storage::Store& store,
                                                            absl::string_view session,
                                                            absl::Time now,
                                                            int64_t* known_token_id) {
  const std::string sha256 = Sha256(session);
  storage::BrowserSessionRecord found;
  storage::TokenRecord token;
  absl::Status status = store.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::BrowserSessionRecord> s = storage::FindBrowserSession(tx, sha256);
    if (!s.ok()) return s.status();
    found = *std::move(s);
    absl::StatusOr<storage::TokenRecord> t = storage::GetToken(tx, found.token_id);
    if (!t.ok()) return t.status();
    token = *std::move(t);
    return absl::OkStatus();
  });
  if (absl::IsNotFound(status)) {
    return absl::UnauthenticatedError("unknown session: sign in again");
  }
  if (!status.ok()) return status;
  if (found.ended_at.has_value()) {
    return absl::UnauthenticatedError("the session was signed out: sign in again");
  }
  if (found.expires_at <= now) {
    return absl::UnauthenticatedError(
        absl::StrCat("the session has reached its limit of ",
                     absl::FormatDuration(settings_.browser_session_lifetime), ": sign in again"));
  }
  if (now - found.last_seen_at >= settings_.browser_session_idle) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the session ended after ", absl::FormatDuration(settings_.browser_session_idle),
        " without activity: sign in again"));
  }
  absl::StatusOr<Principal> principal = PrincipalOf(token, now, known_token_id);
  if (!principal.ok()) return principal;
  // Activity is written down at most once a minute: the idle limit is counted in minutes, and a
  // read should not cost a write.
  if (now - found.last_seen_at >= absl::Minutes(1)) {
    absl::Status touched = store.Write(
        [&](storage::Tx& tx) { return storage::TouchBrowserSession(tx, found.id, now); });
    if (!touched.ok()) return touched;
  }
  principal->by_session = true;
  return principal;
}

absl::StatusOr<Principal> CallPipeline::AuthenticateCertificate(
    storage::Store& store, const std::vector<std::string>& identities, absl::Time now,
    int64_t* known_token_id) {
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

absl::StatusOr<Principal> CallPipeline::PrincipalOf(const storage::TokenRecord& token,
                                                    absl::Time now, int64_t* known_token_id) {
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

absl::Status CallPipeline::RunPermitted(CallContext& call, const MethodEntry& entry,
                                        const google::protobuf::Message& request,
                                        google::protobuf::Message& response) {
  absl::StatusOr<std::string> key = IdempotencyKey(request);
  if (!key.ok()) return key.status();
  call.SetResponse(&response);
  if (key->empty()) return entry.handler(call, request, response);
  call.MakeIdempotent(*key, RequestFingerprint(request), &response);
  absl::StatusOr<bool> replayed = call.ReplayIfRepeated();
  if (!replayed.ok()) return replayed.status();
  if (*replayed) return absl::OkStatus();
  const absl::Status status = entry.handler(call, request, response);
  if (call.replayed_response().has_value()) {
    // A concurrent repeat committed first and Write answered from it: whatever the handler did
    // after its Write, the answer is the kept response.
    response.Clear();
    response.ParseFromString(*call.replayed_response());
    return absl::OkStatus();
  }
  return status;
}

absl::Status CallPipeline::Run(storage::Store& store, const MethodEntry& entry,
                               const CallInput& input, const google::protobuf::Message& request,
                               google::protobuf::Message& response, CallOutcome* outcome) {
  return Run(
      store, entry, input,
      [&]() -> absl::StatusOr<const google::protobuf::Message*> { return &request; }, response,
      outcome);
}

absl::Status CallPipeline::Run(storage::Store& store, const MethodEntry& entry,
                               const CallInput& input, Decode decode,
                               google::protobuf::Message& response, CallOutcome* outcome) {
  const absl::Time start = absl::Now();
  // Stored instants have microsecond precision; "now" has the same, so a response built from
  // it matches what a later read returns.
  const absl::Time now = Now();
  const std::string call_id = NextCallId();
  outcome->call_id = call_id;
  std::string principal_text = "anonymous";
  absl::Status status;

  const MethodPolicy* policy = entry.policy;
  if (policy == nullptr || entry.handler == nullptr) {
    status = absl::InternalError(absl::StrCat("no access policy or handler for ", entry.name));
  } else if (input.cancelled && input.cancelled()) {
    status = absl::CancelledError("the call was cancelled before it started");
  } else if (start - input.received >= settings_.max_call) {
    status = absl::DeadlineExceededError(absl::StrCat(
        "the server was too busy to start the call within its limit of ",
        absl::FormatDuration(settings_.max_call), "; nothing was done, try again later"));
  } else if (start >= input.deadline) {
    status = absl::DeadlineExceededError(
        "the call's deadline passed before the server could start it; nothing was done");
  } else {
    absl::StatusOr<Principal> principal = Authorize(store, *policy, input, call_id, now,
                                                    &outcome->retry_after_seconds, &principal_text);
    if (!principal.ok()) {
      status = principal.status();
    } else {
      CallContext call(store, *policy, *principal, call_id, now, settings_,
                       TransportName(input.transport));
      try {
        absl::StatusOr<const google::protobuf::Message*> request = decode();
        status = request.ok() ? RunPermitted(call, entry, **request, response) : request.status();
      } catch (const std::exception& e) {
        status = absl::InternalError(absl::StrCat("handler threw: ", e.what()));
      } catch (...) {
        status = absl::InternalError("handler threw a non-standard exception");
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
  if (!status.ok()) response.Clear();
  absl::Status result = Public(status, call_id);
  LogCall(input, call_id, principal_text, status, absl::Now() - start);
  return result;
}

namespace {

constexpr MethodPolicy kSignIn{"/auth/sign-in", Access::kWrite, RoleSet::All()};
constexpr MethodPolicy kSignOut{"/auth/sign-out", Access::kWrite, RoleSet::All()};
constexpr MethodPolicy kPartyLink{"/auth/party-link", Access::kWrite, RoleSet::All()};

}  // namespace

absl::StatusOr<CallPipeline::SignedIn> CallPipeline::SignIn(storage::Store& store,
                                                            absl::string_view secret,
                                                            const CallInput& input,
                                                            CallOutcome* outcome) {
  const absl::Time start = absl::Now();
  const absl::Time now = Now();
  outcome->call_id = NextCallId();
  int64_t known_token_id = 0;
  absl::StatusOr<Principal> principal =
      AuthenticateBearer(store, absl::StrCat("Bearer ", secret), now, &known_token_id);
  absl::StatusOr<SignedIn> result;
  if (!principal.ok()) {
    result = absl::IsUnauthenticated(principal.status())
                 ? RefuseUnauthenticated(store, kSignIn, input, known_token_id, principal.status(),
                                         outcome->call_id, now, &outcome->retry_after_seconds)
                 : principal.status();
  } else {
    absl::StatusOr<std::string> session = NewTokenSecret();
    if (!session.ok()) {
      result = session.status();
    } else {
      SignedIn signed_in{.session = *std::move(session),
                         .principal = *principal,
                         .expires_at = now + settings_.browser_session_lifetime};
      CallContext call(store, kSignIn, *principal, outcome->call_id, now, settings_,
                       TransportName(input.transport));
      absl::Status written = call.Write([&](storage::Tx& tx) -> absl::Status {
        absl::StatusOr<storage::BrowserSessionRecord> row =
            storage::InsertBrowserSession(tx, {.id_sha256 = Sha256(signed_in.session),
                                               .token_id = principal->token_id,
                                               .created_at = now,
                                               .last_seen_at = now,
                                               .expires_at = signed_in.expires_at});
        if (!row.ok()) return row.status();
        call.AddObject("browser_session", row->id);
        return absl::OkStatus();
      });
      if (written.ok()) {
        result = std::move(signed_in);
      } else {
        result = written;
      }
    }
  }
  const absl::Status status = result.ok() ? absl::OkStatus() : result.status();
  LogCall({.method = kSignIn.method, .transport = input.transport}, outcome->call_id,
          principal.ok() ? principal->Describe() : "anonymous", status, absl::Now() - start);
  if (!result.ok()) return Public(result.status(), outcome->call_id);
  return result;
}

absl::StatusOr<CallPipeline::SignedIn> CallPipeline::SignInWithPartyLink(storage::Store& store,
                                                                         absl::string_view code,
                                                                         const CallInput& input,
                                                                         CallOutcome* outcome) {
  const absl::Time start = absl::Now();
  const absl::Time now = Now();
  outcome->call_id = NextCallId();
  absl::StatusOr<std::string> session = NewRandomCode();
  if (!session.ok()) return Public(session.status(), outcome->call_id);
  // Who is signing in is known only once the link is found.
  CallContext call(store, kPartyLink, Principal{.role = v1::ROLE_PARTY}, outcome->call_id, now,
                   settings_, TransportName(input.transport));
  int64_t link_id = 0;
  SignedIn signed_in{.session = *std::move(session)};
  // A code never issued is refused after a read, so guessing never holds up writers.
  absl::Status status = store.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::PartyLinkRecord> found = storage::FindPartyLink(tx, Sha256(code));
    if (absl::IsNotFound(found.status())) return absl::UnauthenticatedError(kUnknownPartyLink);
    return found.status();
  });
  // Not call.Write: its audit row would carry the caller's token, and the caller has none until
  // the link becomes one. The row written here carries the new token.
  const auto use = [&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<UsedPartyLink> used =
        UsePartyLink(tx, code, now, settings_.browser_session_lifetime, &link_id);
    if (!used.ok()) return used.status();
    signed_in.principal = Principal{.token_id = used->token.id,
                                    .role = v1::ROLE_PARTY,
                                    .case_id = used->token.case_id,
                                    .party_id = used->token.party_id,
                                    .by_session = true};
    signed_in.expires_at = *used->token.expires_at;
    absl::StatusOr<storage::BrowserSessionRecord> row =
        storage::InsertBrowserSession(tx, {.id_sha256 = Sha256(signed_in.session),
                                           .token_id = used->token.id,
                                           .created_at = now,
                                           .last_seen_at = now,
                                           .expires_at = signed_in.expires_at});
    if (!row.ok()) return row.status();
    call.AddObject("case", used->link.case_id);
    call.AddObject("party_sign_in_link", link_id);
    call.AddObject("token", used->token.id);
    call.AddObject("browser_session", row->id);
    storage::AuditRecord audit = call.AuditRow("OK");
    audit.token_id = used->token.id;
    return storage::AppendAudit(tx, audit).status();
  };
  if (status.ok()) status = store.Write(use);
  if (absl::IsUnauthenticated(status)) {
    status = RefuseUnauthenticated(store, kPartyLink, input, 0, status, outcome->call_id, now,
                                   &outcome->retry_after_seconds);
  } else if (absl::IsFailedPrecondition(status)) {
    call.AddObject("party_sign_in_link", link_id);
    (void)Audit(store, call.AuditRow(CodeName(status.code())));
  }
  LogCall({.method = kPartyLink.method, .transport = input.transport}, outcome->call_id,
          status.ok() ? signed_in.principal.Describe() : "anonymous", status, absl::Now() - start);
  if (!status.ok()) return Public(status, outcome->call_id);
  return signed_in;
}

absl::Status CallPipeline::SignOut(storage::Store& store, absl::string_view session,
                                   const CallInput& input, CallOutcome* outcome) {
  const absl::Time start = absl::Now();
  const absl::Time now = Now();
  outcome->call_id = NextCallId();
  std::string principal_text = "anonymous";
  absl::Status status;
  if (!session.empty()) {
    storage::BrowserSessionRecord found;
    status = store.Read([&](storage::Tx& tx) -> absl::Status {
      absl::StatusOr<storage::BrowserSessionRecord> s =
          storage::FindBrowserSession(tx, Sha256(session));
      if (!s.ok()) return s.status();
      found = *std::move(s);
      return absl::OkStatus();
    });
    if (absl::IsNotFound(status)) {
      status = absl::OkStatus();  // Nothing to end.
    } else if (status.ok()) {
      const Principal who{.token_id = found.token_id, .by_session = true};
      principal_text = who.Describe();
      CallContext call(store, kSignOut, who, outcome->call_id, now, settings_,
                       TransportName(input.transport));
      status = call.Write([&](storage::Tx& tx) -> absl::Status {
        call.AddObject("browser_session", found.id);
        return storage::EndBrowserSession(tx, found.id, now);
      });
      // Streams re-check their credentials when woken: the session's own end now.
      if (status.ok() && hub_ != nullptr) hub_->Notify();
    }
  }
  LogCall({.method = kSignOut.method, .transport = input.transport}, outcome->call_id,
          principal_text, status, absl::Now() - start);
  return Public(status, outcome->call_id);
}

absl::Status CallPipeline::Public(const absl::Status& status, const std::string& call_id) {
  if (status.ok()) return status;
  // DATA_LOSS from the services says which record is damaged, and nothing else: it passes.
  const bool internal_detail = storage::IsStorageError(status) ||
                               status.code() == absl::StatusCode::kInternal ||
                               status.code() == absl::StatusCode::kUnknown;
  if (!internal_detail) return absl::Status(status.code(), status.message());
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
  return absl::Status(status.code(), absl::StrCat(message, " (call id ", call_id, ")"));
}

absl::Status CallPipeline::Audit(storage::Store& store, const storage::AuditRecord& row) {
  absl::Status status = store.Write(
      [&](storage::Tx& tx) -> absl::Status { return storage::AppendAudit(tx, row).status(); });
  if (!status.ok()) {
    log_.Error(row.call_id, absl::StrCat("could not write the audit row: ", status.ToString()));
  }
  return status;
}

}  // namespace mediation

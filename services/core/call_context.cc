#include "services/core/call_context.h"

#include <google/protobuf/message.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "storage/audit.h"
#include "storage/idempotency.h"
#include "storage/tokens.h"

namespace mediation {

void CallContext::AddObject(absl::string_view kind, int64_t id) {
  const std::string word = absl::StrCat(kind, ":", id);
  if (absl::StrCat(" ", objects_, " ").find(absl::StrCat(" ", word, " ")) != std::string::npos) {
    return;
  }
  absl::StrAppend(&objects_, objects_.empty() ? "" : " ", word);
}

absl::Status CallContext::Write(const storage::TxFn& fn) {
  if (policy_.access != Access::kWrite) {
    return absl::InternalError(absl::StrCat(policy_.method, " is not a write method"));
  }
  if (audited_) {
    return absl::InternalError(absl::StrCat(policy_.method, " wrote twice in one call"));
  }
  // Objects named by a write that fails were never written: the refusal's audit row must not
  // name them (their ids will be reused).
  const std::string objects_before = objects_;
  std::unique_ptr<google::protobuf::Message> response_before;
  if (response_ != nullptr) {
    response_before.reset(response_->New());
    response_before->CopyFrom(*response_);
  }
  int runs = 0;
  absl::Status status = store_.Write([&](storage::Tx& tx) -> absl::Status {
    // The store may run this again after losing a race (PostgreSQL): nothing of a rolled-back
    // run stays named or answered.
    objects_ = objects_before;
    replayed_response_.reset();
    if (runs++ > 0 && response_before != nullptr) response_->CopyFrom(*response_before);
    if (absl::Status s = RecheckToken(tx); !s.ok()) return s;
    if (idempotency_.has_value()) {
      // A repeat that raced this call past ReplayIfRepeated and committed first.
      absl::StatusOr<bool> replayed = ReplayInTx(tx);
      if (!replayed.ok()) return replayed.status();
      if (*replayed) return absl::OkStatus();
    }
    if (absl::Status s = fn(tx); !s.ok()) return s;
    if (idempotency_.has_value()) {
      std::string response;
      if (!idempotency_->response->SerializeToString(&response)) {
        return absl::InternalError("could not serialise the response to keep it");
      }
      absl::Status kept =
          storage::InsertIdempotentCall(tx, {.token_id = principal_.token_id,
                                             .key = idempotency_->key,
                                             .method = std::string(policy_.method),
                                             .request_sha256 = idempotency_->request_sha256,
                                             .response = std::move(response),
                                             .created_at = now_});
      if (!kept.ok()) return kept;
    }
    return storage::AppendAudit(tx, AuditRow("OK")).status();
  });
  if (status.ok()) {
    audited_ = true;
  } else {
    objects_ = objects_before;
    replayed_response_.reset();
  }
  return status;
}

absl::Status CallContext::RecheckToken(storage::Tx& tx) const {
  // The token was checked before the call started; check again under the write lock, so a
  // token revoked meanwhile cannot still change anything.
  if (principal_.token_id == 0) return absl::OkStatus();
  absl::StatusOr<storage::TokenRecord> token = storage::GetToken(tx, principal_.token_id);
  if (!token.ok()) return token.status();
  if (token->revoked_at.has_value() ||
      (token->expires_at.has_value() && *token->expires_at <= now_)) {
    return absl::UnauthenticatedError(
        absl::StrCat("access token ", token->id, " was revoked or expired during the call"));
  }
  return absl::OkStatus();
}

void CallContext::MakeIdempotent(std::string key, std::string request_sha256,
                                 google::protobuf::Message* response) {
  idempotency_ = Idempotency{
      .key = std::move(key), .request_sha256 = std::move(request_sha256), .response = response};
}

absl::StatusOr<bool> CallContext::ReplayInTx(storage::Tx& tx) {
  absl::StatusOr<std::optional<storage::IdempotentCallRecord>> kept =
      storage::FindIdempotentCall(tx, principal_.token_id, idempotency_->key);
  if (!kept.ok()) return kept.status();
  if (!kept->has_value()) return false;
  const storage::IdempotentCallRecord& earlier = **kept;
  if (earlier.method != policy_.method || earlier.request_sha256 != idempotency_->request_sha256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key: this token already used the key '", idempotency_->key, "' at ",
        absl::FormatTime(absl::RFC3339_sec, earlier.created_at, absl::UTCTimeZone()),
        " for a different request", earlier.method != policy_.method ? " (another method)" : "",
        "; choose a new key for a new request"));
  }
  idempotency_->response->Clear();
  if (!idempotency_->response->ParseFromString(earlier.response)) {
    return absl::DataLossError(absl::StrCat("the response kept for idempotency key '",
                                            idempotency_->key, "' does not parse"));
  }
  absl::StatusOr<int64_t> row = storage::AppendAudit(tx, AuditRow("REPLAYED"));
  if (!row.ok()) return row.status();
  replayed_response_ = earlier.response;
  return true;
}

absl::StatusOr<bool> CallContext::ReplayIfRepeated() {
  if (!idempotency_.has_value()) {
    return absl::InternalError("ReplayIfRepeated needs MakeIdempotent first");
  }
  // A cheap read first: most keyed calls are not repeats, and need no write transaction here.
  bool kept = false;
  absl::Status looked = store_.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::optional<storage::IdempotentCallRecord>> found =
        storage::FindIdempotentCall(tx, principal_.token_id, idempotency_->key);
    if (!found.ok()) return found.status();
    kept = found->has_value();
    return absl::OkStatus();
  });
  if (!looked.ok()) return looked;
  if (!kept) return false;
  bool replayed = false;
  absl::Status status = store_.Write([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = RecheckToken(tx); !s.ok()) return s;
    absl::StatusOr<bool> r = ReplayInTx(tx);
    if (!r.ok()) return r.status();
    replayed = *r;
    return absl::OkStatus();
  });
  if (!status.ok()) {
    replayed_response_.reset();
    return status;
  }
  if (replayed) audited_ = true;
  return replayed;
}

storage::AuditRecord CallContext::AuditRow(absl::string_view outcome) const {
  storage::AuditRecord row;
  row.at = now_;
  row.call_id = call_id_;
  row.token_id = principal_.token_id;
  row.role = principal_.role;
  row.method = std::string(policy_.method);
  row.objects = objects_;
  row.outcome = std::string(outcome);
  row.transport = std::string(transport_);
  return row;
}

}  // namespace mediation

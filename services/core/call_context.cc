#include "services/core/call_context.h"

#include "absl/strings/str_cat.h"
#include "storage/audit.h"
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
  absl::Status status = store_.Write([&](storage::Tx& tx) -> absl::Status {
    // The token was checked before the call started; check again under the write lock, so a
    // token revoked meanwhile cannot still change anything.
    if (principal_.token_id != 0) {
      absl::StatusOr<storage::TokenRecord> token = storage::GetToken(tx, principal_.token_id);
      if (!token.ok()) return token.status();
      if (token->revoked_at.has_value() ||
          (token->expires_at.has_value() && *token->expires_at <= now_)) {
        return absl::UnauthenticatedError(
            absl::StrCat("access token ", token->id, " was revoked or expired during the call"));
      }
    }
    if (absl::Status s = fn(tx); !s.ok()) return s;
    return storage::AppendAudit(tx, AuditRow("OK")).status();
  });
  if (status.ok()) {
    audited_ = true;
  } else {
    objects_ = objects_before;
  }
  return status;
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
  return row;
}

}  // namespace mediation

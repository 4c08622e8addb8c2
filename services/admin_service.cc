#include "services/admin_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/convert.h"
#include "services/core/key_rotation.h"
#include "services/core/paging.h"
#include "services/core/secrets.h"
#include "services/core/validation.h"
#include "services/person_export.h"
#include "storage/audit.h"
#include "storage/backup.h"
#include "storage/cases.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/mediators.h"
#include "storage/organisations.h"
#include "storage/tokens.h"

namespace mediation {
namespace {

constexpr size_t kMaxLabel = 200;

// Checks the token's bindings against its role: each role takes exactly its own bindings.
void ValidateBindings(Validator& v, const v1::IssueTokenRequest& r) {
  const v1::Role role = r.role();
  auto only_for = [&](absl::string_view field, int64_t value, bool wanted, absl::string_view who) {
    if (wanted) {
      v.PositiveId(field, value);
    } else if (value != 0) {
      v.Fail(field, absl::StrCat("only ", who, " tokens are bound to one"));
    }
  };
  only_for("mediator_id", r.mediator_id(), role == v1::ROLE_MEDIATOR, "MEDIATOR");
  only_for("organisation_id", r.organisation_id(), role == v1::ROLE_ORGANISATION, "ORGANISATION");
  only_for("case_id", r.case_id(), role == v1::ROLE_PARTY, "PARTY");
  only_for("party_id", r.party_id(), role == v1::ROLE_PARTY, "PARTY");
}

absl::Status IssueToken(CallContext& call, const v1::IssueTokenRequest& request,
                        v1::IssueTokenResponse& response) {
  Validator v;
  v.Enum("role", request.role(), v1::Role_IsValid, /*required=*/true);
  storage::TokenRecord token;
  token.label = v.RequiredLine("label", request.label(), kMaxLabel);
  ValidateBindings(v, request);
  if (request.has_expires_at() &&
      v.Timestamp("expires_at", request.expires_at().seconds(), request.expires_at().nanos())) {
    token.expires_at = FromProto(request.expires_at());
    if (*token.expires_at <= call.now()) v.Fail("expires_at", "must be in the future");
  }
  if (!v.ok()) return v.status();

  absl::StatusOr<std::string> secret = NewTokenSecret();
  if (!secret.ok()) return secret.status();
  token.sha256 = Sha256(*secret);
  token.role = request.role();
  token.mediator_id = request.mediator_id();
  token.organisation_id = request.organisation_id();
  token.case_id = request.case_id();
  token.party_id = request.party_id();
  token.created_at = call.now();
  token.issued_by_token_id = call.principal().token_id;

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    if (token.organisation_id != 0) {
      absl::StatusOr<storage::OrganisationRecord> org =
          storage::GetOrganisation(tx, token.organisation_id);
      if (absl::IsNotFound(org.status())) {
        return FieldError("organisation_id",
                          absl::StrCat("no organisation ", token.organisation_id));
      }
      if (!org.ok()) return org.status();
    }
    if (token.mediator_id != 0) {
      absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, token.mediator_id);
      if (absl::IsNotFound(m.status())) {
        return FieldError("mediator_id", absl::StrCat("no mediator ", token.mediator_id,
                                                      "; register the mediator first"));
      }
      if (!m.ok()) return m.status();
    }
    if (token.case_id != 0) {
      absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, token.case_id);
      if (absl::IsNotFound(c.status())) {
        return FieldError("case_id", absl::StrCat("no case ", token.case_id));
      }
      if (!c.ok()) return c.status();
      const bool party_in_case = std::any_of(c->parties.begin(), c->parties.end(),
                                             [&](const auto& p) { return p.id == token.party_id; });
      if (!party_in_case) {
        return FieldError("party_id", absl::StrCat("party ", token.party_id,
                                                   " is not a party of case ", token.case_id));
      }
      call.AddObject("case", token.case_id);
    }
    absl::StatusOr<storage::TokenRecord> stored = storage::InsertToken(tx, token);
    if (!stored.ok()) return stored.status();
    call.AddObject("token", stored->id);
    ToProto(*stored, response.mutable_token());
    response.set_secret(*secret);
    return absl::OkStatus();
  });
}

absl::Status ListTokens(CallContext& call, const v1::ListTokensRequest& request,
                        v1::ListTokensResponse& response) {
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListTokens", request.page_size(), request.page_token());
  if (!cursor.ok()) return cursor.status();
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::TokenRecord>> tokens =
        storage::ListTokens(tx, request.include_inactive(), call.now(), *cursor);
    if (!tokens.ok()) return tokens.status();
    response.set_next_page_token(
        FinishPage("ListTokens", *cursor, *tokens, [](const auto& t) { return t.id; }));
    for (const storage::TokenRecord& t : *tokens) ToProto(t, response.add_tokens());
    return absl::OkStatus();
  });
}

absl::Status RevokeToken(CallContext& call, const v1::RevokeTokenRequest& request,
                         v1::RevokeTokenResponse& response) {
  Validator v;
  v.PositiveId("token_id", request.token_id());
  if (!v.ok()) return v.status();
  call.AddObject("token", request.token_id());
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::TokenRecord> token = storage::GetToken(tx, request.token_id());
    if (!token.ok()) return token.status();
    if (token->revoked_at.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("token ", token->id, " is already revoked"));
    }
    const bool active = !token->expires_at.has_value() || *token->expires_at > call.now();
    if (token->role == v1::ROLE_ADMIN && active) {
      absl::StatusOr<int64_t> admins = storage::CountActiveTokens(tx, v1::ROLE_ADMIN, call.now());
      if (!admins.ok()) return admins.status();
      if (*admins <= 1) {
        return absl::FailedPreconditionError(absl::StrCat(
            "token ", token->id,
            " is the last active ADMIN token; issue another ADMIN token before revoking it"));
      }
    }
    if (absl::Status s = storage::SetTokenRevoked(tx, token->id, call.now()); !s.ok()) return s;
    token->revoked_at = call.now();
    ToProto(*token, response.mutable_token());
    return absl::OkStatus();
  });
}

// An audit object filter is one "kind:id" word, e.g. "case:12".
bool IsObjectWord(absl::string_view word) {
  std::vector<absl::string_view> parts = absl::StrSplit(word, ':');
  int64_t id = 0;
  return parts.size() == 2 && !parts[0].empty() &&
         std::all_of(parts[0].begin(), parts[0].end(),
                     [](char c) { return absl::ascii_islower(c) || c == '_'; }) &&
         absl::SimpleAtoi(parts[1], &id) && id > 0;
}

absl::Status ListAuditEvents(CallContext& call, const v1::ListAuditEventsRequest& request,
                             v1::ListAuditEventsResponse& response) {
  Validator v;
  if (request.token_id() < 0) v.Fail("token_id", "must be a positive id, or 0 for every token");
  if (!request.object().empty() && !IsObjectWord(request.object())) {
    v.Fail("object", "expected one object written as kind:id, e.g. case:12");
  }
  if (!v.ok()) return v.status();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListAuditEvents", request.page_size(), request.page_token());
  if (!cursor.ok()) return cursor.status();
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    storage::AuditFilter filter{.token_id = request.token_id(), .object = request.object()};
    absl::StatusOr<std::vector<storage::AuditRecord>> rows =
        storage::ListAudit(tx, filter, *cursor);
    if (!rows.ok()) return rows.status();
    response.set_next_page_token(
        FinishPage("ListAuditEvents", *cursor, *rows, [](const auto& r) { return r.id; }));
    for (const storage::AuditRecord& r : *rows) ToProto(r, response.add_events());
    return absl::OkStatus();
  });
}

absl::Status VerifyAuditChain(CallContext& call, const v1::VerifyAuditChainRequest&,
                              v1::VerifyAuditChainResponse& response) {
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::ChainCheck> check = storage::VerifyAuditChain(tx);
    if (!check.ok()) return check.status();
    response.set_intact(check->intact);
    response.set_rows_checked(check->rows);
    response.set_first_broken_row(check->first_broken);
    response.set_problem(check->problem);
    response.set_head_hash(check->head_hash);
    return absl::OkStatus();
  });
}

constexpr size_t kMaxBackupLabel = 64;

absl::Status BackupDatabase(CallContext& call, const v1::BackupDatabaseRequest& request,
                            v1::BackupDatabaseResponse& response) {
  Validator v;
  const std::string label = storage::SanitizeBackupLabel(request.label());
  if (request.label().size() > kMaxBackupLabel) {
    v.Fail("label", absl::StrCat("at most ", kMaxBackupLabel, " characters"));
  } else if (!request.label().empty() && label.empty()) {
    v.Fail("label", "needs at least one letter or digit (or leave it out)");
  }
  if (!v.ok()) return v.status();

  absl::StatusOr<storage::BackupFile> file;
  absl::Status copied = call.Read([&](storage::Tx& tx) -> absl::Status {
    file = storage::BackupDatabase(tx, {.dir = call.settings().backup_dir,
                                        .label = label,
                                        .taken_at = call.now(),
                                        .busy_limit = call.settings().backup_busy_limit});
    return file.status();
  });
  if (!copied.ok()) {
    if (file.ok()) storage::RemoveBackup(file->path);  // Made, but its transaction failed.
    return copied;
  }
  // The backup is answered only once it is on the record: the audit row is committed by this
  // (otherwise empty) write, and a backup whose row cannot be written does not stand.
  absl::Status audited = call.Write([](storage::Tx&) { return absl::OkStatus(); });
  if (!audited.ok()) {
    storage::RemoveBackup(file->path);
    return audited;
  }
  response.set_file_name(file->file_name);
  response.set_path(file->path);
  response.set_size_bytes(file->size_bytes);
  response.set_page_count(file->page_count);
  response.set_schema_version(file->schema_version);
  ToProto(call.now(), response.mutable_snapshot_at());
  response.set_sha256(file->sha256_hex);
  return absl::OkStatus();
}

void RotationToProto(const storage::KeyRotationRecord& r, const KeyRotationControl& control,
                     v1::KeyRotation* out) {
  out->set_id(r.id);
  out->set_from_master_key(r.from_master_key_id);
  out->set_to_master_key(r.to_master_key_id);
  mediation::ToProto(r.started_at, out->mutable_started_at());
  if (r.completed_at) mediation::ToProto(*r.completed_at, out->mutable_completed_at());
  out->set_keys_total(r.keys_total);
  out->set_keys_rewrapped(r.keys_rewrapped);
  out->set_keys_damaged(r.keys_damaged);
  // While it runs the new key is in the next-key file; afterwards, where the old one was.
  out->set_new_key_file(r.completed_at ? control.KeyFile() : control.NextKeyFile());
  out->set_retired_key_file(control.RetiredKeyFile(r.from_master_key_id));
}

absl::Status RotateMasterKey(CallContext& call, const v1::RotateMasterKeyRequest& request,
                             v1::RotateMasterKeyResponse& response) {
  KeyRotationControl* control = call.settings().key_rotation;
  if (control == nullptr) return absl::UnimplementedError("this server cannot rotate its key");
  absl::StatusOr<KeyRotationControl::PreparedKey> prepared =
      control->Prepare(request.new_key_file());
  if (!prepared.ok()) return prepared.status();
  absl::StatusOr<storage::KeyRotationRecord> rotation;
  absl::Status begun = call.Write([&](storage::Tx& tx) -> absl::Status {
    rotation = storage::BeginKeyRotation(tx, prepared->key, call.principal().token_id, call.now());
    if (!rotation.ok()) return rotation.status();
    call.AddObject("key_rotation", rotation->id);
    call.AddObject("master_key", rotation->to_master_key_id);
    return absl::OkStatus();
  });
  if (!begun.ok()) {
    storage::Wipe(prepared->key);
    control->Abandon();
    return begun;
  }
  RotationToProto(*rotation, *control, response.mutable_rotation());
  control->Launch(*rotation, std::move(prepared->key));
  return absl::OkStatus();
}

absl::Status GetKeyRotation(CallContext& call, const v1::GetKeyRotationRequest&,
                            v1::GetKeyRotationResponse& response) {
  KeyRotationControl* control = call.settings().key_rotation;
  if (control == nullptr) return absl::UnimplementedError("this server cannot rotate its key");
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::optional<storage::KeyRotationRecord>> latest =
        storage::LatestKeyRotation(tx);
    if (!latest.ok()) return latest.status();
    if (latest->has_value()) RotationToProto(**latest, *control, response.mutable_rotation());
    return absl::OkStatus();
  });
}

absl::Status ExportPersonData(CallContext& call, const v1::ExportPersonDataRequest& request,
                              v1::ExportPersonDataResponse& response) {
  Validator v;
  const std::string email = v.RequiredText("email", request.email(), 254);
  if (!v.ok()) return v.status();
  if (email.find('@') == std::string::npos) {
    return FieldError("email", "an email address, such as alex.morgan@example.nhs.uk");
  }
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = BuildPersonExport(tx, email, call.now(), response); !s.ok()) return s;
    // The audit row says whose records left, by id (never the address).
    for (const v1::PartyRecordExport& p : response.as_party()) {
      call.AddObject("case", p.case_id());
      call.AddObject("party", p.party().id());
    }
    for (const v1::ReferrerRecordExport& r : response.as_referrer()) {
      call.AddObject("case", r.case_id());
    }
    for (const v1::Organisation& o : response.as_organisation_contact()) {
      call.AddObject("organisation", o.id());
    }
    if (response.has_as_mediator()) call.AddObject("mediator", response.as_mediator().id());
    return absl::OkStatus();
  });
}

absl::Status WhoAmI(CallContext& call, const v1::WhoAmIRequest&, v1::WhoAmIResponse& response) {
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::TokenRecord> token = storage::GetToken(tx, call.principal().token_id);
    if (!token.ok()) return token.status();
    ToProto(*token, response.mutable_token());
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(AdminService, IssueToken)

MEDIATION_UNARY_RPC(AdminService, ListTokens)

MEDIATION_UNARY_RPC(AdminService, RevokeToken)

MEDIATION_UNARY_RPC(AdminService, ListAuditEvents)
MEDIATION_UNARY_RPC(AdminService, VerifyAuditChain)
MEDIATION_UNARY_RPC(AdminService, BackupDatabase)
MEDIATION_UNARY_RPC(AdminService, RotateMasterKey)
MEDIATION_UNARY_RPC(AdminService, GetKeyRotation)
MEDIATION_UNARY_RPC(AdminService, ExportPersonData)

MEDIATION_SERVICE(AdminService)

MEDIATION_UNARY_RPC(IdentityService, WhoAmI)

MEDIATION_SERVICE(IdentityService)

}  // namespace mediation

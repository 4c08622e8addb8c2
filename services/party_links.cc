#include "services/party_links.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/convert.h"
#include "services/core/secrets.h"
#include "storage/cases.h"
#include "storage/tokens.h"

namespace mediation {
namespace {

constexpr char kAskForANewLink[] =
    "ask the case support team for a new link (they can issue one from the case page)";

}  // namespace

v1::PartySignInLinkState PartyLinkState(const storage::PartyLinkRecord& link, absl::Time now) {
  if (link.used_at.has_value()) return v1::PARTY_SIGN_IN_LINK_STATE_USED;
  if (link.revoked_at.has_value()) return v1::PARTY_SIGN_IN_LINK_STATE_REPLACED;
  if (link.expires_at <= now) return v1::PARTY_SIGN_IN_LINK_STATE_EXPIRED;
  return v1::PARTY_SIGN_IN_LINK_STATE_ACTIVE;
}

void ToProto(const storage::PartyLinkRecord& link, absl::Time now, v1::PartySignInLink* out) {
  out->set_id(link.id);
  out->set_case_id(link.case_id);
  out->set_party_id(link.party_id);
  out->set_state(PartyLinkState(link, now));
  ToProto(link.issued_at, out->mutable_issued_at());
  ToProto(link.expires_at, out->mutable_expires_at());
  if (link.used_at.has_value()) ToProto(*link.used_at, out->mutable_used_at());
  if (link.revoked_at.has_value()) ToProto(*link.revoked_at, out->mutable_replaced_at());
  out->set_issued_by_token_id(link.issued_by_token_id);
  out->set_party_token_id(link.used_token_id);
}

absl::StatusOr<storage::PartyLinkRecord> IssuePartyLink(storage::Tx& tx,
                                                        storage::PartyLinkRecord link) {
  absl::StatusOr<std::vector<storage::PartyLinkRecord>> earlier =
      storage::ListPartyLinks(tx, link.case_id);
  if (!earlier.ok()) return earlier.status();
  for (const storage::PartyLinkRecord& e : *earlier) {
    if (e.party_id != link.party_id || e.used_token_id == 0) continue;
    absl::StatusOr<storage::TokenRecord> token = storage::GetToken(tx, e.used_token_id);
    if (!token.ok()) return token.status();
    if (token->revoked_at.has_value()) continue;
    if (absl::Status s = storage::SetTokenRevoked(tx, token->id, link.issued_at); !s.ok()) {
      return s;
    }
  }
  return storage::ReplacePartyLink(tx, std::move(link));
}

absl::StatusOr<UsedPartyLink> UsePartyLink(storage::Tx& tx, absl::string_view code, absl::Time now,
                                           absl::Duration token_lifetime, int64_t* link_id) {
  absl::StatusOr<storage::PartyLinkRecord> link = storage::FindPartyLink(tx, Sha256(code));
  if (absl::IsNotFound(link.status())) {
    return absl::UnauthenticatedError(kUnknownPartyLink);
  }
  if (!link.ok()) return link.status();
  *link_id = link->id;
  switch (PartyLinkState(*link, now)) {
    case v1::PARTY_SIGN_IN_LINK_STATE_USED:
      return absl::FailedPreconditionError(
          absl::StrCat("this sign-in link has already been used, and a link works only once: ",
                       kAskForANewLink));
    case v1::PARTY_SIGN_IN_LINK_STATE_REPLACED:
      return absl::FailedPreconditionError(absl::StrCat(
          "a newer sign-in link was issued for you, which replaces this one: use the newest link "
          "you were sent, or ",
          kAskForANewLink));
    case v1::PARTY_SIGN_IN_LINK_STATE_EXPIRED:
      return absl::FailedPreconditionError(absl::StrCat(
          "this sign-in link has expired (a link works for 72 hours): ", kAskForANewLink));
    default:
      break;
  }
  absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, link->case_id);
  if (!c.ok()) return c.status();
  const bool still_a_party = std::any_of(c->parties.begin(), c->parties.end(),
                                         [&](const auto& p) { return p.id == link->party_id; });
  if (c->anonymised_at.has_value() || !still_a_party) {
    return absl::FailedPreconditionError(
        "the case this link was for is closed and its records removed: contact the case support "
        "team if you need anything from it");
  }
  absl::StatusOr<std::string> secret = NewTokenSecret();  // Never kept: only the session is.
  if (!secret.ok()) return secret.status();
  absl::StatusOr<storage::TokenRecord> token = storage::InsertToken(
      tx, {.sha256 = Sha256(*secret),
           .role = v1::ROLE_PARTY,
           .label = absl::StrCat("Party ", link->party_id, " of case ", c->reference,
                                 " (sign-in link ", link->id, ")"),
           .case_id = link->case_id,
           .party_id = link->party_id,
           .created_at = now,
           .expires_at = now + token_lifetime,
           .revoked_at = std::nullopt,
           .issued_by_token_id = link->issued_by_token_id});
  if (!token.ok()) return token.status();
  if (absl::Status s = storage::MarkPartyLinkUsed(tx, link->id, now, token->id); !s.ok()) return s;
  link->used_at = now;
  link->used_token_id = token->id;
  return UsedPartyLink{.link = *std::move(link), .token = *std::move(token)};
}

}  // namespace mediation

#include "services/case_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/core/secrets.h"
#include "services/core/validation.h"
#include "services/notifications/notifier.h"
#include "services/party_links.h"
#include "services/rules/allocation.h"
#include "services/rules/lifecycle.h"
#include "services/rules/london.h"
#include "storage/cases.h"
#include "storage/data_keys.h"
#include "storage/mediators.h"
#include "storage/party_links.h"

namespace mediation {
namespace {

constexpr size_t kMaxReasonChars = 1000;

absl::Status HoldCase(CallContext& call, const v1::HoldCaseRequest& r,
                      v1::HoldCaseResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  const std::string reason = v.RequiredText("reason", r.reason(), kMaxReasonChars);
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::Status moved = MoveCase(tx, c,
                                  {.to = v1::CASE_STATE_ON_HOLD,
                                   .at = call.now(),
                                   .token_id = call.principal().token_id,
                                   .reason = reason,
                                   .held_from_state = c.state,
                                   .hold_reason = reason});
    if (!moved.ok()) return moved;
    response.set_state(c.state);
    response.set_held_from_state(c.held_from_state);
    return absl::OkStatus();
  });
}

absl::Status ResumeCase(CallContext& call, const v1::ResumeCaseRequest& r,
                        v1::ResumeCaseResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  const std::string reason = v.OptionalText("reason", r.reason(), kMaxReasonChars);
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (c.state != v1::CASE_STATE_ON_HOLD) {
      return absl::FailedPreconditionError(absl::StrCat(
          "case ", c.id, " is ", v1::CaseState_Name(c.state), ", not ON_HOLD: nothing to resume"));
    }
    absl::Status moved = MoveCase(tx, c,
                                  {.to = c.held_from_state,
                                   .at = call.now(),
                                   .token_id = call.principal().token_id,
                                   .reason = reason.empty() ? "resumed" : reason});
    if (!moved.ok()) return moved;
    response.set_state(c.state);
    return absl::OkStatus();
  });
}

absl::Status WithdrawCase(CallContext& call, const v1::WithdrawCaseRequest& r,
                          v1::WithdrawCaseResponse& response) {
  const Principal& who = call.principal();
  Validator v;
  v.PositiveId("case_id", r.case_id());
  v.Enum("withdrawn_by", r.withdrawn_by(), v1::WithdrawnBy_IsValid, /*required=*/false);
  // Mediation is voluntary: a party need not say why it stops.
  const std::string reason = who.role == v1::ROLE_PARTY
                                 ? v.OptionalText("reason", r.reason(), kMaxReasonChars)
                                 : v.RequiredText("reason", r.reason(), kMaxReasonChars);
  // Who withdrew comes from the token where the token says it.
  v1::WithdrawnBy by = r.withdrawn_by();
  const v1::WithdrawnBy implied = who.role == v1::ROLE_ORGANISATION ? v1::WITHDRAWN_BY_ORGANISATION
                                  : who.role == v1::ROLE_PARTY      ? v1::WITHDRAWN_BY_PARTY
                                                                    : v1::WITHDRAWN_BY_UNSPECIFIED;
  if (implied != v1::WITHDRAWN_BY_UNSPECIFIED) {
    if (by != v1::WITHDRAWN_BY_UNSPECIFIED && by != implied) {
      v.Fail("withdrawn_by", absl::StrCat("a ", v1::Role_Name(who.role), " token withdraws as ",
                                          v1::WithdrawnBy_Name(implied)));
    }
    by = implied;
  } else if (by == v1::WITHDRAWN_BY_UNSPECIFIED) {
    v.Fail("withdrawn_by", "required: say who asked for the withdrawal");
  }
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    std::string history_reason = reason;
    if (who.role == v1::ROLE_PARTY) {
      history_reason = absl::StrCat("withdrawn by party ", who.party_id,
                                    reason.empty() ? " (no reason given)" : ": ", reason);
    }
    absl::Status moved = MoveCase(tx, c,
                                  {.to = v1::CASE_STATE_WITHDRAWN,
                                   .at = call.now(),
                                   .token_id = who.token_id,
                                   .reason = history_reason,
                                   .withdrawn_by = by,
                                   .withdrawal_reason = reason});
    if (!moved.ok()) return moved;
    response.set_state(c.state);
    return absl::OkStatus();
  });
}

absl::Status ReopenCase(CallContext& call, const v1::ReopenCaseRequest& r,
                        v1::ReopenCaseResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  const std::string reason = v.RequiredText("reason", r.reason(), kMaxReasonChars);
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<v1::CaseState> target = rules::ReopenTarget(c.state);
    if (!target.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.id, ": ", target.status().message()));
    }
    if (c.anonymised_at.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.id,
                       ": its personal data was removed at the end of retention, so it cannot be "
                       "reopened; refer it again as a new case"));
    }
    const absl::Duration period = call.settings().reopen_period;
    if (!c.finished_at.has_value() || *c.finished_at + period < call.now()) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.id, " finished more than ", absl::ToInt64Hours(period) / 24,
                       " days ago (the reopening period); refer it again as a new case"));
    }
    std::string history = absl::StrCat("reopened: ", reason);
    if (*target == v1::CASE_STATE_FOLLOW_UP) {
      // The same mediators hold the review again: each must still be active.
      absl::StatusOr<std::vector<int64_t>> mediators = AcceptedMediators(tx, c.id);
      if (!mediators.ok()) return mediators.status();
      for (int64_t id : *mediators) {
        absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, id);
        if (!m.ok()) return m.status();
        if (!m->active) {
          return absl::FailedPreconditionError(absl::StrCat(
              "case ", c.id, ": its mediator ", id,
              " is no longer active, and a reopened case goes back to its own mediators; "
              "reactivate them (MediatorService.UpdateMediator) or refer the case again"));
        }
      }
      // The next review replaces the last one's record: the history keeps the earlier one.
      if (c.reviewed_at.has_value()) {
        absl::StrAppend(&history, " (the earlier follow-up review was recorded on ",
                        rules::FormatDay(rules::LondonDay(*c.reviewed_at)),
                        c.review_notes.empty() ? "" : ": ", c.review_notes, ")");
      }
    }
    const v1::CaseState from = c.state;
    absl::Status moved = MoveCase(tx, c,
                                  {.to = *target,
                                   .at = call.now(),
                                   .token_id = call.principal().token_id,
                                   .reason = history,
                                   .reopening = true});
    if (!moved.ok()) return moved;
    if (*target == v1::CASE_STATE_FOLLOW_UP) {
      if (absl::Status s = storage::ClearReview(tx, c.id); !s.ok()) return s;
    }
    // Notes destroyed when the case finished stay destroyed (their sealed text is gone); new
    // ones get a new key.
    if (absl::Status s = storage::ForgetDestroyedDataKey(tx, storage::KeyPurpose::kNotes, c.id);
        !s.ok()) {
      return s;
    }
    response.set_state(c.state);
    response.set_reopened_from(from);
    return absl::OkStatus();
  });
}

absl::Status GetCaseHistory(CallContext& call, const v1::GetCaseHistoryRequest& r,
                            v1::GetCaseHistoryResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<std::vector<storage::HistoryRecord>> history = storage::CaseHistory(tx, c.id);
    if (!history.ok()) return history.status();
    // An organisation sees what happened and when, not why or by whom: reasons can hold health
    // or party detail, and who withdrew is not theirs to know.
    const bool redact = call.principal().role == v1::ROLE_ORGANISATION;
    const Principal& who = call.principal();
    const bool mediator = who.role == v1::ROLE_MEDIATOR;
    // Once the case has ended, why it was held, withdrawn or changed stays with the service's
    // staff: a mediator still sees what happened and when.
    const bool reasons = !redact && !(mediator && rules::IsTerminal(c.state));
    for (const storage::HistoryRecord& h : *history) {
      const bool allocation = h.kind == storage::HistoryRecord::Kind::kAllocation;
      const bool own = allocation && h.mediator_id == who.mediator_id;
      // Offers and declines are the service's business: an organisation sees only that
      // mediators were allocated (the state change); a mediator sees its own offers and its
      // partner's acceptance, not who else was asked or why they declined.
      if (allocation && redact) continue;
      if (allocation && mediator && !own && h.allocation_state != v1::ALLOCATION_STATE_ACCEPTED) {
        continue;
      }
      const bool by_caller = h.token_id == who.token_id;
      v1::CaseHistoryEntry* e = response.add_entries();
      ToProto(h.at, e->mutable_at());
      if (!redact) {
        // Who acted (even by role) would tell an organisation that a party withdrew.
        e->set_role(h.role);
        if (!mediator || by_caller) {
          e->set_token_id(h.token_id);
          e->set_actor(h.actor);
        }
      }
      switch (h.kind) {
        case storage::HistoryRecord::Kind::kStateChange: {
          v1::StateChange* s = e->mutable_state_change();
          s->set_from_state(h.from);
          s->set_to_state(h.to);
          if (reasons) {
            s->set_reason(h.reason);
            ToProto(h.withheld, e->mutable_withheld());
          }
          break;
        }
        case storage::HistoryRecord::Kind::kReferralRevision: {
          v1::ReferralRevision* rev = e->mutable_referral_revision();
          rev->set_revision(h.revision);
          for (const std::string& f : h.changed_fields) rev->add_changed_fields(f);
          if (reasons) rev->set_reason(h.reason);
          ToProto(h.withheld, e->mutable_withheld(),
                  reasons ? std::initializer_list<absl::string_view>{}
                          : std::initializer_list<absl::string_view>{"reason"});
          break;
        }
        case storage::HistoryRecord::Kind::kAllocation: {
          v1::AllocationChange* a = e->mutable_allocation_change();
          a->set_allocation_id(h.allocation_id);
          a->set_mediator_id(h.mediator_id);
          a->set_role(h.allocation_role);
          a->set_state(h.allocation_state);
          if ((own && reasons) || !mediator) {
            a->set_note(h.reason);
            ToProto(h.withheld, e->mutable_withheld());
          }
          break;
        }
      }
    }
    return absl::OkStatus();
  });
}

absl::Status IssuePartySignInLink(CallContext& call, const v1::IssuePartySignInLinkRequest& r,
                                  v1::IssuePartySignInLinkResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  v.PositiveId("party_id", r.party_id());
  if (!v.ok()) return v.status();
  absl::StatusOr<std::string> code = NewRandomCode();
  if (!code.ok()) return code.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    const bool in_case = std::any_of(c.parties.begin(), c.parties.end(),
                                     [&](const auto& p) { return p.id == r.party_id(); });
    if (!in_case) {
      return FieldError("party_id",
                        absl::StrCat("party ", r.party_id(), " is not a party of case ", c.id));
    }
    if (c.anonymised_at.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.id,
                       ": its personal data was removed at the end of retention, so its parties "
                       "cannot sign in"));
    }
    storage::PartyLinkRecord fresh;
    fresh.code_sha256 = Sha256(*code);
    fresh.case_id = c.id;
    fresh.party_id = r.party_id();
    fresh.issued_by_token_id = call.principal().token_id;
    fresh.issued_at = call.now();
    fresh.expires_at = call.now() + kPartyLinkLifetime;
    absl::StatusOr<storage::PartyLinkRecord> link = IssuePartyLink(tx, std::move(fresh));
    if (!link.ok()) return link.status();
    call.AddObject("party_sign_in_link", link->id);
    ToProto(*link, call.now(), response.mutable_link());
    response.set_code(*code);
    response.set_path(absl::StrCat(kPartyLinkPath, *code));
    if (const notifications::Notifier* notifier = call.settings().notifier) {
      return notifier->PartySignInLink(tx, c, r.party_id(), response.path(), link->expires_at,
                                       call.now());
    }
    return absl::OkStatus();
  });
}

absl::Status ListPartySignInLinks(CallContext& call, const v1::ListPartySignInLinksRequest& r,
                                  v1::ListPartySignInLinksResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<std::vector<storage::PartyLinkRecord>> links = storage::ListPartyLinks(tx, c.id);
    if (!links.ok()) return links.status();
    for (const storage::PartyLinkRecord& link : *links) {
      ToProto(link, call.now(), response.add_links());
    }
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(CaseService, HoldCase)

MEDIATION_UNARY_RPC(CaseService, ResumeCase)

MEDIATION_UNARY_RPC(CaseService, WithdrawCase)

MEDIATION_UNARY_RPC(CaseService, ReopenCase)

MEDIATION_UNARY_RPC(CaseService, GetCaseHistory)

MEDIATION_UNARY_RPC(CaseService, IssuePartySignInLink)

MEDIATION_UNARY_RPC(CaseService, ListPartySignInLinks)

MEDIATION_SERVICE(CaseService)

}  // namespace mediation

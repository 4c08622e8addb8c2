#include "services/agreement_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/agreement_content.h"
#include "services/case_access.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/notifications/notifier.h"
#include "services/rules/london.h"
#include "storage/agreements.h"
#include "storage/cases.h"

namespace mediation {
namespace {

constexpr int kDefaultReviewDays = 91;  // About three months.

// Whether every party of the case signed `v`, each naming its content hash.
bool AllPartiesSigned(const storage::AgreementVersionRecord& v, const storage::CaseRecord& c) {
  return std::all_of(c.parties.begin(), c.parties.end(), [&](const auto& p) {
    return std::any_of(v.signatures.begin(), v.signatures.end(), [&](const auto& s) {
      return s.party_id == p.id && s.content_hash == v.content_hash;
    });
  });
}

// Agreements are drafted and signed while the case is in mediation: not before sessions are
// booked, not on hold, and never once the outcome is recorded (the outcome names the agreement
// as it then stood, so it is frozen; a change needs a new mediation).
absl::Status RequireAgreementsOpen(const storage::CaseRecord& c, absl::string_view what) {
  if (c.state == v1::CASE_STATE_OUTCOME_RECORDED || c.state == v1::CASE_STATE_FOLLOW_UP ||
      (c.state == v1::CASE_STATE_CLOSED && c.outcome != v1::OUTCOME_UNSPECIFIED)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "case ", c.id, " is ", v1::CaseState_Name(c.state),
        ": its outcome is recorded, so its agreement is frozen: no version can be ", what, " now"));
  }
  if (c.state != v1::CASE_STATE_SESSIONS_SCHEDULED && c.state != v1::CASE_STATE_IN_MEDIATION) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", c.id, " is ", v1::CaseState_Name(c.state), "; agreements are ", what,
                     " once sessions are booked, and not while the case is on hold or after it "
                     "is finished"));
  }
  return absl::OkStatus();
}

// The final version every party consented to share, if there is one (the latest final).
const storage::AgreementVersionRecord* SharedVersion(
    const std::vector<storage::AgreementVersionRecord>& versions, const storage::CaseRecord& c) {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (!it->finalised_at.has_value()) continue;
    const bool consented =
        AllPartiesSigned(*it, c) && std::all_of(it->signatures.begin(), it->signatures.end(),
                                                [](const auto& s) { return s.consent_to_share; });
    return consented ? &*it : nullptr;
  }
  return nullptr;
}

}  // namespace

absl::Status ToProto(const storage::AgreementVersionRecord& v, v1::AgreementVersion* out) {
  out->set_id(v.id);
  out->set_case_id(v.case_id);
  out->set_version(v.version);
  mediation::ToProto(v.withheld, out->mutable_withheld());
  absl::Status readable;
  if (v.withheld.empty()) {
    // What is shown is what was signed: the content must still match its hash, and every
    // signature must name that hash.
    const bool intact = AgreementContentHash(v.content) == v.content_hash &&
                        std::all_of(v.signatures.begin(), v.signatures.end(), [&](const auto& s) {
                          return s.content_hash == v.content_hash;
                        });
    if (!intact || !out->mutable_content()->ParseFromString(v.content)) {
      out->clear_content();
      v1::WithheldField* w = out->add_withheld();
      w->set_field("content");
      w->set_reason(v1::WITHHELD_REASON_UNREADABLE);
    }
  }
  for (const v1::WithheldField& w : out->withheld()) {
    if (w.reason() == v1::WITHHELD_REASON_UNREADABLE) {
      readable = absl::DataLossError(absl::StrCat(
          "agreement version ", v.id,
          " does not match its content hash or does not open: it was altered in the database; "
          "restore it from a backup"));
    }
  }
  out->set_content_hash(v.content_hash);
  mediation::ToProto(v.created_at, out->mutable_created_at());
  for (const auto& s : v.signatures) {
    v1::Signature* sig = out->add_signatures();
    sig->set_party_id(s.party_id);
    mediation::ToProto(s.signed_at, sig->mutable_signed_at());
    sig->set_on_paper(s.on_paper);
    sig->set_consent_to_share(s.consent_to_share);
  }
  out->set_final(v.finalised_at.has_value());
  return readable;
}

namespace {

absl::Status DraftAgreement(CallContext& call, const v1::DraftAgreementRequest& r,
                            v1::DraftAgreementResponse& response) {
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (absl::Status s = RequireAcceptedMediator(tx, call.principal(), c.id); !s.ok()) return s;
    if (absl::Status s = RequireAgreementsOpen(c, "drafted"); !s.ok()) return s;
    absl::StatusOr<v1::AgreementContent> content = ValidateAgreementContent(r.content(), c);
    if (!content.ok()) return content.status();
    if (r.has_expected_latest_version()) {
      absl::StatusOr<std::vector<storage::AgreementVersionRecord>> versions =
          storage::ListAgreementVersions(tx, c.id);
      if (!versions.ok()) return versions.status();
      const int latest = versions->empty() ? 0 : versions->back().version;
      if (latest != r.expected_latest_version()) {
        return absl::AbortedError(
            absl::StrCat("version ", latest, " of the agreement was saved since you read ",
                         r.expected_latest_version() == 0
                             ? std::string("it (before any version)")
                             : absl::StrCat("version ", r.expected_latest_version()),
                         "; nothing is saved: read version ", latest, " and draft from it"));
      }
    }
    const std::string bytes = CanonicalAgreementContent(*content);
    storage::AgreementVersionRecord v{.case_id = c.id,
                                      .content = bytes,
                                      .content_hash = AgreementContentHash(bytes),
                                      .created_at = call.now(),
                                      .created_by_token_id = call.principal().token_id};
    absl::StatusOr<storage::AgreementVersionRecord> stored = storage::InsertAgreementVersion(tx, v);
    if (!stored.ok()) return stored.status();
    call.AddObject("agreement_version", stored->id);
    if (absl::Status s = ToProto(*stored, response.mutable_version()); !s.ok()) return s;
    if (const notifications::Notifier* notifier = call.settings().notifier) {
      return notifier->AgreementReady(tx, c.id, stored->version, call.now());
    }
    return absl::OkStatus();
  });
}

absl::Status GetAgreement(CallContext& call, const v1::GetAgreementRequest& r,
                          v1::GetAgreementResponse& response) {
  const Principal& who = call.principal();
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<std::vector<storage::AgreementVersionRecord>> versions =
        storage::ListAgreementVersions(tx, c.id);
    if (!versions.ok()) return versions.status();
    if (who.role == v1::ROLE_MEDIATOR) {
      if (absl::Status s = RequireAcceptedMediator(tx, who, c.id); !s.ok()) return s;
    }
    if (who.role == v1::ROLE_MEDIATOR || who.role == v1::ROLE_PARTY) {
      // Every version, one that cannot be shown marked as withheld.
      for (const auto& v : *versions) (void)ToProto(v, response.add_versions());
      return absl::OkStatus();
    }
    // Everyone else: only the final version every party agreed to share.
    const storage::AgreementVersionRecord* shared = SharedVersion(*versions, c);
    if (shared == nullptr) {
      // The caller's role may read a shared version; none is shared yet: a state, not a role.
      return absl::FailedPreconditionError(absl::StrCat(
          "the agreement of case ", c.id,
          " is confidential until every party signs a final version and consents to share it; "
          "none has yet"));
    }
    return ToProto(*shared, response.add_versions());
  });
}

absl::Status SignAgreement(CallContext& call, const v1::SignAgreementRequest& r,
                           v1::SignAgreementResponse& response) {
  const Principal& who = call.principal();
  Validator v;
  v.PositiveId("version_id", r.version_id());
  if (r.content_hash().empty()) v.Fail("content_hash", "required: the hash of the version read");
  if (who.role == v1::ROLE_PARTY && r.party_id() != 0 && r.party_id() != who.party_id) {
    v.Fail("party_id", "a PARTY token signs only for itself; leave it 0");
  }
  if (who.role == v1::ROLE_MEDIATOR && r.party_id() <= 0) {
    v.Fail("party_id", "required: the party whose paper signature is being recorded");
  }
  if (!v.ok()) return v.status();
  const int64_t party = who.role == v1::ROLE_PARTY ? who.party_id : r.party_id();
  call.AddObject("agreement_version", r.version_id());
  call.AddObject("party", party);
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("agreement version ", r.version_id(), " not found"));
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::AgreementVersionRecord> version =
        storage::GetAgreementVersion(tx, r.version_id());
    if (absl::IsNotFound(version.status())) return not_found;
    if (!version.ok()) return version.status();
    absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, who, version->case_id);
    if (absl::IsNotFound(c.status())) return not_found;
    if (!c.ok()) return c.status();
    call.AddObject("case", c->id);
    if (who.role == v1::ROLE_MEDIATOR) {
      if (absl::Status s = RequireAcceptedMediator(tx, who, c->id); !s.ok()) return s;
    }
    if (std::none_of(c->parties.begin(), c->parties.end(),
                     [&](const auto& p) { return p.id == party; })) {
      return FieldError("party_id",
                        absl::StrCat("party ", party, " is not a party of case ", c->id));
    }
    if (absl::Status s = RequireAgreementsOpen(*c, "signed"); !s.ok()) return s;
    absl::StatusOr<std::vector<storage::AgreementVersionRecord>> all =
        storage::ListAgreementVersions(tx, c->id);
    if (!all.ok()) return all.status();
    if (version->finalised_at.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", version->version, " is final: every party has signed it already"));
    }
    if (all->back().id != version->id) {
      return absl::FailedPreconditionError(
          absl::StrCat("version ", version->version, " is not the latest (version ",
                       all->back().version, " is); read it and sign that one"));
    }
    if (r.content_hash() != version->content_hash) {
      return absl::FailedPreconditionError(
          absl::StrCat("content_hash does not match version ", version->version,
                       ": the text signed is not the text stored; read it again"));
    }
    // A signature names text the server can still show: not one it cannot open, nor one
    // destroyed at the end of retention.
    v1::AgreementVersion shown;
    if (absl::Status s = ToProto(*version, &shown); !s.ok()) return s;
    if (shown.withheld_size() > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("version ", version->version,
                       "'s text was destroyed at the end of its retention "
                       "period; it can no longer be signed"));
    }
    absl::Status signed_now = storage::InsertSignature(tx, version->id,
                                                       {.party_id = party,
                                                        .content_hash = version->content_hash,
                                                        .signed_at = call.now(),
                                                        .token_id = who.token_id,
                                                        .on_paper = who.role == v1::ROLE_MEDIATOR,
                                                        .consent_to_share = r.consent_to_share()});
    if (!signed_now.ok()) return signed_now;
    absl::StatusOr<storage::AgreementVersionRecord> now =
        storage::GetAgreementVersion(tx, version->id);
    if (!now.ok()) return now.status();
    if (AllPartiesSigned(*now, *c)) {
      if (absl::Status s = storage::FinaliseAgreementVersion(tx, now->id, call.now()); !s.ok()) {
        return s;
      }
      now->finalised_at = call.now();
    }
    return ToProto(*now, response.mutable_version());
  });
}

absl::Status RecordOutcome(CallContext& call, const v1::RecordOutcomeRequest& r,
                           v1::RecordOutcomeResponse& response) {
  Validator v;
  v.Enum("outcome", r.outcome(), v1::Outcome_IsValid, true);
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (absl::Status s = RequireAcceptedMediator(tx, call.principal(), c.id); !s.ok()) return s;
    if (r.outcome() == v1::OUTCOME_FULL_AGREEMENT || r.outcome() == v1::OUTCOME_PARTIAL_AGREEMENT) {
      absl::StatusOr<std::vector<storage::AgreementVersionRecord>> versions =
          storage::ListAgreementVersions(tx, c.id);
      if (!versions.ok()) return versions.status();
      if (std::none_of(versions->begin(), versions->end(),
                       [](const auto& v) { return v.finalised_at.has_value(); })) {
        return absl::FailedPreconditionError(absl::StrCat(
            "case ", c.id, " has no agreement signed by every party; record ",
            v1::Outcome_Name(r.outcome()),
            " once the parties have signed, or record NO_AGREEMENT or ENDED_BY_MEDIATOR"));
      }
    }
    absl::Status moved =
        MoveCase(tx, c,
                 {.to = v1::CASE_STATE_OUTCOME_RECORDED,
                  .at = call.now(),
                  .token_id = call.principal().token_id,
                  .reason = absl::StrCat("outcome: ", v1::Outcome_Name(r.outcome()))});
    if (!moved.ok()) return moved;
    if (absl::Status s = storage::SetOutcome(tx, c.id, r.outcome(), call.now()); !s.ok()) return s;
    response.set_state(c.state);
    return absl::OkStatus();
  });
}

// A mediator of the case who accepted it, or case support.
absl::Status RequireMediatorOrCaseSupport(storage::Tx& tx, const Principal& who, int64_t case_id) {
  if (who.role == v1::ROLE_CASE_SUPPORT) return absl::OkStatus();
  return RequireAcceptedMediator(tx, who, case_id);
}

absl::Status ScheduleFollowUp(CallContext& call, const v1::ScheduleFollowUpRequest& r,
                              v1::ScheduleFollowUpResponse& response) {
  Validator v;
  std::optional<int32_t> day;
  if (r.has_review_date()) {
    day = DayFromProto(r.review_date());
    if (!day)
      v.Fail("review_date", "not a valid date");
    else if (*day < rules::LondonDay(call.now()))
      v.Fail("review_date", "must not be in the past");
  }
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (absl::Status s = RequireMediatorOrCaseSupport(tx, call.principal(), c.id); !s.ok())
      return s;
    // About three months after the outcome; never in the past (a late scheduling gets today).
    const int32_t review = day.value_or(
        std::max(rules::LondonDay(c.outcome_recorded_at.value_or(call.now())) + kDefaultReviewDays,
                 rules::LondonDay(call.now())));
    // In FOLLOW_UP already (a date moved, or a reopened case's next review): only the date.
    if (c.state != v1::CASE_STATE_FOLLOW_UP) {
      absl::Status moved = MoveCase(tx, c,
                                    {.to = v1::CASE_STATE_FOLLOW_UP,
                                     .at = call.now(),
                                     .token_id = call.principal().token_id,
                                     .reason = "follow-up review scheduled"});
      if (!moved.ok()) return moved;
    }
    if (absl::Status s = storage::SetReviewDate(tx, c.id, review); !s.ok()) return s;
    DayToProto(review, response.mutable_review_date());
    response.set_state(c.state);
    return absl::OkStatus();
  });
}

absl::Status RecordFollowUpReview(CallContext& call, const v1::RecordFollowUpReviewRequest& r,
                                  v1::RecordFollowUpReviewResponse& response) {
  Validator v;
  const std::string notes = v.OptionalText("notes", r.notes(), 4000);
  if (!v.ok()) return v.status();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (absl::Status s = RequireMediatorOrCaseSupport(tx, call.principal(), c.id); !s.ok())
      return s;
    if (c.state != v1::CASE_STATE_FOLLOW_UP) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.id, " is ", v1::CaseState_Name(c.state),
                       "; a follow-up review is recorded once one is scheduled (FOLLOW_UP)"));
    }
    absl::Status moved = MoveCase(tx, c,
                                  {.to = v1::CASE_STATE_CLOSED,
                                   .at = call.now(),
                                   .token_id = call.principal().token_id,
                                   .reason = "follow-up review held"});
    if (!moved.ok()) return moved;
    if (absl::Status s = storage::SetReviewed(tx, c.id, call.now(), notes); !s.ok()) return s;
    response.set_state(c.state);
    return absl::OkStatus();
  });
}

absl::Status GetOutcome(CallContext& call, const v1::GetOutcomeRequest& r,
                        v1::GetOutcomeResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (call.principal().role == v1::ROLE_MEDIATOR) {
      if (absl::Status s = RequireAcceptedMediator(tx, call.principal(), c.id); !s.ok()) return s;
    }
    response.set_outcome(c.outcome);
    if (c.outcome_recorded_at) {
      mediation::ToProto(*c.outcome_recorded_at, response.mutable_outcome_recorded_at());
    }
    if (c.review_date) DayToProto(*c.review_date, response.mutable_review_date());
    if (c.reviewed_at) mediation::ToProto(*c.reviewed_at, response.mutable_reviewed_at());
    const v1::Role role = call.principal().role;
    if (role == v1::ROLE_MEDIATOR || role == v1::ROLE_CASE_SUPPORT) {
      response.set_review_notes(c.review_notes);
      mediation::ToProto(c.withheld, response.mutable_withheld());
      for (int i = response.withheld_size() - 1; i >= 0; --i) {
        if (response.withheld(i).field() != "review_notes") {
          response.mutable_withheld()->DeleteSubrange(i, 1);
        }
      }
    }
    absl::StatusOr<std::vector<storage::AgreementVersionRecord>> versions =
        storage::ListAgreementVersions(tx, c.id);
    if (!versions.ok()) return versions.status();
    if (const auto* shared = SharedVersion(*versions, c)) {
      return ToProto(*shared, response.mutable_shared_agreement());
    }
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(AgreementService, DraftAgreement)
MEDIATION_UNARY_RPC(AgreementService, GetAgreement)
MEDIATION_UNARY_RPC(AgreementService, SignAgreement)
MEDIATION_UNARY_RPC(AgreementService, RecordOutcome)
MEDIATION_UNARY_RPC(AgreementService, ScheduleFollowUp)
MEDIATION_UNARY_RPC(AgreementService, RecordFollowUpReview)
MEDIATION_UNARY_RPC(AgreementService, GetOutcome)

MEDIATION_SERVICE(AgreementService)

}  // namespace mediation

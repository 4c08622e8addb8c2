#include "services/case_access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "storage/allocations.h"
#include "storage/cases.h"
#include "storage/organisations.h"
#include "storage/screening.h"

namespace mediation {

absl::StatusOr<bool> MayViewCase(storage::Tx& tx, const Principal& who,
                                 const storage::CaseRecord& c) {
  switch (who.role) {
    case v1::ROLE_CASE_SUPPORT:
    case v1::ROLE_SENIOR_ADVISER:
      return true;
    case v1::ROLE_ORGANISATION:
      return who.organisation_id == c.organisation_id;
    case v1::ROLE_PARTY:
      return who.case_id == c.id;
    case v1::ROLE_MEDIATOR:
      return storage::MediatorHoldsCase(tx, c.id, who.mediator_id);
    default:
      // ADMIN manages the service, not cases.
      return false;
  }
}

absl::Status CaseNotFound(int64_t case_id) {
  return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
}

absl::StatusOr<storage::CaseRecord> LoadCaseFor(storage::Tx& tx, const Principal& who,
                                                int64_t case_id) {
  absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, case_id);
  if (absl::IsNotFound(c.status())) return CaseNotFound(case_id);
  if (!c.ok()) return c.status();
  absl::StatusOr<bool> visible = MayViewCase(tx, who, *c);
  if (!visible.ok()) return visible.status();
  if (!*visible) return CaseNotFound(case_id);
  return c;
}

void ToCaseView(const Principal& who, const storage::CaseRecord& c,
                const std::optional<storage::ScreeningDecisionRecord>& decision, v1::Case* out) {
  if (who.role == v1::ROLE_PARTY) {
    out->set_id(c.id);
    out->set_reference(c.reference);
    out->set_state(c.state);
    return;
  }
  ToProto(c, out);
  if (decision.has_value()) {
    v1::ScreeningSummary* s = out->mutable_screening();
    s->set_decision(decision->decision);
    for (v1::Criterion criterion : decision->failed_criteria) s->add_failed_criteria(criterion);
    for (const std::string& sign : decision->signposting) s->add_signposting(sign);
    ToProto(decision->decided_at, s->mutable_decided_at());
    s->set_overridden(decision->overridden);
  }
  if (who.role == v1::ROLE_ORGANISATION) {
    out->clear_hold_reason();
    out->clear_withdrawn_by();
    out->clear_withdrawal_reason();
    out->clear_withheld();
    ToProto(c.withheld, out->mutable_withheld(),
            {"hold_reason", "withdrawal_reason", "review_notes"});
  }
}

namespace {

absl::Status OnCase(CallContext& call, int64_t case_id, bool write, CaseFn fn) {
  if (case_id <= 0) return FieldError("case_id", case_id == 0 ? "required" : "must be positive");
  call.AddObject("case", case_id);
  auto run = [&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, call.principal(), case_id);
    if (!c.ok()) return c.status();
    return fn(tx, *c);
  };
  return write ? call.Write(run) : call.Read(run);
}

}  // namespace

absl::Status ReadCase(CallContext& call, int64_t case_id, CaseFn fn) {
  return OnCase(call, case_id, /*write=*/false, fn);
}

absl::Status WriteCase(CallContext& call, int64_t case_id, CaseFn fn) {
  return OnCase(call, case_id, /*write=*/true, fn);
}

absl::StatusOr<std::vector<int64_t>> AcceptedMediators(storage::Tx& tx, int64_t case_id) {
  absl::StatusOr<std::vector<storage::AllocationRecord>> allocations =
      storage::ListAllocationsOfCase(tx, case_id, /*include_closed=*/false);
  if (!allocations.ok()) return allocations.status();
  std::vector<int64_t> out;
  for (const auto& a : *allocations) {
    if (a.state == v1::ALLOCATION_STATE_ACCEPTED) out.push_back(a.mediator_id);
  }
  return out;
}

absl::Status RequireAcceptedMediator(storage::Tx& tx, const Principal& who, int64_t case_id) {
  if (who.role == v1::ROLE_MEDIATOR) {
    absl::StatusOr<std::vector<int64_t>> accepted = AcceptedMediators(tx, case_id);
    if (!accepted.ok()) return accepted.status();
    if (std::find(accepted->begin(), accepted->end(), who.mediator_id) != accepted->end()) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("only the mediators who accepted case ", case_id, " may do this"));
}

// What a mediator sees of a case it has been offered but has not accepted: enough to recognise
// a conflict of interest (the organisation, the parties' names and professions), nothing of the
// conflict itself.
void ToOfferView(const storage::CaseRecord& c, v1::Case* out) {
  out->set_id(c.id);
  out->set_reference(c.reference);
  out->set_organisation_id(c.organisation_id);
  out->set_state(c.state);
  for (const storage::PartyRecord& p : c.parties) {
    v1::Party* party = out->add_parties();
    party->set_id(p.id);
    party->mutable_contact()->set_name(p.contact.name);
    party->set_profession(p.profession);
  }
}

namespace {

// The referring organisation's name, beside its id, where the view gives the id.
absl::Status AddOrganisationName(storage::Tx& tx, v1::Case* out) {
  if (out->organisation_id() == 0) return absl::OkStatus();
  absl::StatusOr<storage::OrganisationRecord> org =
      storage::GetOrganisation(tx, out->organisation_id());
  if (!org.ok()) return org.status();
  out->set_organisation_name(org->name);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteCaseView(storage::Tx& tx, const Principal& who, const storage::CaseRecord& c,
                           v1::Case* out) {
  if (who.role == v1::ROLE_MEDIATOR) {
    absl::StatusOr<std::vector<int64_t>> accepted = AcceptedMediators(tx, c.id);
    if (!accepted.ok()) return accepted.status();
    if (std::find(accepted->begin(), accepted->end(), who.mediator_id) == accepted->end()) {
      ToOfferView(c, out);
      return AddOrganisationName(tx, out);
    }
  }
  absl::StatusOr<std::optional<storage::ScreeningDecisionRecord>> decision =
      storage::LatestScreeningDecision(tx, c.id);
  if (!decision.ok()) return decision.status();
  ToCaseView(who, c, *decision, out);
  return AddOrganisationName(tx, out);
}

}  // namespace mediation

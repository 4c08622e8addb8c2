#include "services/referral_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/case_access.h"
#include "services/convert.h"
#include "services/core/paging.h"
#include "services/core/validation.h"
#include "services/referral_validation.h"
#include "services/rules/lifecycle.h"
#include "services/rules/slots.h"
#include "storage/cases.h"
#include "storage/organisations.h"
#include "storage/sessions.h"

namespace mediation {
namespace {

constexpr size_t kMaxReasonChars = 1000;

// What changed between two versions of a referral, as field paths for the history.
std::vector<std::string> ChangedFields(const storage::CaseRecord& before,
                                       const storage::CaseRecord& after) {
  std::vector<std::string> changed;
  if (!(before.referrer == after.referrer)) changed.push_back("referrer");
  if (before.summary != after.summary) changed.push_back("summary");
  if (before.concern_level != after.concern_level) changed.push_back("concern_level");
  if (before.concern_type != after.concern_type) changed.push_back("concern_type");
  for (const storage::PartyRecord& p : after.parties) {
    const storage::PartyRecord* old = nullptr;
    for (const storage::PartyRecord& b : before.parties) {
      if (b.id == p.id) old = &b;
    }
    if (old == nullptr) {
      changed.push_back(absl::StrCat("parties: added ", p.contact.name));
      continue;
    }
    auto differs = [&](absl::string_view field, bool different) {
      if (different) changed.push_back(absl::StrCat("parties[", p.id, "].", field));
    };
    differs("contact", !(old->contact == p.contact));
    differs("profession", old->profession != p.profession);
    differs("accessibility_needs", old->accessibility_needs != p.accessibility_needs);
    differs("access_needs", old->access_needs != p.access_needs);
    differs("bringing_companion", old->bringing_companion != p.bringing_companion);
    differs("typical_availability", old->typical_availability != p.typical_availability);
  }
  if (before.linked_case_references != after.linked_case_references) {
    changed.push_back("linked_case_references");
  }
  return changed;
}

absl::Status CreateReferral(CallContext& call, const v1::CreateReferralRequest& request,
                            v1::CreateReferralResponse& response) {
  const Principal& who = call.principal();
  int64_t organisation_id = request.organisation_id();
  if (who.role == v1::ROLE_ORGANISATION) {
    // An organisation refers only for itself: 0 means "my organisation".
    if (organisation_id == 0) organisation_id = who.organisation_id;
    if (organisation_id != who.organisation_id) {
      return absl::PermissionDeniedError(
          absl::StrCat("organisation_id: this token acts for organisation ", who.organisation_id,
                       " and may refer cases only for it"));
    }
  }
  Validator v;
  v.PositiveId("organisation_id", organisation_id);
  storage::CaseRecord c;
  ValidateReferralDetails(
      v,
      {request.referrer(), request.summary(), request.concern_level(), request.concern_type(),
       request.parties(), request.linked_case_references()},
      c);
  for (const storage::PartyRecord& p : c.parties) {
    if (p.id != 0) v.Fail("parties", "new parties have no id; leave it 0");
  }
  if (!v.ok()) return v.status();
  c.organisation_id = organisation_id;
  c.state = v1::CASE_STATE_REFERRED;
  c.created_at = call.now();
  c.updated_at = call.now();
  c.created_by_token_id = who.token_id;
  call.AddObject("organisation", c.organisation_id);

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::OrganisationRecord> org =
        storage::GetOrganisation(tx, c.organisation_id);
    if (absl::IsNotFound(org.status())) {
      return FieldError("organisation_id",
                        absl::StrCat("no organisation ", c.organisation_id, "; register it first"));
    }
    if (!org.ok()) return org.status();
    absl::StatusOr<storage::CaseRecord> stored = storage::InsertCase(tx, c);
    if (!stored.ok()) return stored.status();
    call.AddObject("case", stored->id);
    ToCaseView(who, *stored, std::nullopt, response.mutable_case_());
    response.mutable_case_()->set_organisation_name(org->name);
    return absl::OkStatus();
  });
}

// The parts of a referral an update mask may name (AIP-134).
constexpr absl::string_view kReferralParts[] = {
    "referrer", "summary", "concern_level", "concern_type", "parties", "linked_case_references"};

// The parts `mask` names (all of them for an empty mask or "*"); INVALID_ARGUMENT for another.
std::set<std::string> MaskedParts(Validator& v, const google::protobuf::FieldMask& mask) {
  std::set<std::string> parts;
  for (const std::string& path : mask.paths()) {
    if (path == "*") {
      parts.clear();
      break;
    }
    if (std::find(std::begin(kReferralParts), std::end(kReferralParts), path) ==
        std::end(kReferralParts)) {
      v.Fail("update_mask",
             absl::StrCat("'", path, "' is not a part of a referral; name ",
                          absl::StrJoin(kReferralParts, ", "), ", or \"*\" for all"));
      continue;
    }
    parts.insert(path);
  }
  if (parts.empty()) parts.insert(std::begin(kReferralParts), std::end(kReferralParts));
  return parts;
}

// The request with the parts the mask does not name taken from the stored case.
v1::UpdateReferralRequest Merged(const v1::UpdateReferralRequest& request,
                                 const std::set<std::string>& parts, const v1::Case& stored) {
  v1::UpdateReferralRequest merged = request;
  if (!parts.contains("referrer")) *merged.mutable_referrer() = stored.referrer();
  if (!parts.contains("summary")) merged.set_summary(stored.summary());
  if (!parts.contains("concern_level")) merged.set_concern_level(stored.concern_level());
  if (!parts.contains("concern_type")) merged.set_concern_type(stored.concern_type());
  if (!parts.contains("parties")) *merged.mutable_parties() = stored.parties();
  if (!parts.contains("linked_case_references")) {
    *merged.mutable_linked_case_references() = stored.linked_case_references();
  }
  return merged;
}

// A valid referral whose parts stand in for those a partial update does not name, so that the
// parts it names can be checked before the stored ones are read.
const v1::Case& StandIn() {
  static const v1::Case* const stand_in = [] {
    auto* c = new v1::Case;
    c->mutable_referrer()->set_name("Stand In");
    c->mutable_referrer()->set_email("referrer@stand-in.invalid");
    c->set_summary("stand-in");
    for (const char* email : {"one@stand-in.invalid", "two@stand-in.invalid"}) {
      v1::Party* p = c->add_parties();
      p->mutable_contact()->set_name("Stand In");
      p->mutable_contact()->set_email(email);
      p->set_profession(v1::PROFESSION_DOCTOR);
    }
    return c;
  }();
  return *stand_in;
}

void ValidateDetails(Validator& v, const v1::UpdateReferralRequest& r, storage::CaseRecord& out) {
  ValidateReferralDetails(v,
                          {r.referrer(), r.summary(), r.concern_level(), r.concern_type(),
                           r.parties(), r.linked_case_references()},
                          out);
}

absl::Status UpdateReferral(CallContext& call, const v1::UpdateReferralRequest& request,
                            v1::UpdateReferralResponse& response) {
  Validator v;
  v.PositiveId("case_id", request.case_id());
  if (request.expected_revision() <= 0) {
    v.Fail("expected_revision",
           "required: the case's revision as you read it (GetCase), so that a change made "
           "meanwhile is not overwritten");
  }
  const std::set<std::string> parts = MaskedParts(v, request.update_mask());
  const bool whole = parts.size() == std::size(kReferralParts);
  storage::CaseRecord updated;
  // The parts named are checked before anything is read (INVALID_ARGUMENT comes before
  // NOT_FOUND), the parts not named standing in with valid values; the merged referral is
  // checked again once the stored parts are known.
  if (whole) {
    ValidateDetails(v, request, updated);
  } else {
    storage::CaseRecord ignored;
    ValidateDetails(v, Merged(request, parts, StandIn()), ignored);
  }
  const std::string reason = v.RequiredText("reason", request.reason(), kMaxReasonChars);
  if (!v.ok()) return v.status();
  call.AddObject("case", request.case_id());

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseRecord> current =
        LoadCaseFor(tx, call.principal(), request.case_id());
    if (!current.ok()) return current.status();
    if (!whole) {
      v1::Case stored;
      ToProto(*current, &stored);
      Validator merged;
      ValidateDetails(merged, Merged(request, parts, stored), updated);
      if (!merged.ok()) return merged.status();
    }
    if (rules::IsTerminal(current->state)) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", current->id, " is ", v1::CaseState_Name(current->state),
                       "; a finished case's referral cannot change"));
    }
    if (request.expected_revision() != current->revision) {
      return absl::AbortedError(
          absl::StrCat("case ", current->id, " is at revision ", current->revision, ", not ",
                       request.expected_revision(), "; read it again and reapply your change"));
    }
    for (const storage::PartyRecord& existing : current->parties) {
      const bool kept = std::any_of(updated.parties.begin(), updated.parties.end(),
                                    [&](const auto& p) { return p.id == existing.id; });
      if (!kept) {
        return FieldError("parties", absl::StrCat("party ", existing.id,
                                                  " is missing; parties cannot be removed"));
      }
    }
    // Once screening is decided, changes that screening depends on would bypass it.
    if (current->state != v1::CASE_STATE_REFERRED && current->state != v1::CASE_STATE_SCREENING) {
      const bool adds_party = std::any_of(updated.parties.begin(), updated.parties.end(),
                                          [](const auto& p) { return p.id == 0; });
      if (adds_party || updated.concern_level != current->concern_level) {
        return absl::FailedPreconditionError(absl::StrCat(
            "case ", current->id, " is ", v1::CaseState_Name(current->state),
            ": its screening is decided, so parties cannot be added and the concern level "
            "cannot change; these need a new referral and screening"));
      }
    }
    // A text that cannot be read would be overwritten by whatever the client sent back for it
    // (it read as empty), losing it for good where a backup might still restore it.
    if (!current->withheld.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "case ", current->id, "'s ", current->withheld.front().field,
          current->withheld.front().reason == storage::WithheldField::Reason::kDestroyed
              ? " was destroyed at the end of its retention period"
              : " cannot be read (it was altered in the database)",
          "; the referral cannot be updated"));
    }
    std::vector<std::string> changed = ChangedFields(*current, updated);
    if (changed.empty()) {
      return absl::FailedPreconditionError("the referral is unchanged; nothing to update");
    }
    v1::Case previous;
    ToProto(*current, &previous);

    updated.id = current->id;
    updated.revision = current->revision + 1;
    updated.updated_at = call.now();
    storage::ReferralRevisionRecord revision{.revision = updated.revision,
                                             .at = call.now(),
                                             .token_id = call.principal().token_id,
                                             .reason = reason,
                                             .changed_fields = std::move(changed),
                                             .previous = previous.SerializeAsString()};
    absl::StatusOr<storage::CaseRecord> stored =
        storage::UpdateReferralDetails(tx, updated, revision);
    if (!stored.ok()) return stored.status();
    // A party whose email now names someone else is that person from now on: their booked
    // sessions must not overlap that person's sessions in other cases.
    for (size_t i = 0; i < updated.parties.size(); ++i) {
      const storage::PartyRecord& p = updated.parties[i];
      const auto before = std::find_if(current->parties.begin(), current->parties.end(),
                                       [&](const auto& q) { return q.id == p.id; });
      if (p.id == 0 || before == current->parties.end() || before->person_key == p.person_key) {
        continue;
      }
      absl::StatusOr<std::optional<storage::BookingRecord>> clash =
          storage::PartyBookingClash(tx, p.id);
      if (!clash.ok()) return clash.status();
      if (clash->has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "parties[", i, "].contact.email: that person is already booked at ",
            rules::LondonLocalText((*clash)->start_at), " (Europe/London), when party ", p.id,
            " has a session of this case; reschedule or cancel one of the two sessions first"));
      }
    }
    return WriteCaseView(tx, call.principal(), *stored, response.mutable_case_());
  });
}

absl::Status GetCase(CallContext& call, const v1::GetCaseRequest& request,
                     v1::GetCaseResponse& response) {
  return ReadCase(call, request.case_id(),
                  [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
                    return WriteCaseView(tx, call.principal(), c, response.mutable_case_());
                  });
}

absl::Status ListCases(CallContext& call, const v1::ListCasesRequest& request,
                       v1::ListCasesResponse& response) {
  Validator v;
  v.Enum("state", request.state(), v1::CaseState_IsValid, /*required=*/false);
  v.Enum("nation", request.nation(), v1::Nation_IsValid, /*required=*/false);
  if (request.organisation_id() < 0) v.Fail("organisation_id", "must be a positive id or 0");
  if (!v.ok()) return v.status();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListCases", request.page_size(), request.page_token());
  if (!cursor.ok()) return cursor.status();

  const Principal& who = call.principal();
  storage::CaseFilter filter{.state = request.state(),
                             .organisation_id = request.organisation_id(),
                             .nation = request.nation()};
  if (who.role == v1::ROLE_ORGANISATION) {
    if (filter.organisation_id != 0 && filter.organisation_id != who.organisation_id) {
      return absl::PermissionDeniedError(
          absl::StrCat("organisation_id: this token acts for organisation ", who.organisation_id,
                       " and may list only its cases"));
    }
    filter.organisation_id = who.organisation_id;
  }
  if (who.role == v1::ROLE_MEDIATOR) filter.mediator_id = who.mediator_id;
  if (who.role == v1::ROLE_PARTY) filter.case_id = who.case_id;
  if (request.needs_rescheduling()) {
    if (who.role == v1::ROLE_ORGANISATION || who.role == v1::ROLE_PARTY) {
      return absl::PermissionDeniedError(
          "needs_rescheduling: the rescheduling queue is for case support, Senior Advisers and "
          "mediators");
    }
    filter.needs_rescheduling_after = absl::ToUnixSeconds(call.now());
  }
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::CaseRecord>> cases =
        storage::ListCases(tx, filter, *cursor);
    if (!cases.ok()) return cases.status();
    absl::StatusOr<int64_t> total = storage::CountCases(tx, filter);
    if (!total.ok()) return total.status();
    response.set_total_size(*total);
    response.set_next_page_token(
        FinishPage("ListCases", *cursor, *cases, [](const auto& c) { return c.id; }));
    for (const storage::CaseRecord& c : *cases) {
      absl::StatusOr<bool> visible = MayViewCase(tx, who, c);
      if (!visible.ok()) return visible.status();
      if (!*visible) continue;
      if (absl::Status s = WriteCaseView(tx, who, c, response.add_cases()); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(ReferralService, CreateReferral)

MEDIATION_UNARY_RPC(ReferralService, UpdateReferral)

MEDIATION_UNARY_RPC(ReferralService, GetCase)

MEDIATION_UNARY_RPC(ReferralService, ListCases)

MEDIATION_SERVICE(ReferralService)

}  // namespace mediation

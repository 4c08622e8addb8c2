#include "services/organisation_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/contact_validation.h"
#include "services/convert.h"
#include "services/core/paging.h"
#include "services/core/validation.h"
#include "storage/organisations.h"

namespace mediation {
namespace {

absl::StatusOr<storage::OrganisationRecord> ValidateOrganisation(const v1::Organisation& o) {
  Validator v;
  storage::OrganisationRecord org;
  org.name = v.RequiredLine("organisation.name", o.name(), kMaxNameChars);
  v.Enum("organisation.kind", o.kind(), v1::OrganisationKind_IsValid, /*required=*/true);
  v.Enum("organisation.nation", o.nation(), v1::Nation_IsValid, /*required=*/true);
  v.Enum("organisation.care_setting", o.care_setting(), v1::CareSetting_IsValid,
         /*required=*/true);
  v.Enum("organisation.sector", o.sector(), v1::Sector_IsValid, /*required=*/true);
  org.ods_code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(o.ods_code()));
  if (!org.ods_code.empty() && (org.ods_code.size() < 3 || org.ods_code.size() > 10 ||
                                !std::all_of(org.ods_code.begin(), org.ods_code.end(),
                                             [](char c) { return absl::ascii_isalnum(c); }))) {
    v.Fail("organisation.ods_code", "must be 3 to 10 letters and digits");
  }
  org.contact = ValidateContact(v, "organisation.contact", o.contact());
  if (!v.ok()) return v.status();
  org.kind = o.kind();
  org.nation = o.nation();
  org.care_setting = o.care_setting();
  org.sector = o.sector();
  return org;
}

absl::Status RegisterOrganisation(CallContext& call, const v1::RegisterOrganisationRequest& request,
                                  v1::RegisterOrganisationResponse& response) {
  absl::StatusOr<storage::OrganisationRecord> org = ValidateOrganisation(request.organisation());
  if (!org.ok()) return org.status();
  org->created_at = call.now();
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::OrganisationRecord> stored = storage::InsertOrganisation(tx, *org);
    if (!stored.ok()) return stored.status();
    call.AddObject("organisation", stored->id);
    ToProto(*stored, response.mutable_organisation());
    return absl::OkStatus();
  });
}

absl::Status GetOrganisation(CallContext& call, const v1::GetOrganisationRequest& request,
                             v1::GetOrganisationResponse& response) {
  Validator v;
  v.PositiveId("organisation_id", request.organisation_id());
  if (!v.ok()) return v.status();
  call.AddObject("organisation", request.organisation_id());
  const Principal& who = call.principal();
  // An organisation may read only itself; any other id reads as absent.
  if (who.role == v1::ROLE_ORGANISATION && who.organisation_id != request.organisation_id()) {
    return absl::NotFoundError(
        absl::StrCat("organisation ", request.organisation_id(), " not found"));
  }
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::OrganisationRecord> org =
        storage::GetOrganisation(tx, request.organisation_id());
    if (!org.ok()) return org.status();
    ToProto(*org, response.mutable_organisation());
    return absl::OkStatus();
  });
}

absl::Status ListOrganisations(CallContext& call, const v1::ListOrganisationsRequest& request,
                               v1::ListOrganisationsResponse& response) {
  Validator v;
  v.Enum("nation", request.nation(), v1::Nation_IsValid, /*required=*/false);
  if (!v.ok()) return v.status();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListOrganisations", request.page_size(), request.page_token());
  if (!cursor.ok()) return cursor.status();
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::OrganisationRecord>> orgs =
        storage::ListOrganisations(tx, request.nation(), *cursor);
    if (!orgs.ok()) return orgs.status();
    response.set_next_page_token(
        FinishPage("ListOrganisations", *cursor, *orgs, [](const auto& o) { return o.id; }));
    for (const storage::OrganisationRecord& o : *orgs) ToProto(o, response.add_organisations());
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(OrganisationService, RegisterOrganisation)

MEDIATION_UNARY_RPC(OrganisationService, GetOrganisation)

MEDIATION_UNARY_RPC(OrganisationService, ListOrganisations)

MEDIATION_SERVICE(OrganisationService)

}  // namespace mediation

#include "services/referral_service.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/contact_validation.h"
#include "services/convert.h"
#include "services/core/paging.h"
#include "services/core/validation.h"
#include "storage/cases.h"
#include "storage/organisations.h"

namespace mediation {
namespace {

constexpr int kMinParties = 2;
constexpr int kMaxParties = 10;
constexpr size_t kMaxSummaryChars = 10000;
constexpr size_t kMaxAccessibilityChars = 2000;
constexpr int kMaxLinks = 20;
constexpr size_t kMaxLinkChars = 40;

bool IsCaseReference(absl::string_view ref) {
  return !ref.empty() && ref.size() <= kMaxLinkChars &&
         std::all_of(ref.begin(), ref.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '-' || c == '/'; });
}

// Validates everything that needs no database; the organisation's existence is checked in the
// write transaction.
absl::StatusOr<storage::CaseRecord> ValidateReferral(const v1::CreateReferralRequest& r) {
  Validator v;
  storage::CaseRecord c;
  v.PositiveId("organisation_id", r.organisation_id());
  c.referrer = ValidateContact(v, "referrer", r.referrer());
  c.summary = v.RequiredText("summary", r.summary(), kMaxSummaryChars);
  v.Enum("concern_level", r.concern_level(), v1::ConcernLevel_IsValid, /*required=*/false);
  v.Enum("concern_type", r.concern_type(), v1::ConcernType_IsValid, /*required=*/false);

  if (r.parties_size() < kMinParties) {
    v.Fail("parties", absl::StrCat("a referral needs at least ", kMinParties, " parties, got ",
                                   r.parties_size()));
  } else if (r.parties_size() > kMaxParties) {
    v.Fail("parties", absl::StrCat("at most ", kMaxParties, " parties"));
  }
  std::set<std::string> emails;
  for (int i = 0; i < r.parties_size() && i < kMaxParties; ++i) {
    const v1::Party& in = r.parties(i);
    const std::string field = absl::StrCat("parties[", i, "]");
    storage::PartyRecord p;
    p.contact = ValidateContact(v, absl::StrCat(field, ".contact"), in.contact());
    v.Enum(absl::StrCat(field, ".profession"), in.profession(), v1::Profession_IsValid,
           /*required=*/true);
    p.profession = in.profession();
    p.accessibility_needs = v.OptionalText(absl::StrCat(field, ".accessibility_needs"),
                                           in.accessibility_needs(), kMaxAccessibilityChars);
    p.bringing_companion = in.bringing_companion();
    if (!p.contact.email.empty() && !emails.insert(p.contact.email).second) {
      v.Fail(absl::StrCat(field, ".contact.email"),
             absl::StrCat(p.contact.email, " is given for another party too"));
    }
    c.parties.push_back(std::move(p));
  }

  if (r.linked_case_references_size() > kMaxLinks) {
    v.Fail("linked_case_references", absl::StrCat("at most ", kMaxLinks, " references"));
  }
  for (int i = 0; i < r.linked_case_references_size() && i < kMaxLinks; ++i) {
    const std::string ref(absl::StripAsciiWhitespace(r.linked_case_references(i)));
    if (!IsCaseReference(ref)) {
      v.Fail(absl::StrCat("linked_case_references[", i, "]"),
             absl::StrCat("must be 1 to ", kMaxLinkChars, " letters, digits, '-' or '/'"));
    }
    c.linked_case_references.push_back(ref);
  }
  if (!v.ok()) return v.status();
  c.organisation_id = r.organisation_id();
  c.concern_level = r.concern_level();
  c.concern_type = r.concern_type();
  return c;
}

absl::Status CreateReferral(CallContext& call, const v1::CreateReferralRequest& in,
                            v1::CreateReferralResponse& response) {
  const Principal& who = call.principal();
  v1::CreateReferralRequest request = in;
  if (who.role == v1::ROLE_ORGANISATION) {
    // An organisation refers only for itself: 0 means "my organisation".
    if (request.organisation_id() == 0) request.set_organisation_id(who.organisation_id);
    if (request.organisation_id() != who.organisation_id) {
      return absl::PermissionDeniedError(
          absl::StrCat("organisation_id: this token acts for organisation ", who.organisation_id,
                       " and may refer cases only for it"));
    }
  }
  absl::StatusOr<storage::CaseRecord> c = ValidateReferral(request);
  if (!c.ok()) return c.status();
  c->state = v1::CASE_STATE_REFERRED;
  c->created_at = call.now();
  c->updated_at = call.now();
  c->created_by_token_id = who.token_id;
  call.AddObject("organisation", c->organisation_id);

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::OrganisationRecord> org =
        storage::GetOrganisation(tx, c->organisation_id);
    if (absl::IsNotFound(org.status())) {
      return FieldError("organisation_id", absl::StrCat("no organisation ", c->organisation_id,
                                                        "; register it first"));
    }
    if (!org.ok()) return org.status();
    absl::StatusOr<storage::CaseRecord> stored = storage::InsertCase(tx, *c);
    if (!stored.ok()) return stored.status();
    call.AddObject("case", stored->id);
    ToProto(*stored, response.mutable_case_());
    return absl::OkStatus();
  });
}

absl::Status GetCase(CallContext& call, const v1::GetCaseRequest& request,
                     v1::GetCaseResponse& response) {
  Validator v;
  v.PositiveId("case_id", request.case_id());
  if (!v.ok()) return v.status();
  call.AddObject("case", request.case_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, request.case_id());
    if (absl::IsNotFound(c.status()) || (c.ok() && !MayViewCase(call.principal(), *c))) {
      return CaseNotFound(request.case_id());
    }
    if (!c.ok()) return c.status();
    ToProto(*c, response.mutable_case_());
    return absl::OkStatus();
  });
}

absl::Status ListCases(CallContext& call, const v1::ListCasesRequest& request,
                       v1::ListCasesResponse& response) {
  Validator v;
  v.Enum("state", request.state(), v1::CaseState_IsValid, /*required=*/false);
  if (request.organisation_id() < 0) v.Fail("organisation_id", "must be a positive id or 0");
  if (!v.ok()) return v.status();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListCases", request.page_size(), request.page_token());
  if (!cursor.ok()) return cursor.status();

  const Principal& who = call.principal();
  storage::CaseFilter filter{.state = request.state(),
                             .organisation_id = request.organisation_id()};
  if (who.role == v1::ROLE_ORGANISATION) {
    if (filter.organisation_id != 0 && filter.organisation_id != who.organisation_id) {
      return absl::PermissionDeniedError(
          absl::StrCat("organisation_id: this token acts for organisation ", who.organisation_id,
                       " and may list only its cases"));
    }
    filter.organisation_id = who.organisation_id;
  }
  if (who.role == v1::ROLE_MEDIATOR) {
    // Mediators see only their allocated cases, and allocation does not exist yet: none.
    return absl::OkStatus();
  }
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::CaseRecord>> cases =
        storage::ListCases(tx, filter, *cursor);
    if (!cases.ok()) return cases.status();
    response.set_next_page_token(
        FinishPage("ListCases", *cursor, *cases, [](const auto& c) { return c.id; }));
    for (const storage::CaseRecord& c : *cases) {
      if (MayViewCase(who, c)) ToProto(c, response.add_cases());
    }
    return absl::OkStatus();
  });
}

}  // namespace

grpc::ServerUnaryReactor* ReferralServiceImpl::CreateReferral(
    grpc::CallbackServerContext* context, const v1::CreateReferralRequest* request,
    v1::CreateReferralResponse* response) {
  return runner_.Unary(context, "/ppa.mediation.v1.ReferralService/CreateReferral", request,
                       response, &mediation::CreateReferral);
}

grpc::ServerUnaryReactor* ReferralServiceImpl::GetCase(grpc::CallbackServerContext* context,
                                                       const v1::GetCaseRequest* request,
                                                       v1::GetCaseResponse* response) {
  return runner_.Unary(context, "/ppa.mediation.v1.ReferralService/GetCase", request, response,
                       &mediation::GetCase);
}

grpc::ServerUnaryReactor* ReferralServiceImpl::ListCases(grpc::CallbackServerContext* context,
                                                         const v1::ListCasesRequest* request,
                                                         v1::ListCasesResponse* response) {
  return runner_.Unary(context, "/ppa.mediation.v1.ReferralService/ListCases", request, response,
                       &mediation::ListCases);
}

}  // namespace mediation

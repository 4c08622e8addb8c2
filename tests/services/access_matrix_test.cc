// The access matrix: every RPC, called by every role (and by nobody), with the exact status code
// each cell must give. Requests are valid, so the code reflects access alone.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "services/core/policy.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;
using Code = grpc::StatusCode;

// The callers of the matrix: every role, plus a call without a token.
enum Caller { kNobody, kAdmin, kCaseSupport, kSeniorAdviser, kMediator, kOrganisation, kParty };
constexpr Caller kCallers[] = {kNobody,   kAdmin,        kCaseSupport, kSeniorAdviser,
                               kMediator, kOrganisation, kParty};
const char* CallerName(Caller c) {
  static const char* names[] = {"nobody",   "ADMIN",        "CASE_SUPPORT", "SENIOR_ADVISER",
                                "MEDIATOR", "ORGANISATION", "PARTY"};
  return names[c];
}

class AccessMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    case_ = server_.CreateReferral(org_);
    tokens_[kNobody] = "";
    tokens_[kAdmin] = server_.admin_secret();
    tokens_[kCaseSupport] = server_.case_support();
    tokens_[kSeniorAdviser] = server_.IssueToken(v1::ROLE_SENIOR_ADVISER);
    tokens_[kMediator] = server_.IssueToken(v1::ROLE_MEDIATOR, /*mediator_id=*/7);
    tokens_[kOrganisation] = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
    tokens_[kParty] = server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(0).id());
  }

  // Calls the RPC named `method` with `token`, using a valid request.
  grpc::Status Call(const std::string& method, const std::string& token) {
    auto ctx = WithToken(token);
    if (method == "/ppa.mediation.v1.AdminService/IssueToken") {
      v1::IssueTokenRequest r;
      r.set_role(v1::ROLE_SENIOR_ADVISER);
      r.set_label("matrix");
      v1::IssueTokenResponse out;
      return server_.admin().IssueToken(ctx.get(), r, &out);
    }
    if (method == "/ppa.mediation.v1.AdminService/ListTokens") {
      v1::ListTokensResponse out;
      return server_.admin().ListTokens(ctx.get(), {}, &out);
    }
    if (method == "/ppa.mediation.v1.AdminService/RevokeToken") {
      // A fresh token each time, so every allowed call has something to revoke.
      v1::IssueTokenRequest issue;
      issue.set_role(v1::ROLE_CASE_SUPPORT);
      issue.set_label("to revoke");
      v1::IssueTokenResponse issued;
      EXPECT_TRUE(
          server_.admin().IssueToken(WithToken(server_.admin_secret()).get(), issue, &issued).ok());
      v1::RevokeTokenRequest r;
      r.set_token_id(issued.token().id());
      v1::RevokeTokenResponse out;
      return server_.admin().RevokeToken(ctx.get(), r, &out);
    }
    if (method == "/ppa.mediation.v1.AdminService/ListAuditEvents") {
      v1::ListAuditEventsResponse out;
      return server_.admin().ListAuditEvents(ctx.get(), {}, &out);
    }
    if (method == "/ppa.mediation.v1.IdentityService/WhoAmI") {
      v1::WhoAmIResponse out;
      return server_.identity().WhoAmI(ctx.get(), {}, &out);
    }
    if (method == "/ppa.mediation.v1.OrganisationService/RegisterOrganisation") {
      v1::RegisterOrganisationRequest r;
      *r.mutable_organisation() = ValidOrganisation("Matrix Practice");
      v1::RegisterOrganisationResponse out;
      return server_.organisations().RegisterOrganisation(ctx.get(), r, &out);
    }
    if (method == "/ppa.mediation.v1.OrganisationService/GetOrganisation") {
      v1::GetOrganisationRequest r;
      r.set_organisation_id(org_);
      v1::GetOrganisationResponse out;
      return server_.organisations().GetOrganisation(ctx.get(), r, &out);
    }
    if (method == "/ppa.mediation.v1.OrganisationService/ListOrganisations") {
      v1::ListOrganisationsResponse out;
      return server_.organisations().ListOrganisations(ctx.get(), {}, &out);
    }
    if (method == "/ppa.mediation.v1.ReferralService/CreateReferral") {
      v1::CreateReferralResponse out;
      return server_.referrals().CreateReferral(ctx.get(), ValidReferral(org_), &out);
    }
    if (method == "/ppa.mediation.v1.ReferralService/GetCase") {
      v1::GetCaseRequest r;
      r.set_case_id(case_.id());
      v1::GetCaseResponse out;
      return server_.referrals().GetCase(ctx.get(), r, &out);
    }
    if (method == "/ppa.mediation.v1.ReferralService/ListCases") {
      v1::ListCasesResponse out;
      return server_.referrals().ListCases(ctx.get(), {}, &out);
    }
    ADD_FAILURE() << "the matrix does not know how to call " << method;
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  }

  TestServer server_;
  int64_t org_ = 0;
  v1::Case case_;
  std::map<Caller, std::string> tokens_;
};

constexpr Code OK = Code::OK;
constexpr Code UNAUTH = Code::UNAUTHENTICATED;
constexpr Code DENIED = Code::PERMISSION_DENIED;
constexpr Code NOT_FOUND = Code::NOT_FOUND;

struct Row {
  const char* method;
  // nobody, ADMIN, CASE_SUPPORT, SENIOR_ADVISER, MEDIATOR, ORGANISATION (own), PARTY (own case)
  Code expected[7];
};

const Row kMatrix[] = {
    {"/ppa.mediation.v1.AdminService/IssueToken",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/ListTokens",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/RevokeToken",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/ListAuditEvents",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.IdentityService/WhoAmI", {UNAUTH, OK, OK, OK, OK, OK, OK}},
    {"/ppa.mediation.v1.OrganisationService/RegisterOrganisation",
     {UNAUTH, OK, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.OrganisationService/GetOrganisation",
     {UNAUTH, OK, OK, OK, DENIED, OK, DENIED}},
    {"/ppa.mediation.v1.OrganisationService/ListOrganisations",
     {UNAUTH, OK, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ReferralService/CreateReferral",
     {UNAUTH, DENIED, OK, DENIED, DENIED, OK, DENIED}},
    // A mediator sees only cases allocated to it; this one is not.
    {"/ppa.mediation.v1.ReferralService/GetCase", {UNAUTH, DENIED, OK, OK, NOT_FOUND, OK, DENIED}},
    {"/ppa.mediation.v1.ReferralService/ListCases", {UNAUTH, DENIED, OK, OK, OK, OK, DENIED}},
};

TEST_F(AccessMatrixTest, EveryRpcGivesTheExpectedCodeForEveryRole) {
  for (const Row& row : kMatrix) {
    for (Caller caller : kCallers) {
      grpc::Status status = Call(row.method, tokens_[caller]);
      EXPECT_EQ(status.error_code(), row.expected[caller])
          << row.method << " called by " << CallerName(caller) << ": " << status.error_message();
    }
  }
}

TEST_F(AccessMatrixTest, TheMatrixCoversEveryRpcInThePolicy) {
  std::set<std::string> in_matrix, in_policy;
  for (const Row& row : kMatrix) in_matrix.insert(row.method);
  for (const MethodPolicy& p : MethodPolicies()) in_policy.insert(std::string(p.method));
  EXPECT_EQ(in_matrix, in_policy);
}

TEST_F(AccessMatrixTest, TheMatrixAgreesWithThePolicyTable) {
  // Where the policy admits a role, the cell is not PERMISSION_DENIED, and the other way round.
  for (const Row& row : kMatrix) {
    const MethodPolicy* policy = FindMethodPolicy(row.method);
    ASSERT_NE(policy, nullptr) << row.method;
    for (Caller caller : kCallers) {
      if (caller == kNobody) continue;
      const v1::Role role = static_cast<v1::Role>(caller);
      EXPECT_EQ(policy->roles.Contains(role), row.expected[caller] != DENIED)
          << row.method << " for " << CallerName(caller);
    }
  }
}

TEST_F(AccessMatrixTest, AnotherOrganisationCannotReadOrListThisOrganisationsCases) {
  const int64_t other_org = server_.RegisterOrganisation("Southshire Community Pharmacy");
  const std::string other = server_.IssueToken(v1::ROLE_ORGANISATION, 0, other_org);

  v1::GetCaseRequest get;
  get.set_case_id(case_.id());
  v1::GetCaseResponse got;
  grpc::Status status = server_.referrals().GetCase(WithToken(other).get(), get, &got);
  EXPECT_EQ(status.error_code(), NOT_FOUND);
  EXPECT_EQ(status.error_message(), "case " + std::to_string(case_.id()) + " not found");

  v1::GetOrganisationRequest get_org;
  get_org.set_organisation_id(org_);
  v1::GetOrganisationResponse got_org;
  EXPECT_EQ(server_.organisations()
                .GetOrganisation(WithToken(other).get(), get_org, &got_org)
                .error_code(),
            NOT_FOUND);

  v1::ListCasesResponse listed;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(other).get(), {}, &listed).ok());
  EXPECT_EQ(listed.cases_size(), 0);

  v1::ListCasesRequest filtered;
  filtered.set_organisation_id(org_);
  EXPECT_EQ(server_.referrals().ListCases(WithToken(other).get(), filtered, &listed).error_code(),
            DENIED);

  v1::CreateReferralResponse created;
  EXPECT_EQ(server_.referrals()
                .CreateReferral(WithToken(other).get(), ValidReferral(org_), &created)
                .error_code(),
            DENIED);
  EXPECT_EQ(server_.CountRows("cases"), 1);
}

TEST_F(AccessMatrixTest, AHiddenCaseAndAMissingCaseGiveTheSameAnswer) {
  const int64_t other_org = server_.RegisterOrganisation("Westshire Dental Practice");
  const std::string other = server_.IssueToken(v1::ROLE_ORGANISATION, 0, other_org);
  v1::GetCaseRequest hidden, missing;
  hidden.set_case_id(case_.id());
  missing.set_case_id(case_.id() + 1000);
  v1::GetCaseResponse out;
  grpc::Status a = server_.referrals().GetCase(WithToken(other).get(), hidden, &out);
  grpc::Status b = server_.referrals().GetCase(WithToken(other).get(), missing, &out);
  EXPECT_EQ(a.error_code(), b.error_code());
  EXPECT_EQ(a.error_message().substr(0, 5), b.error_message().substr(0, 5));
  EXPECT_EQ(a.error_details(), b.error_details());
}

}  // namespace
}  // namespace mediation

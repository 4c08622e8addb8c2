#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/core/secrets.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

v1::IssueTokenRequest Issue(v1::Role role, const std::string& label = "someone") {
  v1::IssueTokenRequest r;
  r.set_role(role);
  r.set_label(label);
  return r;
}

class AdminServiceTest : public ::testing::Test {
 protected:
  grpc::Status IssueAs(const std::string& token, const v1::IssueTokenRequest& r,
                       v1::IssueTokenResponse* out) {
    return server_.admin().IssueToken(WithToken(token).get(), r, out);
  }
  grpc::Status Revoke(int64_t id, v1::RevokeTokenResponse* out = nullptr) {
    v1::RevokeTokenRequest r;
    r.set_token_id(id);
    v1::RevokeTokenResponse ignored;
    return server_.admin().RevokeToken(WithToken(server_.admin_secret()).get(), r,
                                       out != nullptr ? out : &ignored);
  }
  grpc::Status WhoAmI(const std::string& token, v1::WhoAmIResponse* out) {
    return server_.identity().WhoAmI(WithToken(token).get(), {}, out);
  }

  TestServer server_;
};

TEST_F(AdminServiceTest, AnIssuedTokenCarriesItsRoleAndIsStoredOnlyAsItsHash) {
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(
      IssueAs(server_.admin_secret(), Issue(v1::ROLE_SENIOR_ADVISER, "Dr Lee"), &issued).ok());
  // "ppa_" and 43 base64url characters: 256 random bits.
  EXPECT_EQ(issued.secret().size(), 4u + 43u);
  EXPECT_TRUE(absl::StartsWith(issued.secret(), "ppa_"));

  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(issued.secret(), &me).ok());
  EXPECT_EQ(me.token().id(), issued.token().id());
  EXPECT_EQ(me.token().role(), v1::ROLE_SENIOR_ADVISER);
  EXPECT_EQ(me.token().label(), "Dr Lee");
  EXPECT_EQ(me.token().issued_by_token_id(), 1);

  EXPECT_EQ(server_.QueryBytes(
                absl::StrCat("SELECT sha256 FROM access_tokens WHERE id = ", issued.token().id())),
            Sha256(issued.secret()));

  // Neither the database nor its write-ahead log holds the secret itself.
  const std::string disk = server_.DiskBytes();
  EXPECT_EQ(disk.find(issued.secret()), std::string::npos);
  EXPECT_EQ(disk.find(server_.admin_secret()), std::string::npos);
}

TEST_F(AdminServiceTest, BindingsMustMatchTheRoleAndNothingIsWrittenWhenRefused) {
  const int64_t tokens_before = server_.CountRows("access_tokens");
  struct Case {
    v1::IssueTokenRequest request;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({Issue(v1::ROLE_UNSPECIFIED), "role: required"});
  cases.push_back({Issue(v1::ROLE_ADMIN, "  "), "label: required"});
  cases.push_back({Issue(v1::ROLE_ORGANISATION), "organisation_id: required"});
  cases.push_back({Issue(v1::ROLE_MEDIATOR), "mediator_id: required"});
  {
    v1::IssueTokenRequest r = Issue(v1::ROLE_CASE_SUPPORT);
    r.set_mediator_id(3);
    cases.push_back({r, "mediator_id: only MEDIATOR tokens are bound to one"});
  }
  {
    v1::IssueTokenRequest r = Issue(v1::ROLE_ORGANISATION);
    r.set_organisation_id(404);
    cases.push_back({r, "organisation_id: no organisation 404"});
  }
  {
    v1::IssueTokenRequest r = Issue(v1::ROLE_PARTY);
    r.set_case_id(404);
    r.set_party_id(1);
    cases.push_back({r, "case_id: no case 404"});
  }
  {
    v1::IssueTokenRequest r = Issue(v1::ROLE_CASE_SUPPORT);
    r.mutable_expires_at()->set_seconds(1000);
    cases.push_back({r, "expires_at: must be in the future"});
  }
  {
    v1::IssueTokenRequest r = Issue(static_cast<v1::Role>(99));
    cases.push_back({r, "role: unknown value 99"});
  }
  for (const Case& c : cases) {
    v1::IssueTokenResponse out;
    grpc::Status status = IssueAs(server_.admin_secret(), c.request, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_EQ(status.error_message(), c.message);
    EXPECT_TRUE(out.secret().empty());
  }
  EXPECT_EQ(server_.CountRows("access_tokens"), tokens_before);
}

TEST_F(AdminServiceTest, APartyTokenNeedsAPartyOfThatCase) {
  const int64_t org = server_.RegisterOrganisation("Trust");
  const v1::Case first = server_.CreateReferral(org);
  const v1::Case second = server_.CreateReferral(org);
  v1::IssueTokenRequest r = Issue(v1::ROLE_PARTY);
  r.set_case_id(first.id());
  r.set_party_id(second.parties(0).id());
  v1::IssueTokenResponse out;
  grpc::Status status = IssueAs(server_.admin_secret(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), absl::StrCat("party_id: party ", second.parties(0).id(),
                                                 " is not a party of case ", first.id()));

  r.set_party_id(first.parties(1).id());
  ASSERT_TRUE(IssueAs(server_.admin_secret(), r, &out).ok());
  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(out.secret(), &me).ok());
  EXPECT_EQ(me.token().case_id(), first.id());
  EXPECT_EQ(me.token().party_id(), first.parties(1).id());
}

TEST_F(AdminServiceTest, ARevokedTokenIsRefusedAndCannotBeRevokedAgain) {
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(IssueAs(server_.admin_secret(), Issue(v1::ROLE_CASE_SUPPORT), &issued).ok());
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(Revoke(issued.token().id(), &revoked).ok());
  EXPECT_TRUE(revoked.token().has_revoked_at());

  v1::WhoAmIResponse me;
  grpc::Status status = WhoAmI(issued.secret(), &me);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("access token ", issued.token().id(), " was revoked"));

  EXPECT_EQ(Revoke(issued.token().id()).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Revoke(9999).error_code(), grpc::StatusCode::NOT_FOUND);
}

// The server keeps tokens it has looked up in memory (services/core/token_cache.h): a token in
// use, even by calls running while it is revoked, is refused by every call after the revocation
// is answered.
TEST_F(AdminServiceTest, ATokenInUseIsRefusedByEveryCallAfterItsRevocationIsAnswered) {
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(IssueAs(server_.admin_secret(), Issue(v1::ROLE_CASE_SUPPORT), &issued).ok());
  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(issued.secret(), &me).ok());
  ASSERT_TRUE(WhoAmI(issued.secret(), &me).ok());

  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      v1::WhoAmIResponse ignored;
      (void)WhoAmI(issued.secret(), &ignored);
    }
  });
  ASSERT_TRUE(Revoke(issued.token().id()).ok());
  for (int i = 0; i < 20; ++i) {
    v1::WhoAmIResponse after;
    EXPECT_EQ(WhoAmI(issued.secret(), &after).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "call " << i << " after the revocation";
  }
  stop = true;
  reader.join();
  // Other tokens are unaffected.
  EXPECT_TRUE(WhoAmI(server_.admin_secret(), &me).ok());
}

TEST_F(AdminServiceTest, TheLastActiveAdminTokenCannotBeRevoked) {
  grpc::Status status = Revoke(1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "last active ADMIN token"));

  v1::IssueTokenResponse second;
  ASSERT_TRUE(IssueAs(server_.admin_secret(), Issue(v1::ROLE_ADMIN), &second).ok());
  EXPECT_TRUE(Revoke(1).ok());
  v1::WhoAmIResponse me;
  EXPECT_EQ(WhoAmI(server_.admin_secret(), &me).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(WhoAmI(second.secret(), &me).ok());
}

TEST_F(AdminServiceTest, MissingMalformedAndUnknownCredentialsAreUnauthenticated) {
  v1::WhoAmIResponse me;
  grpc::Status none = WhoAmI("", &me);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(none.error_message(), "authorization: Bearer"));

  auto basic = std::make_unique<grpc::ClientContext>();
  basic->AddMetadata("authorization", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(server_.identity().WhoAmI(basic.get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  grpc::Status unknown = WhoAmI("ppa_not-a-real-token", &me);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown.error_message(), "unknown access token");

  // The scheme is case-insensitive.
  auto lower = std::make_unique<grpc::ClientContext>();
  lower->AddMetadata("authorization", "bearer " + server_.admin_secret());
  EXPECT_TRUE(server_.identity().WhoAmI(lower.get(), {}, &me).ok());
}

TEST(AdminServiceClockTest, AnExpiredTokenIsUnauthenticated) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'800'000'000);
  TestServer server(
      [now](ServerOptions& o) { o.clock = [now] { return absl::FromUnixSeconds(now->load()); }; });
  v1::IssueTokenRequest r = Issue(v1::ROLE_CASE_SUPPORT);
  r.mutable_expires_at()->set_seconds(now->load() + 3600);
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(server.admin().IssueToken(WithToken(server.admin_secret()).get(), r, &issued).ok());
  v1::WhoAmIResponse me;
  EXPECT_TRUE(server.identity().WhoAmI(WithToken(issued.secret()).get(), {}, &me).ok());

  now->store(now->load() + 3601);
  grpc::Status status = server.identity().WhoAmI(WithToken(issued.secret()).get(), {}, &me);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("access token ", issued.token().id(), " has expired"));

  // Expired tokens drop out of the default listing but stay in the full one.
  v1::ListTokensResponse active, all;
  ASSERT_TRUE(server.admin().ListTokens(WithToken(server.admin_secret()).get(), {}, &active).ok());
  v1::ListTokensRequest everything;
  everything.set_include_inactive(true);
  ASSERT_TRUE(
      server.admin().ListTokens(WithToken(server.admin_secret()).get(), everything, &all).ok());
  EXPECT_EQ(active.tokens_size(), 1);
  EXPECT_EQ(all.tokens_size(), 2);
}

TEST_F(AdminServiceTest, TokensPageNewestFirstWithoutGapsOrRepeats) {
  for (int i = 0; i < 7; ++i) {
    v1::IssueTokenResponse out;
    ASSERT_TRUE(
        IssueAs(server_.admin_secret(), Issue(v1::ROLE_CASE_SUPPORT, absl::StrCat("t", i)), &out)
            .ok());
  }
  std::vector<int64_t> ids;
  std::string page_token;
  int pages = 0;
  do {
    v1::ListTokensRequest r;
    r.set_page_size(3);
    r.set_page_token(page_token);
    v1::ListTokensResponse out;
    ASSERT_TRUE(server_.admin().ListTokens(WithToken(server_.admin_secret()).get(), r, &out).ok());
    EXPECT_LE(out.tokens_size(), 3);
    for (const auto& t : out.tokens()) ids.push_back(t.id());
    page_token = out.next_page_token();
    ++pages;
  } while (!page_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids, (std::vector<int64_t>{8, 7, 6, 5, 4, 3, 2, 1}));
}

TEST_F(AdminServiceTest, MutatingAndRefusedCallsAreAuditedButSuccessfulReadsAreNot) {
  const int64_t before = server_.QueryInt64("SELECT COALESCE(MAX(id), 0) FROM audit_events");
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(IssueAs(server_.admin_secret(), Issue(v1::ROLE_CASE_SUPPORT), &issued).ok());
  v1::ListTokensResponse listed;
  ASSERT_TRUE(
      server_.admin().ListTokens(WithToken(server_.admin_secret()).get(), {}, &listed).ok());
  // A CASE_SUPPORT token may not list tokens: refused, so audited.
  EXPECT_EQ(server_.admin().ListTokens(WithToken(issued.secret()).get(), {}, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // No token at all: refused, and counted per address rather than audited one by one.
  EXPECT_EQ(server_.admin().ListTokens(WithToken("").get(), {}, &listed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // An invalid write: audited with its outcome, and no token row.
  EXPECT_EQ(IssueAs(server_.admin_secret(), Issue(v1::ROLE_UNSPECIFIED), &issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  std::vector<std::string> rows;
  for (const std::vector<std::string>& row :
       server_.QueryRows(absl::StrCat("SELECT COALESCE(token_id, 0), role, method, objects, "
                                      "outcome FROM audit_events WHERE id > ",
                                      before, " ORDER BY id"))) {
    rows.push_back(absl::StrCat(row[0], " ", row[1], " ", row[2], " [", row[3], "] ", row[4]));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "1 ROLE_ADMIN /ppa.mediation.v1.AdminService/IssueToken [token:2] OK",
                      "2 ROLE_CASE_SUPPORT /ppa.mediation.v1.AdminService/ListTokens [] "
                      "PERMISSION_DENIED",
                      "1 ROLE_ADMIN /ppa.mediation.v1.AdminService/IssueToken [] "
                      "INVALID_ARGUMENT",
                  }));
}

TEST_F(AdminServiceTest, AuditEventsCanBeFilteredByObjectAndToken) {
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(IssueAs(server_.admin_secret(), Issue(v1::ROLE_CASE_SUPPORT), &issued).ok());
  ASSERT_TRUE(Revoke(issued.token().id()).ok());
  v1::ListAuditEventsRequest r;
  r.set_object(absl::StrCat("token:", issued.token().id()));
  v1::ListAuditEventsResponse out;
  ASSERT_TRUE(
      server_.admin().ListAuditEvents(WithToken(server_.admin_secret()).get(), r, &out).ok());
  ASSERT_EQ(out.events_size(), 2);
  EXPECT_EQ(out.events(0).method(), "/ppa.mediation.v1.AdminService/RevokeToken");
  EXPECT_EQ(out.events(1).method(), "/ppa.mediation.v1.AdminService/IssueToken");
  EXPECT_EQ(out.events(0).token_id(), 1);

  r.set_object("case 12");
  EXPECT_EQ(server_.admin()
                .ListAuditEvents(WithToken(server_.admin_secret()).get(), r, &out)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AdminServiceTest, TheLogHasOneLinePerCallAndNeverASecretOrARequestBody) {
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(
      IssueAs(server_.admin_secret(), Issue(v1::ROLE_CASE_SUPPORT, "Label-7f3a9"), &issued).ok());
  v1::WhoAmIResponse me;
  ASSERT_TRUE(WhoAmI(issued.secret(), &me).ok());
  EXPECT_EQ(WhoAmI("ppa_wrong", &me).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const std::string log = server_.Log();
  EXPECT_TRUE(absl::StrContains(log,
                                "method=/ppa.mediation.v1.AdminService/IssueToken transport=grpc "
                                "principal=token:1/ROLE_ADMIN code=OK latency_ms="));
  EXPECT_TRUE(absl::StrContains(
      log, absl::StrCat("method=/ppa.mediation.v1.IdentityService/WhoAmI transport=grpc "
                        "principal=token:",
                        issued.token().id(), "/ROLE_CASE_SUPPORT code=OK")));
  EXPECT_TRUE(absl::StrContains(log,
                                "method=/ppa.mediation.v1.IdentityService/WhoAmI transport=grpc "
                                "principal=anonymous code=UNAUTHENTICATED"));
  EXPECT_FALSE(absl::StrContains(log, issued.secret()));
  EXPECT_FALSE(absl::StrContains(log, server_.admin_secret()));
  EXPECT_FALSE(absl::StrContains(log, "ppa_wrong"));
  EXPECT_FALSE(absl::StrContains(log, "Label-7f3a9"));
}

}  // namespace
}  // namespace mediation

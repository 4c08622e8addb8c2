#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::WithToken;

class OrganisationServiceTest : public ::testing::Test {
 protected:
  grpc::Status Register(const v1::Organisation& o, v1::RegisterOrganisationResponse* out) {
    v1::RegisterOrganisationRequest r;
    *r.mutable_organisation() = o;
    return server_.organisations().RegisterOrganisation(WithToken(server_.case_support()).get(), r,
                                                        out);
  }
  TestServer server_;
};

TEST_F(OrganisationServiceTest, RegisteredOrganisationReadsBackNormalised) {
  v1::Organisation o = ValidOrganisation("  Valleys Dental Practice ");
  o.set_kind(v1::ORGANISATION_KIND_DENTAL_PRACTICE);
  o.set_nation(v1::NATION_WALES);
  o.set_care_setting(v1::CARE_SETTING_PRIMARY);
  o.set_sector(v1::SECTOR_INDEPENDENT);
  o.set_ods_code(" v12ab ");
  o.mutable_contact()->set_email("Practice.Manager@Valleys.example");
  v1::RegisterOrganisationResponse registered;
  ASSERT_TRUE(Register(o, &registered).ok());

  v1::GetOrganisationRequest get;
  get.set_organisation_id(registered.organisation().id());
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(server_.organisations()
                  .GetOrganisation(WithToken(server_.case_support()).get(), get, &got)
                  .ok());
  EXPECT_EQ(got.organisation().name(), "Valleys Dental Practice");
  EXPECT_EQ(got.organisation().ods_code(), "V12AB");
  EXPECT_EQ(got.organisation().nation(), v1::NATION_WALES);
  EXPECT_EQ(got.organisation().kind(), v1::ORGANISATION_KIND_DENTAL_PRACTICE);
  EXPECT_EQ(got.organisation().contact().email(), "practice.manager@valleys.example");
  EXPECT_TRUE(got.organisation().has_created_at());
}

TEST_F(OrganisationServiceTest, InvalidOrganisationNamesEveryBadFieldAndWritesNothing) {
  v1::Organisation o;
  o.set_nation(static_cast<v1::Nation>(17));
  o.set_ods_code("!!");
  o.mutable_contact()->set_email("not-an-email");
  v1::RegisterOrganisationResponse out;
  grpc::Status status = Register(o, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "organisation.name: required; organisation.kind: required; organisation.nation: "
            "unknown value 17; organisation.care_setting: required; organisation.sector: "
            "required; organisation.ods_code: must be 3 to 10 letters and digits; "
            "organisation.contact.name: required; organisation.contact.email: not an email "
            "address (expected name@domain.tld)");
  EXPECT_EQ(server_.CountRows("organisations"), 0);
}

TEST_F(OrganisationServiceTest, OverLongNameIsRefused) {
  v1::RegisterOrganisationResponse out;
  grpc::Status status = Register(ValidOrganisation(std::string(201, 'x')), &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "organisation.name: too long: at most 200 characters");
}

TEST_F(OrganisationServiceTest, ADuplicateOdsCodeIsAlreadyExists) {
  v1::Organisation o = ValidOrganisation("First");
  o.set_ods_code("RX9");
  v1::RegisterOrganisationResponse first, second;
  ASSERT_TRUE(Register(o, &first).ok());
  o.set_name("Second");
  o.set_ods_code("rx9");
  grpc::Status status = Register(o, &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("organisation.ods_code: organisation ", first.organisation().id(),
                         " already has ODS code RX9"));
  EXPECT_EQ(server_.CountRows("organisations"), 1);
}

TEST_F(OrganisationServiceTest, ListingPagesInRegistrationOrderAndFiltersByNation) {
  std::vector<int64_t> welsh;
  for (int i = 0; i < 5; ++i) {
    v1::Organisation o = ValidOrganisation(absl::StrCat("Org ", i));
    o.set_nation(i % 2 == 0 ? v1::NATION_WALES : v1::NATION_ENGLAND);
    v1::RegisterOrganisationResponse out;
    ASSERT_TRUE(Register(o, &out).ok());
    if (i % 2 == 0) welsh.push_back(out.organisation().id());
  }
  std::vector<int64_t> seen;
  std::string token;
  do {
    v1::ListOrganisationsRequest r;
    r.set_page_size(2);
    r.set_page_token(token);
    r.set_nation(v1::NATION_WALES);
    v1::ListOrganisationsResponse out;
    ASSERT_TRUE(server_.organisations()
                    .ListOrganisations(WithToken(server_.case_support()).get(), r, &out)
                    .ok());
    for (const auto& o : out.organisations()) seen.push_back(o.id());
    token = out.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(seen, welsh);
}

TEST_F(OrganisationServiceTest, AnOrganisationTokenReadsItselfOnly) {
  v1::RegisterOrganisationResponse mine, theirs;
  ASSERT_TRUE(Register(ValidOrganisation("Mine"), &mine).ok());
  ASSERT_TRUE(Register(ValidOrganisation("Theirs"), &theirs).ok());
  const std::string token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, mine.organisation().id());
  v1::GetOrganisationRequest r;
  v1::GetOrganisationResponse out;
  r.set_organisation_id(mine.organisation().id());
  EXPECT_TRUE(server_.organisations().GetOrganisation(WithToken(token).get(), r, &out).ok());
  r.set_organisation_id(theirs.organisation().id());
  grpc::Status status = server_.organisations().GetOrganisation(WithToken(token).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("organisation ", theirs.organisation().id(), " not found"));
}

}  // namespace
}  // namespace mediation

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/cases.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

class ReferralServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust"); }

  grpc::Status Create(const v1::CreateReferralRequest& r, v1::CreateReferralResponse* out,
                      const std::string& token = "") {
    return server_.referrals().CreateReferral(
        WithToken(token.empty() ? server_.case_support() : token).get(), r, out);
  }

  TestServer server_;
  int64_t org_ = 0;
};

TEST_F(ReferralServiceTest, AReferralOpensACaseInReferredWithAReferenceAndItsParties) {
  v1::CreateReferralRequest r = ValidReferral(org_);
  r.add_linked_case_references("PPA-2025-0042");
  v1::CreateReferralResponse out;
  ASSERT_TRUE(Create(r, &out).ok());
  const v1::Case& c = out.case_();
  EXPECT_GT(c.id(), 0);
  EXPECT_TRUE(absl::StartsWith(c.reference(), "AM-"));
  EXPECT_EQ(c.reference().size(), std::string("AM-2026-000001").size());
  EXPECT_EQ(c.state(), v1::CASE_STATE_REFERRED);
  EXPECT_EQ(c.organisation_id(), org_);
  ASSERT_EQ(c.parties_size(), 2);
  EXPECT_EQ(c.parties(1).contact().name(), "Dr Jo Reed");
  EXPECT_EQ(c.parties(1).accessibility_needs(), "Step-free access");
  EXPECT_EQ(c.linked_case_references(0), "PPA-2025-0042");

  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), get, &got).ok());
  EXPECT_EQ(got.case_().SerializeAsString(), c.SerializeAsString());

  EXPECT_EQ(server_.CountRows(
                "case_state_history",
                absl::StrCat("case_id = ", c.id(), " AND to_state = 'CASE_STATE_REFERRED'")),
            1);
}

TEST_F(ReferralServiceTest, FewerThanTwoPartiesIsRefusedAndNothingIsWritten) {
  v1::CreateReferralRequest r = ValidReferral(org_);
  r.mutable_parties()->RemoveLast();
  v1::CreateReferralResponse out;
  grpc::Status status = Create(r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "parties: a referral needs at least 2 parties, got 1");
  EXPECT_EQ(server_.CountRows("cases"), 0);
  EXPECT_EQ(server_.CountRows("parties"), 0);
}

TEST_F(ReferralServiceTest, AnUnknownOrganisationIsInvalidArgumentNamingTheField) {
  v1::CreateReferralResponse out;
  grpc::Status status = Create(ValidReferral(org_ + 100), &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("organisation_id: no organisation ", org_ + 100, "; register it first"));
  EXPECT_EQ(server_.CountRows("cases"), 0);
}

TEST_F(ReferralServiceTest, EveryInvalidFieldIsNamed) {
  v1::CreateReferralRequest r = ValidReferral(org_);
  r.mutable_referrer()->set_name("");
  r.set_summary(std::string(10001, 's'));
  r.set_concern_level(static_cast<v1::ConcernLevel>(9));
  r.mutable_parties(0)->set_profession(v1::PROFESSION_UNSPECIFIED);
  r.mutable_parties(1)->mutable_contact()->set_email("ALEX.MORGAN@example.nhs.uk");
  r.add_linked_case_references("bad ref!");
  v1::CreateReferralResponse out;
  grpc::Status status = Create(r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "referrer.name: required; summary: too long: at most 10000 characters; "
            "concern_level: unknown value 9; parties[0].profession: required; "
            "parties[1].contact.email: alex.morgan@example.nhs.uk is given for another party "
            "too; linked_case_references[0]: must be 1 to 40 letters, digits, '-' or '/'");
  EXPECT_EQ(server_.CountRows("cases"), 0);
}

TEST_F(ReferralServiceTest, AnOrganisationRefersForItselfWhenItGivesNoId) {
  const std::string token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  v1::CreateReferralResponse out;
  ASSERT_TRUE(Create(ValidReferral(0), &out, token).ok());
  EXPECT_EQ(out.case_().organisation_id(), org_);
}

TEST_F(ReferralServiceTest, CasesPageNewestFirstAndFilterByOrganisationAndState) {
  const int64_t other = server_.RegisterOrganisation("Other Trust");
  std::vector<int64_t> mine;
  for (int i = 0; i < 7; ++i) {
    v1::Case c = server_.CreateReferral(i % 3 == 0 ? other : org_);
    if (i % 3 != 0) mine.insert(mine.begin(), c.id());
  }
  std::vector<int64_t> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListCasesRequest r;
    r.set_page_size(2);
    r.set_page_token(token);
    r.set_organisation_id(org_);
    r.set_state(v1::CASE_STATE_REFERRED);
    v1::ListCasesResponse out;
    ASSERT_TRUE(
        server_.referrals().ListCases(WithToken(server_.case_support()).get(), r, &out).ok());
    for (const auto& c : out.cases()) seen.push_back(c.id());
    token = out.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen, mine);
  EXPECT_EQ(pages, 2);

  v1::ListCasesRequest none;
  none.set_state(v1::CASE_STATE_CLOSED);
  v1::ListCasesResponse out;
  ASSERT_TRUE(
      server_.referrals().ListCases(WithToken(server_.case_support()).get(), none, &out).ok());
  EXPECT_EQ(out.cases_size(), 0);
  EXPECT_TRUE(out.next_page_token().empty());
}

TEST_F(ReferralServiceTest, CasesFilterByNationAndCountEveryPage) {
  const int64_t wales = server_.RegisterOrganisation("Cardiff Practice", v1::NATION_WALES);
  std::vector<int64_t> welsh;
  for (int i = 0; i < 5; ++i) {
    v1::Case c = server_.CreateReferral(i % 2 == 0 ? wales : org_);
    if (i % 2 == 0) welsh.insert(welsh.begin(), c.id());
  }
  v1::ListCasesRequest r;
  r.set_nation(v1::NATION_WALES);
  r.set_page_size(2);
  v1::ListCasesResponse out;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(server_.case_support()).get(), r, &out).ok());
  ASSERT_EQ(out.cases_size(), 2);
  EXPECT_EQ(out.cases(0).id(), welsh[0]);
  EXPECT_EQ(out.cases(1).id(), welsh[1]);
  EXPECT_EQ(out.total_size(), 3);

  r.set_nation(v1::NATION_ENGLAND);
  r.set_state(v1::CASE_STATE_REFERRED);
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(server_.case_support()).get(), r, &out).ok());
  EXPECT_EQ(out.total_size(), 2);
  r.set_state(v1::CASE_STATE_SCREENING);
  out.Clear();
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(server_.case_support()).get(), r, &out).ok());
  EXPECT_EQ(out.total_size(), 0);
  EXPECT_EQ(out.cases_size(), 0);

  v1::ListCasesRequest bad;
  bad.set_nation(static_cast<v1::Nation>(42));
  grpc::Status s =
      server_.referrals().ListCases(WithToken(server_.case_support()).get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "nation")) << s.error_message();
}

TEST_F(ReferralServiceTest, AnOrganisationListsOnlyItsOwnCases) {
  const int64_t other = server_.RegisterOrganisation("Other Trust");
  const v1::Case mine = server_.CreateReferral(org_);
  server_.CreateReferral(other);
  const std::string token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  v1::ListCasesResponse out;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(token).get(), {}, &out).ok());
  ASSERT_EQ(out.cases_size(), 1);
  EXPECT_EQ(out.cases(0).id(), mine.id());
  EXPECT_EQ(out.total_size(), 1);
}

TEST_F(ReferralServiceTest, ACreatedReferralIsAuditedWithItsCaseAndOrganisation) {
  const v1::Case c = server_.CreateReferral(org_);
  EXPECT_EQ(
      server_.QueryRows("SELECT objects, outcome, role FROM audit_events WHERE method = "
                        "'/ppa.mediation.v1.ReferralService/CreateReferral'"),
      (std::vector<std::vector<std::string>>{
          {absl::StrCat("organisation:", org_, " case:", c.id()), "OK", "ROLE_CASE_SUPPORT"}}));
}

v1::UpdateReferralRequest UpdateOf(const v1::Case& c) {
  v1::UpdateReferralRequest r;
  r.set_case_id(c.id());
  r.set_expected_revision(c.revision());
  *r.mutable_referrer() = c.referrer();
  r.set_summary(c.summary());
  r.set_concern_level(c.concern_level());
  r.set_concern_type(c.concern_type());
  *r.mutable_parties() = c.parties();
  *r.mutable_linked_case_references() = c.linked_case_references();
  r.set_reason("new information from the trust");
  return r;
}

TEST_F(ReferralServiceTest, UpdatingAReferralBumpsTheRevisionAndKeepsHistory) {
  const v1::Case c = server_.CreateReferral(org_);
  v1::UpdateReferralRequest r = UpdateOf(c);
  r.set_summary("Communication breakdown, now also affecting the wider team.");
  r.mutable_parties(1)->set_typical_availability("Tuesday and Thursday afternoons");
  v1::Party* added = r.add_parties();
  added->mutable_contact()->set_name("Sam Patel");
  added->mutable_contact()->set_email("sam.patel@example.nhs.uk");
  added->set_profession(v1::PROFESSION_MANAGER);
  v1::UpdateReferralResponse out;
  ASSERT_TRUE(
      server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), r, &out).ok());
  EXPECT_EQ(out.case_().revision(), c.revision() + 1);
  ASSERT_EQ(out.case_().parties_size(), 3);
  EXPECT_EQ(out.case_().parties(0).id(), c.parties(0).id());
  EXPECT_EQ(out.case_().parties(1).typical_availability(), "Tuesday and Thursday afternoons");
  EXPECT_EQ(out.case_().parties(2).contact().name(), "Sam Patel");

  v1::GetCaseHistoryRequest h;
  h.set_case_id(c.id());
  v1::GetCaseHistoryResponse history;
  ASSERT_TRUE(
      server_.cases().GetCaseHistory(WithToken(server_.case_support()).get(), h, &history).ok());
  ASSERT_EQ(history.entries_size(), 2);
  const v1::ReferralRevision& rev = history.entries(1).referral_revision();
  EXPECT_EQ(rev.revision(), 2);
  EXPECT_EQ(rev.reason(), "new information from the trust");
  EXPECT_EQ(std::vector<std::string>(rev.changed_fields().begin(), rev.changed_fields().end()),
            (std::vector<std::string>{
                "summary", absl::StrCat("parties[", c.parties(1).id(), "].typical_availability"),
                "parties: added Sam Patel"}));

  // The previous version is kept, whole, and sealed: its summary is not in the file.
  v1::Case previous;
  ASSERT_TRUE(server_
                  .ReadStore([&](storage::Tx& tx) -> absl::Status {
                    absl::StatusOr<std::string> before =
                        storage::ReferralDetailsBefore(tx, c.id(), 2);
                    if (!before.ok()) return before.status();
                    if (!previous.ParseFromString(*before)) return absl::DataLossError("parse");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(previous.summary(), c.summary());
  EXPECT_EQ(previous.parties_size(), 2);
  EXPECT_FALSE(absl::StrContains(server_.DiskBytes(), c.summary()));
}

TEST_F(ReferralServiceTest, AStaleRevisionIsAbortedAndChangesNothing) {
  const v1::Case c = server_.CreateReferral(org_);
  v1::UpdateReferralRequest first = UpdateOf(c);
  first.set_summary("First change.");
  v1::UpdateReferralResponse out;
  ASSERT_TRUE(server_.referrals()
                  .UpdateReferral(WithToken(server_.case_support()).get(), first, &out)
                  .ok());
  v1::UpdateReferralRequest second = UpdateOf(c);  // Still at the old revision.
  second.set_summary("Second change.");
  grpc::Status status =
      server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), second, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(server_.CountRows("referral_revisions"), 1);
  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse now;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), get, &now).ok());
  EXPECT_EQ(now.case_().summary(), "First change.");
  EXPECT_EQ(now.case_().revision(), 2);
}

TEST_F(ReferralServiceTest, PartiesCannotBeRemovedAndOtherOrganisationsCannotUpdate) {
  const v1::Case c = server_.CreateReferral(org_);
  v1::UpdateReferralRequest r = UpdateOf(c);
  v1::Party* p = r.add_parties();
  p->mutable_contact()->set_name("New Person");
  p->mutable_contact()->set_email("new.person@example.nhs.uk");
  p->set_profession(v1::PROFESSION_DENTIST);
  r.mutable_parties()->DeleteSubrange(0, 1);
  v1::UpdateReferralResponse out;
  grpc::Status status =
      server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), absl::StrCat("parties: party ", c.parties(0).id(),
                                                 " is missing; parties cannot be removed"));

  const int64_t other = server_.RegisterOrganisation("Other Trust");
  const std::string stranger = server_.IssueToken(v1::ROLE_ORGANISATION, 0, other);
  r = UpdateOf(c);
  r.set_summary("Hijacked.");
  status = server_.referrals().UpdateReferral(WithToken(stranger).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(server_.CountRows("referral_revisions"), 0);
  EXPECT_EQ(server_.CountRows("parties"), 2);
}

TEST_F(ReferralServiceTest, AfterScreeningPartiesCannotBeAddedNorTheConcernRaised) {
  const v1::Case c = server_.CreateReferral(org_);
  server_.MakeSuitable(c);
  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse now;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), get, &now).ok());

  v1::UpdateReferralRequest higher = UpdateOf(now.case_());
  higher.set_concern_level(v1::CONCERN_LEVEL_HIGH);
  v1::UpdateReferralResponse out;
  grpc::Status status =
      server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), higher, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "its screening is decided"));

  v1::UpdateReferralRequest wider = UpdateOf(now.case_());
  v1::Party* p = wider.add_parties();
  p->mutable_contact()->set_name("Unscreened Person");
  p->mutable_contact()->set_email("unscreened@example.nhs.uk");
  p->set_profession(v1::PROFESSION_MANAGER);
  EXPECT_EQ(server_.referrals()
                .UpdateReferral(WithToken(server_.case_support()).get(), wider, &out)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A correction to contact details is still fine.
  v1::UpdateReferralRequest phone = UpdateOf(now.case_());
  phone.mutable_referrer()->set_phone("020 7811 2600");
  EXPECT_TRUE(server_.referrals()
                  .UpdateReferral(WithToken(server_.case_support()).get(), phone, &out)
                  .ok());
  EXPECT_EQ(server_.CountRows("parties"), 2);
}

TEST_F(ReferralServiceTest, ABadPageTokenIsInvalidArgument) {
  v1::ListCasesRequest r;
  r.set_page_token("garbage");
  v1::ListCasesResponse out;
  grpc::Status status =
      server_.referrals().ListCases(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "page_token: "));
}

TEST_F(ReferralServiceTest, AnUpdateChangesOnlyWhatItsMaskNamesAndNeedsTheRevision) {
  const v1::Case c = server_.CreateReferral(org_);
  v1::UpdateReferralRequest r;
  r.set_case_id(c.id());
  r.set_expected_revision(c.revision());
  r.mutable_update_mask()->add_paths("summary");
  r.set_summary("The rota dispute has widened to the whole team.");
  r.set_reason("new information from the trust");
  // Parties left out of the request are not removed: the mask does not name them.
  v1::UpdateReferralResponse updated;
  grpc::Status s =
      server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), r, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.case_().summary(), "The rota dispute has widened to the whole team.");
  EXPECT_EQ(updated.case_().parties_size(), c.parties_size());
  EXPECT_EQ(updated.case_().referrer().email(), c.referrer().email());
  EXPECT_EQ(updated.case_().revision(), c.revision() + 1);

  // A stale revision, a missing one and a path that is not a part are refused, changing nothing.
  s = server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), r, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  r.set_expected_revision(0);
  s = server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), r, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "expected_revision: required"))
      << s.error_message();
  r.set_expected_revision(c.revision() + 1);
  r.mutable_update_mask()->add_paths("state");
  s = server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), r, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(
      absl::StartsWith(s.error_message(), "update_mask: 'state' is not a part of a referral"))
      << s.error_message();
  EXPECT_EQ(server_.CountRows("referral_revisions"), 1);
  // A part named but invalid is INVALID_ARGUMENT before anything is read, even for a case that
  // does not exist.
  v1::UpdateReferralRequest bad;
  bad.set_case_id(c.id() + 1000);
  bad.set_expected_revision(1);
  bad.mutable_update_mask()->add_paths("summary");
  bad.set_summary("");
  bad.set_reason("matrix");
  s = server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), bad, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "summary:")) << s.error_message();
}

}  // namespace
}  // namespace mediation

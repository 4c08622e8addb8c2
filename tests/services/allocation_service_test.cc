// Mediator registry and allocation through the real server: proposals, offers, acceptance,
// declines (conflicts feed back into exclusion), scoping of mediators, fairness.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::WithToken;

class AllocationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    case_ = server_.CreateReferral(org_);
    server_.MakeSuitable(case_);
    for (const char* name : {"Ana", "Ben", "Cai"}) {
      const int64_t id = server_.RegisterMediator(
          ValidMediator(absl::StrCat(name, " Mediator"), absl::StrCat(name, "@mediators.example")));
      ids_.push_back(id);
      tokens_[id] = server_.IssueToken(v1::ROLE_MEDIATOR, id);
    }
  }

  v1::AllocationProposal Propose(int64_t case_id,
                                 v1::AllocationRole role = v1::ALLOCATION_ROLE_UNSPECIFIED) {
    v1::ProposeAllocationRequest r;
    r.set_case_id(case_id);
    r.set_role(role);
    v1::ProposeAllocationResponse out;
    grpc::Status status =
        server_.allocation().ProposeAllocation(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out.proposal();
  }

  std::vector<int64_t> RankedIds(const v1::AllocationProposal& p) {
    std::vector<int64_t> out;
    for (const auto& m : p.ranked()) out.push_back(m.mediator_id());
    return out;
  }

  const v1::ExcludedMediator* Excluded(const v1::AllocationProposal& p, int64_t id) {
    for (const auto& e : p.excluded()) {
      if (e.mediator_id() == id) return &e;
    }
    return nullptr;
  }

  grpc::Status GetCaseAs(const std::string& token, int64_t case_id) {
    v1::GetCaseRequest r;
    r.set_case_id(case_id);
    v1::GetCaseResponse out;
    return server_.referrals().GetCase(WithToken(token).get(), r, &out);
  }

  TestServer server_;
  int64_t org_ = 0;
  v1::Case case_;
  std::vector<int64_t> ids_;
  std::map<int64_t, std::string> tokens_;
};

TEST_F(AllocationServiceTest, AProposalRanksTheEligibleAndExplainsEveryExclusion) {
  v1::Mediator welsh = ValidMediator("Dai Welsh", "dai@mediators.example");
  welsh.clear_nations();
  welsh.add_nations(v1::NATION_WALES);
  const int64_t welsh_id = server_.RegisterMediator(welsh);
  v1::Mediator lapsed = ValidMediator("Lou Lapsed", "lou@mediators.example");
  lapsed.set_cpd_hours_last_12_months(2);
  lapsed.mutable_insurance_expires_on()->set_year(2026);
  lapsed.mutable_insurance_expires_on()->set_month(1);
  const int64_t lapsed_id = server_.RegisterMediator(lapsed);
  // Knows the second party, under a slightly different spelling of the name.
  v1::Mediator knows = ValidMediator("Kim Knows", "kim@mediators.example");
  const int64_t knows_id = server_.RegisterMediator(knows);
  v1::DeclareConflictRequest declare;
  declare.set_mediator_id(knows_id);
  declare.mutable_conflict()->set_kind(v1::CONFLICT_KIND_PERSON);
  declare.mutable_conflict()->set_person_name("dr jo REED");
  v1::DeclareConflictResponse declared;
  ASSERT_TRUE(server_.mediators()
                  .DeclareConflict(WithToken(server_.admin_secret()).get(), declare, &declared)
                  .ok());

  const v1::AllocationProposal p = Propose(case_.id());
  EXPECT_EQ(p.role(), v1::ALLOCATION_ROLE_LEAD);
  EXPECT_EQ(RankedIds(p), ids_);  // Equal in every component: by id.
  EXPECT_EQ(p.eligible_count(), 3);
  ASSERT_EQ(p.excluded_size(), 3);
  ASSERT_NE(Excluded(p, welsh_id), nullptr);
  EXPECT_EQ(Excluded(p, welsh_id)->reasons(0), v1::EXCLUSION_REASON_NATION_NOT_COVERED);
  ASSERT_NE(Excluded(p, lapsed_id), nullptr);
  EXPECT_EQ(Excluded(p, lapsed_id)->reasons_size(), 2);
  EXPECT_EQ(Excluded(p, lapsed_id)->reasons(0), v1::EXCLUSION_REASON_INSURANCE_EXPIRES);
  EXPECT_EQ(Excluded(p, lapsed_id)->reasons(1), v1::EXCLUSION_REASON_CPD_BELOW_MINIMUM);
  EXPECT_EQ(Excluded(p, lapsed_id)->details(1),
            "2 CPD hours in the last 12 months; the minimum is 6");
  ASSERT_NE(Excluded(p, knows_id), nullptr);
  EXPECT_EQ(Excluded(p, knows_id)->reasons(0), v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY);
  EXPECT_EQ(Excluded(p, knows_id)->details(0),
            absl::StrCat("declared conflict with party ", case_.parties(1).id(), " (same name)"));

  // The same question gives the same answer.
  EXPECT_EQ(Propose(case_.id()).SerializeAsString(), p.SerializeAsString());
}

TEST_F(AllocationServiceTest, LeadAndCoMediatorAcceptingMovesTheCaseOn) {
  const int64_t lead = Propose(case_.id()).ranked(0).mediator_id();
  const int64_t lead_offer = server_.Allocate(case_.id(), lead, v1::ALLOCATION_ROLE_LEAD);
  ASSERT_TRUE(server_.Respond(tokens_[lead], lead_offer, true).ok());
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SUITABLE);  // One role still open.

  const v1::AllocationProposal co = Propose(case_.id());
  EXPECT_EQ(co.role(), v1::ALLOCATION_ROLE_CO_MEDIATOR);
  ASSERT_NE(Excluded(co, lead), nullptr);
  EXPECT_EQ(Excluded(co, lead)->reasons(0), v1::EXCLUSION_REASON_ALREADY_ON_CASE);
  const int64_t second = co.ranked(0).mediator_id();
  EXPECT_NE(second, lead);
  const int64_t co_offer = server_.Allocate(case_.id(), second, v1::ALLOCATION_ROLE_CO_MEDIATOR);
  ASSERT_TRUE(server_.Respond(tokens_[second], co_offer, true).ok());
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_MEDIATORS_ALLOCATED);

  // History: both offers and both acceptances, and the move.
  v1::GetCaseHistoryRequest h;
  h.set_case_id(case_.id());
  v1::GetCaseHistoryResponse history;
  ASSERT_TRUE(
      server_.cases().GetCaseHistory(WithToken(server_.case_support()).get(), h, &history).ok());
  std::vector<std::string> events;
  for (const auto& e : history.entries()) {
    if (e.has_allocation_change()) {
      events.push_back(absl::StrCat(e.allocation_change().mediator_id(), " ",
                                    v1::AllocationState_Name(e.allocation_change().state()), " ",
                                    v1::Role_Name(e.role())));
    }
  }
  EXPECT_EQ(events, (std::vector<std::string>{
                        absl::StrCat(lead, " ALLOCATION_STATE_PENDING ROLE_CASE_SUPPORT"),
                        absl::StrCat(lead, " ALLOCATION_STATE_ACCEPTED ROLE_MEDIATOR"),
                        absl::StrCat(second, " ALLOCATION_STATE_PENDING ROLE_CASE_SUPPORT"),
                        absl::StrCat(second, " ALLOCATION_STATE_ACCEPTED ROLE_MEDIATOR")}));
  EXPECT_EQ(history.entries(history.entries_size() - 1).state_change().to_state(),
            v1::CASE_STATE_MEDIATORS_ALLOCATED);
}

TEST_F(AllocationServiceTest, ADeclineForAConflictIsRecordedAndExcludesFromNextProposals) {
  const int64_t first = ids_[0];
  const int64_t offer = server_.Allocate(case_.id(), first, v1::ALLOCATION_ROLE_LEAD);
  ASSERT_TRUE(server_
                  .Respond(tokens_[first], offer, false, v1::DECLINE_REASON_CONFLICT_OF_INTEREST,
                           case_.parties(0).id())
                  .ok());

  // The role is open again, and the decliner is excluded for the conflict (and the decline).
  const v1::AllocationProposal p = Propose(case_.id());
  EXPECT_EQ(p.role(), v1::ALLOCATION_ROLE_LEAD);
  ASSERT_NE(Excluded(p, first), nullptr);
  EXPECT_EQ(Excluded(p, first)->reasons(0), v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY);
  EXPECT_EQ(Excluded(p, first)->reasons(1), v1::EXCLUSION_REASON_DECLINED_CASE);
  EXPECT_EQ(RankedIds(p), (std::vector<int64_t>{ids_[1], ids_[2]}));

  // Another case with the same person excludes the mediator too.
  const v1::Case other = server_.CreateReferral(org_);
  server_.MakeSuitable(other);
  const v1::AllocationProposal q = Propose(other.id());
  ASSERT_NE(Excluded(q, first), nullptr);
  EXPECT_EQ(Excluded(q, first)->reasons_size(), 1);
  EXPECT_EQ(Excluded(q, first)->reasons(0), v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY);

  v1::GetMediatorRequest get;
  get.set_mediator_id(first);
  v1::GetMediatorResponse m;
  ASSERT_TRUE(server_.mediators().GetMediator(WithToken(tokens_[first]).get(), get, &m).ok());
  ASSERT_EQ(m.mediator().conflicts_size(), 1);
  EXPECT_EQ(m.mediator().conflicts(0).source(), v1::CONFLICT_SOURCE_DISCOVERED);
  EXPECT_EQ(m.mediator().conflicts(0).person_email(), case_.parties(0).contact().email());
}

TEST_F(AllocationServiceTest, AMediatorSeesOnlyCasesOfferedToOrHeldByIt) {
  const int64_t a = ids_[0];
  EXPECT_EQ(GetCaseAs(tokens_[a], case_.id()).error_code(), grpc::StatusCode::NOT_FOUND);
  const int64_t offer = server_.Allocate(case_.id(), a, v1::ALLOCATION_ROLE_LEAD);
  EXPECT_TRUE(GetCaseAs(tokens_[a], case_.id()).ok());
  EXPECT_EQ(GetCaseAs(tokens_[ids_[1]], case_.id()).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListCasesResponse listed;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(tokens_[a]).get(), {}, &listed).ok());
  ASSERT_EQ(listed.cases_size(), 1);
  EXPECT_EQ(listed.cases(0).id(), case_.id());

  // Someone else's offer reads as absent.
  EXPECT_EQ(server_.Respond(tokens_[ids_[1]], offer, true).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(server_.Respond(tokens_[a], offer, false, v1::DECLINE_REASON_UNAVAILABLE).ok());
  EXPECT_EQ(GetCaseAs(tokens_[a], case_.id()).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AllocationServiceTest, AMediatorKeepsOnlyItsOwnRecord) {
  v1::AddLeaveRequest r;
  r.set_mediator_id(ids_[1]);
  r.mutable_leave()->mutable_first_day()->set_year(2027);
  r.mutable_leave()->mutable_first_day()->set_month(8);
  r.mutable_leave()->mutable_first_day()->set_day(2);
  *r.mutable_leave()->mutable_last_day() = r.leave().first_day();
  v1::AddLeaveResponse out;
  grpc::Status status = server_.mediators().AddLeave(WithToken(tokens_[ids_[0]]).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_.CountRows("mediator_leave"), 0);
  EXPECT_TRUE(server_.mediators().AddLeave(WithToken(tokens_[ids_[1]]).get(), r, &out).ok());
  v1::GetMediatorRequest get;
  get.set_mediator_id(ids_[1]);
  v1::GetMediatorResponse m;
  EXPECT_EQ(
      server_.mediators().GetMediator(WithToken(tokens_[ids_[0]]).get(), get, &m).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AllocationServiceTest, OffersAreRefusedForIneligibleMediatorsFilledRolesAndUnsuitableCases) {
  v1::GetMediatorRequest get;
  get.set_mediator_id(ids_[0]);
  v1::GetMediatorResponse read;
  ASSERT_TRUE(
      server_.mediators().GetMediator(WithToken(server_.admin_secret()).get(), get, &read).ok());
  v1::UpdateMediatorRequest inactive;
  inactive.mutable_mediator()->set_id(ids_[0]);
  inactive.mutable_mediator()->set_etag(read.mediator().etag());
  inactive.mutable_mediator()->set_active(false);
  inactive.mutable_update_mask()->add_paths("active");  // false is not "set": named.
  v1::UpdateMediatorResponse updated;
  ASSERT_TRUE(server_.mediators()
                  .UpdateMediator(WithToken(server_.admin_secret()).get(), inactive, &updated)
                  .ok());
  v1::AllocateMediatorRequest r;
  r.set_case_id(case_.id());
  r.set_mediator_id(ids_[0]);
  r.set_role(v1::ALLOCATION_ROLE_LEAD);
  v1::AllocateMediatorResponse out;
  grpc::Status status =
      server_.allocation().AllocateMediator(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("mediator ", ids_[0], " cannot take case ", case_.id(), ": not active"));

  server_.Allocate(case_.id(), ids_[1], v1::ALLOCATION_ROLE_LEAD);
  r.set_mediator_id(ids_[2]);
  status = server_.allocation().AllocateMediator(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "already offered to or held by"));

  const v1::Case referred = server_.CreateReferral(org_);
  r.set_case_id(referred.id());
  status = server_.allocation().AllocateMediator(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("allocations"), 1);
}

TEST_F(AllocationServiceTest, WithdrawingTheCaseReleasesOpenOffers) {
  const int64_t offer = server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  v1::WithdrawCaseRequest w;
  w.set_case_id(case_.id());
  w.set_withdrawn_by(v1::WITHDRAWN_BY_ORGANISATION);
  w.set_reason("resolved informally");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(
      server_.cases().WithdrawCase(WithToken(server_.case_support()).get(), w, &withdrawn).ok());
  EXPECT_EQ(
      server_.CountRows(
          "allocations",
          absl::StrCat("id = ", offer, " AND state = 'ALLOCATION_STATE_RELEASED' AND open = 0")),
      1);
  EXPECT_EQ(server_.Respond(tokens_[ids_[0]], offer, true).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // RELEASED, not PENDING.
  EXPECT_EQ(GetCaseAs(tokens_[ids_[0]], case_.id()).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AllocationServiceTest, OneMediatorCannotHoldBothRoles) {
  const int64_t offer = server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  ASSERT_TRUE(server_.Respond(tokens_[ids_[0]], offer, true).ok());
  v1::AllocateMediatorRequest r;
  r.set_case_id(case_.id());
  r.set_mediator_id(ids_[0]);
  r.set_role(v1::ALLOCATION_ROLE_CO_MEDIATOR);
  v1::AllocateMediatorResponse out;
  grpc::Status status =
      server_.allocation().AllocateMediator(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "already allocated to this case"))
      << status.error_message();
  EXPECT_EQ(server_.CountRows("allocations"), 1);
}

TEST_F(AllocationServiceTest, NeedingOneMediatorOnceTheLeadAcceptedMovesTheCaseOn) {
  const int64_t offer = server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  ASSERT_TRUE(server_.Respond(tokens_[ids_[0]], offer, true).ok());
  ASSERT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SUITABLE);
  ASSERT_TRUE(server_.SetMediatorsRequired(case_.id(), 1).ok());
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_MEDIATORS_ALLOCATED);
}

TEST_F(AllocationServiceTest, AWindowInThePastIsRefused) {
  v1::ProposeAllocationRequest r;
  r.set_case_id(case_.id());
  r.mutable_window_first_day()->set_year(2024);
  r.mutable_window_first_day()->set_month(1);
  r.mutable_window_first_day()->set_day(1);
  v1::ProposeAllocationResponse out;
  grpc::Status status =
      server_.allocation().ProposeAllocation(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "window_first_day: must not be before today (Europe/London)");
}

TEST_F(AllocationServiceTest, HistoryShowsAMediatorOnlyItsOwnOffersAndTheOrganisationNone) {
  const int64_t declined = server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  v1::RespondToAllocationRequest no;
  no.set_allocation_id(declined);
  no.set_decline_reason(v1::DECLINE_REASON_CONFLICT_OF_INTEREST);
  no.set_note("I know Dr Reed's husband socially");
  v1::RespondToAllocationResponse answered;
  ASSERT_TRUE(server_.allocation()
                  .RespondToAllocation(WithToken(tokens_[ids_[0]]).get(), no, &answered)
                  .ok());
  const int64_t lead = server_.Allocate(case_.id(), ids_[1], v1::ALLOCATION_ROLE_LEAD);
  ASSERT_TRUE(server_.Respond(tokens_[ids_[1]], lead, true).ok());
  server_.Allocate(case_.id(), ids_[2], v1::ALLOCATION_ROLE_CO_MEDIATOR);

  auto history = [&](const std::string& token) {
    v1::GetCaseHistoryRequest h;
    h.set_case_id(case_.id());
    v1::GetCaseHistoryResponse out;
    EXPECT_TRUE(server_.cases().GetCaseHistory(WithToken(token).get(), h, &out).ok());
    return out;
  };
  // The co-mediator sees its own offer and the lead's acceptance, nothing of the decline.
  const v1::GetCaseHistoryResponse co = history(tokens_[ids_[2]]);
  std::vector<std::string> seen;
  for (const auto& e : co.entries()) {
    if (!e.has_allocation_change()) continue;
    seen.push_back(absl::StrCat(e.allocation_change().mediator_id(), " ",
                                v1::AllocationState_Name(e.allocation_change().state())));
    EXPECT_EQ(e.allocation_change().note(), "");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{absl::StrCat(ids_[1], " ALLOCATION_STATE_ACCEPTED"),
                                            absl::StrCat(ids_[2], " ALLOCATION_STATE_PENDING")}));
  EXPECT_EQ(co.SerializeAsString().find("husband"), std::string::npos);

  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  const v1::GetCaseHistoryResponse org = history(org_token);
  for (const auto& e : org.entries()) EXPECT_FALSE(e.has_allocation_change());
  EXPECT_EQ(org.SerializeAsString().find("husband"), std::string::npos);
}

TEST_F(AllocationServiceTest, ADiscoveredConflictStaysUntilAnAdministratorRemovesIt) {
  const int64_t offer = server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  ASSERT_TRUE(server_
                  .Respond(tokens_[ids_[0]], offer, false, v1::DECLINE_REASON_CONFLICT_OF_INTEREST,
                           case_.parties(1).id())
                  .ok());
  v1::GetMediatorRequest get;
  get.set_mediator_id(ids_[0]);
  v1::GetMediatorResponse m;
  ASSERT_TRUE(
      server_.mediators().GetMediator(WithToken(server_.admin_secret()).get(), get, &m).ok());
  ASSERT_EQ(m.mediator().conflicts_size(), 1);
  v1::RemoveConflictRequest r;
  r.set_mediator_id(ids_[0]);
  r.set_conflict_id(m.mediator().conflicts(0).id());
  v1::RemoveConflictResponse out;
  EXPECT_EQ(
      server_.mediators().RemoveConflict(WithToken(tokens_[ids_[0]]).get(), r, &out).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_.CountRows("mediator_conflicts"), 1);
  EXPECT_TRUE(
      server_.mediators().RemoveConflict(WithToken(server_.admin_secret()).get(), r, &out).ok());
  EXPECT_EQ(server_.CountRows("mediator_conflicts"), 0);
}

TEST_F(AllocationServiceTest, AMediatorCannotProbeForCasesItCannotSee) {
  v1::DeclareConflictRequest r;
  r.set_mediator_id(ids_[0]);
  r.mutable_conflict()->set_kind(v1::CONFLICT_KIND_CASE);
  r.mutable_conflict()->set_case_id(case_.id());  // Exists, but not offered to this mediator.
  v1::DeclareConflictResponse out;
  grpc::Status hidden =
      server_.mediators().DeclareConflict(WithToken(tokens_[ids_[0]]).get(), r, &out);
  r.mutable_conflict()->set_case_id(case_.id() + 1000);
  grpc::Status missing =
      server_.mediators().DeclareConflict(WithToken(tokens_[ids_[0]]).get(), r, &out);
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(hidden.error_message(), absl::StrCat("conflict.case_id: no case ", case_.id()));
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.CountRows("mediator_conflicts"), 0);
}

TEST(AllocationFairnessTest, RotationFollowsTheLeastRecentlyAllocatedWhenCasesFinish) {
  TestServer server;
  const int64_t org = server.RegisterOrganisation("Trust");
  std::map<int64_t, std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    const int64_t id = server.RegisterMediator(
        ValidMediator(absl::StrCat("Mediator ", i), absl::StrCat("m", i, "@mediators.example")));
    tokens[id] = server.IssueToken(v1::ROLE_MEDIATOR, id);
  }
  std::vector<int64_t> chosen;
  for (int n = 0; n < 8; ++n) {
    const v1::Case c = server.CreateReferral(org);
    server.MakeSuitable(c);
    v1::ProposeAllocationRequest r;
    r.set_case_id(c.id());
    v1::ProposeAllocationResponse p;
    ASSERT_TRUE(
        server.allocation().ProposeAllocation(WithToken(server.case_support()).get(), r, &p).ok());
    const int64_t lead = p.proposal().ranked(0).mediator_id();
    chosen.push_back(lead);
    const int64_t offer = server.Allocate(c.id(), lead, v1::ALLOCATION_ROLE_LEAD);
    ASSERT_TRUE(server.Respond(tokens[lead], offer, true).ok());
    // The case ends at once, so caseloads stay level and recency alone rotates the offers.
    v1::WithdrawCaseRequest w;
    w.set_case_id(c.id());
    w.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
    w.set_reason("test");
    v1::WithdrawCaseResponse done;
    ASSERT_TRUE(server.cases().WithdrawCase(WithToken(server.case_support()).get(), w, &done).ok());
  }
  EXPECT_EQ(chosen, (std::vector<int64_t>{1, 2, 3, 4, 1, 2, 3, 4}));
}

TEST(AllocationFairnessTest, HundredSequentialAllocationsSpreadEvenly) {
  TestServer server;
  const int64_t org = server.RegisterOrganisation("Trust");
  std::map<int64_t, std::string> tokens;
  for (int i = 0; i < 7; ++i) {
    const int64_t id = server.RegisterMediator(
        ValidMediator(absl::StrCat("Mediator ", i), absl::StrCat("m", i, "@mediators.example")));
    tokens[id] = server.IssueToken(v1::ROLE_MEDIATOR, id);
  }
  std::map<int64_t, int> count;
  for (int n = 0; n < 100; ++n) {
    const v1::Case c = server.CreateReferral(org);
    server.MakeSuitable(c);
    ASSERT_TRUE(server.SetMediatorsRequired(c.id(), 1).ok());
    v1::ProposeAllocationRequest r;
    r.set_case_id(c.id());
    r.set_max_candidates(1);
    v1::ProposeAllocationResponse p;
    ASSERT_TRUE(
        server.allocation().ProposeAllocation(WithToken(server.case_support()).get(), r, &p).ok());
    ASSERT_EQ(p.proposal().ranked_size(), 1);
    const int64_t chosen = p.proposal().ranked(0).mediator_id();
    const int64_t offer = server.Allocate(c.id(), chosen, v1::ALLOCATION_ROLE_LEAD);
    ASSERT_TRUE(server.Respond(tokens[chosen], offer, true).ok());
    ++count[chosen];
  }
  int lo = 1000, hi = 0;
  for (const auto& [id, n] : count) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  EXPECT_EQ(count.size(), 7u);
  EXPECT_LE(hi - lo, 1) << "lo " << lo << " hi " << hi;
}

}  // namespace
}  // namespace mediation

namespace mediation {
namespace {

// A mediator who declared a conflict with Alex Morgan, and a case whose first party is written
// as an attacker (or a careless form) would write them.
class ConflictSpellingTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
 protected:
  void SetUp() override {
    const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    const auto& [name, email] = GetParam();
    case_ = server_.CreateReferral(org, [&](v1::CreateReferralRequest& r) {
      r.mutable_parties(0)->mutable_contact()->set_name(name);
      r.mutable_parties(0)->mutable_contact()->set_email(email);
    });
    server_.MakeSuitable(case_);
    mediator_ = server_.RegisterMediator(ValidMediator("Kim Knows", "kim@mediators.example"));
    v1::DeclareConflictRequest declare;
    declare.set_mediator_id(mediator_);
    declare.mutable_conflict()->set_kind(v1::CONFLICT_KIND_PERSON);
    declare.mutable_conflict()->set_person_name("Alex Morgan");
    declare.mutable_conflict()->set_person_email("alex.morgan@hospital.example");
    v1::DeclareConflictResponse declared;
    ASSERT_TRUE(server_.mediators()
                    .DeclareConflict(WithToken(server_.admin_secret()).get(), declare, &declared)
                    .ok());
    conflict_ = declared.conflict().id();
    v1::ProposeAllocationRequest propose;
    propose.set_case_id(case_.id());
    v1::ProposeAllocationResponse proposal;
    ASSERT_TRUE(server_.allocation()
                    .ProposeAllocation(WithToken(server_.case_support()).get(), propose, &proposal)
                    .ok());
    proposal_ = proposal.proposal();
  }

  grpc::Status Allocate(const std::vector<int64_t>& confirmed) {
    v1::AllocateMediatorRequest allocate;
    allocate.set_case_id(case_.id());
    allocate.set_mediator_id(mediator_);
    allocate.set_role(v1::ALLOCATION_ROLE_LEAD);
    for (int64_t id : confirmed) allocate.add_confirmed_no_conflict_party_ids(id);
    v1::AllocateMediatorResponse allocated;
    return server_.allocation().AllocateMediator(WithToken(server_.case_support()).get(), allocate,
                                                 &allocated);
  }

  TestServer server_;
  v1::Case case_;
  int64_t mediator_ = 0;
  int64_t conflict_ = 0;
  v1::AllocationProposal proposal_;
};

class LookAlikeAllocationTest : public ConflictSpellingTest {};

TEST_P(LookAlikeAllocationTest, ACertainMatchExcludesTheMediatorWhateverTheSpelling) {
  EXPECT_EQ(proposal_.ranked_size(), 0);
  ASSERT_EQ(proposal_.excluded_size(), 1);
  EXPECT_EQ(proposal_.excluded(0).reasons(0), v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY);
  // A confirmation never overrides a certain conflict.
  const grpc::Status refused = Allocate({case_.parties(0).id()});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_EQ(server_.CountRows("allocations"), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, LookAlikeAllocationTest,
    ::testing::Values(
        std::pair<std::string, std::string>{"Alex\u00A0Morgan", "a1@example.org"},
        std::pair<std::string, std::string>{"Sam Other", "alex.morgan\u200B@hospital.example"},
        std::pair<std::string, std::string>{"\uFF21lex \uFF2Dorgan", "a2@example.org"},
        std::pair<std::string, std::string>{"Al\u0435x M\u043Ergan", "a3@example.org"},
        std::pair<std::string, std::string>{"Alex Mor\u0301gan", "a4@example.org"},
        std::pair<std::string, std::string>{"Alex J. Morgan", "a5@example.org"},
        std::pair<std::string, std::string>{"Morgan, Alex", "a6@example.org"}));

class NearMatchAllocationTest : public ConflictSpellingTest {};

TEST_P(NearMatchAllocationTest, APossibleMatchIsMarkedAndAllocatesOnlyOnceConfirmed) {
  ASSERT_EQ(proposal_.ranked_size(), 1);
  const v1::RankedMediator& ranked = proposal_.ranked(0);
  ASSERT_EQ(ranked.possible_conflicts_size(), 1);
  EXPECT_EQ(ranked.possible_conflicts(0).conflict_id(), conflict_);
  EXPECT_EQ(ranked.possible_conflicts(0).party_id(), case_.parties(0).id());
  EXPECT_TRUE(
      absl::StrContains(ranked.possible_conflicts(0).detail(), "\"Alex Morgan\" may be party"))
      << ranked.possible_conflicts(0).detail();
  grpc::Status s = Allocate({});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "confirmed_no_conflict_party_ids"))
      << s.error_message();
  EXPECT_EQ(server_.CountRows("allocations"), 0);
  s = Allocate({case_.parties(0).id()});
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(server_.CountRows("allocations"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, NearMatchAllocationTest,
    ::testing::Values(std::pair<std::string, std::string>{"Sam Morgan", "s1@example.org"},
                      std::pair<std::string, std::string>{"Morgan Alex", "s2@example.org"},
                      std::pair<std::string, std::string>{"Sam Other",
                                                          "alex.morgan+rota@hospital.example"}));

}  // namespace
}  // namespace mediation

namespace mediation {
namespace {

// Two administrators edit one mediator: the second, working from what it read before the first
// saved, is refused instead of overwriting.
TEST_F(AllocationServiceTest, AStaleEtagIsAbortedAndChangesNothing) {
  v1::GetMediatorRequest get;
  get.set_mediator_id(ids_[0]);
  v1::GetMediatorResponse read;
  ASSERT_TRUE(
      server_.mediators().GetMediator(WithToken(server_.admin_secret()).get(), get, &read).ok());
  // Registered at r1; the fixture's working pattern made it r2.
  EXPECT_EQ(read.mediator().etag(), "r2");

  v1::UpdateMediatorRequest first;
  first.mutable_mediator()->set_id(ids_[0]);
  first.mutable_mediator()->set_etag(read.mediator().etag());
  first.mutable_mediator()->set_max_concurrent_cases(2);  // No mask: the fields set.
  v1::UpdateMediatorResponse updated;
  ASSERT_TRUE(server_.mediators()
                  .UpdateMediator(WithToken(server_.admin_secret()).get(), first, &updated)
                  .ok());
  EXPECT_EQ(updated.mediator().max_concurrent_cases(), 2);
  EXPECT_EQ(updated.mediator().etag(), "r3");
  // Everything not named is kept.
  EXPECT_EQ(updated.mediator().contact().name(), "Ana Mediator");
  EXPECT_EQ(updated.mediator().cpd_hours_last_12_months(),
            read.mediator().cpd_hours_last_12_months());

  v1::UpdateMediatorRequest second;
  second.mutable_mediator()->set_id(ids_[0]);
  second.mutable_mediator()->set_etag(read.mediator().etag());  // Stale.
  second.mutable_mediator()->mutable_contact()->set_phone("0116 496 0000");
  second.mutable_update_mask()->add_paths("contact.phone");
  const grpc::Status s =
      server_.mediators().UpdateMediator(WithToken(server_.admin_secret()).get(), second, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("mediator ", ids_[0],
                         " was changed since you read it (it is now at r3, you sent r2); read it "
                         "again and reapply your change"));
  EXPECT_EQ(server_.CountRows("mediators", absl::StrCat("id = ", ids_[0],
                                                        " AND revision = 3 AND "
                                                        "phone = '' AND max_concurrent_cases = 2")),
            1);

  // A path that is not a profile field, and no etag, are INVALID_ARGUMENT naming the field.
  second.mutable_mediator()->set_etag("r2");
  second.mutable_update_mask()->add_paths("working_pattern");
  EXPECT_EQ(server_.mediators()
                .UpdateMediator(WithToken(server_.admin_secret()).get(), second, &updated)
                .error_message(),
            "update_mask: 'working_pattern' is not a profile field; see the field's "
            "documentation for those that are");
  second.mutable_mediator()->clear_etag();
  EXPECT_EQ(server_.mediators()
                .UpdateMediator(WithToken(server_.admin_secret()).get(), second, &updated)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace mediation

namespace mediation {
namespace {

TEST_F(AllocationServiceTest, AProposalWhileAnOfferIsPendingPlansForADecline) {
  // One mediator needed; the lead role offered to the first, who has not answered.
  ASSERT_TRUE(server_.SetMediatorsRequired(case_.id(), 1).ok());
  server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  const v1::AllocationProposal p = Propose(case_.id());
  EXPECT_EQ(p.role(), v1::ALLOCATION_ROLE_LEAD);
  EXPECT_EQ(p.pending_mediator_id(), ids_[0]);
  EXPECT_EQ(RankedIds(p), (std::vector<int64_t>{ids_[1], ids_[2]}));
  ASSERT_NE(Excluded(p, ids_[0]), nullptr);
  EXPECT_EQ(Excluded(p, ids_[0])->reasons(0), v1::EXCLUSION_REASON_ALREADY_ON_CASE);
  // The role itself stays taken until the answer.
  v1::AllocateMediatorRequest r;
  r.set_case_id(case_.id());
  r.set_mediator_id(ids_[1]);
  r.set_role(v1::ALLOCATION_ROLE_LEAD);
  v1::AllocateMediatorResponse out;
  const grpc::Status s =
      server_.allocation().AllocateMediator(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("allocations"), 1);
}

}  // namespace
}  // namespace mediation

namespace mediation {
namespace {

TEST_F(AllocationServiceTest, BeforeAcceptingAMediatorSeesOnlyWhatRecognisesAConflict) {
  const int64_t offer = server_.Allocate(case_.id(), ids_[0], v1::ALLOCATION_ROLE_LEAD);
  v1::GetCaseRequest r;
  r.set_case_id(case_.id());
  v1::GetCaseResponse pending;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(tokens_[ids_[0]]).get(), r, &pending).ok());
  EXPECT_EQ(pending.case_().organisation_id(), org_);
  // By name: a mediator may not read organisations, and a conflict is with a name, not an id.
  EXPECT_EQ(pending.case_().organisation_name(), "Northshire Hospitals NHS Trust");
  ASSERT_EQ(pending.case_().parties_size(), 2);
  EXPECT_EQ(pending.case_().parties(0).contact().name(), "Dr Alex Morgan");
  EXPECT_EQ(pending.case_().parties(0).profession(), v1::PROFESSION_DOCTOR);
  // Nothing of the conflict itself, nor how to reach anyone.
  EXPECT_EQ(pending.case_().summary(), "");
  EXPECT_EQ(pending.case_().parties(0).contact().email(), "");
  EXPECT_EQ(pending.case_().parties(1).accessibility_needs(), "");
  EXPECT_FALSE(pending.case_().has_referrer());
  EXPECT_FALSE(pending.case_().has_screening());
  EXPECT_FALSE(absl::StrContains(pending.SerializeAsString(), "Breakdown in communication"));
  // And the proposed dates, on the offer itself: the default window, today to 90 days on.
  v1::ListAllocationsRequest mine;
  mine.set_case_id(case_.id());
  v1::ListAllocationsResponse offers;
  ASSERT_TRUE(
      server_.allocation().ListAllocations(WithToken(tokens_[ids_[0]]).get(), mine, &offers).ok());
  ASSERT_EQ(offers.allocations_size(), 1);
  const v1::Allocation& o = offers.allocations(0);
  ASSERT_TRUE(o.has_proposed_first_day() && o.has_proposed_last_day());
  const absl::CivilDay first(o.proposed_first_day().year(), o.proposed_first_day().month(),
                             o.proposed_first_day().day());
  const absl::CivilDay last(o.proposed_last_day().year(), o.proposed_last_day().month(),
                            o.proposed_last_day().day());
  EXPECT_EQ(last - first, 90);
  EXPECT_LE(std::abs(first - absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())), 1);

  ASSERT_TRUE(server_.Respond(tokens_[ids_[0]], offer, true).ok());
  v1::GetCaseResponse accepted;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(tokens_[ids_[0]]).get(), r, &accepted).ok());
  EXPECT_EQ(accepted.case_().summary(), case_.summary());
  EXPECT_EQ(accepted.case_().parties(0).contact().email(), "alex.morgan@example.nhs.uk");
}

}  // namespace
}  // namespace mediation

// The lifecycle through the real server: holds, resumes, withdrawals, illegal transitions and the
// history.
#include <gtest/gtest.h>

#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

class CaseServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    case_ = server_.CreateReferral(org_);
  }

  grpc::Status Hold(const std::string& reason, v1::HoldCaseResponse* out = nullptr) {
    v1::HoldCaseRequest r;
    r.set_case_id(case_.id());
    r.set_reason(reason);
    v1::HoldCaseResponse ignored;
    return server_.cases().HoldCase(WithToken(server_.case_support()).get(), r,
                                    out != nullptr ? out : &ignored);
  }
  grpc::Status Resume(v1::ResumeCaseResponse* out = nullptr) {
    v1::ResumeCaseRequest r;
    r.set_case_id(case_.id());
    v1::ResumeCaseResponse ignored;
    return server_.cases().ResumeCase(WithToken(server_.case_support()).get(), r,
                                      out != nullptr ? out : &ignored);
  }
  grpc::Status Withdraw(const std::string& token, v1::WithdrawnBy by, const std::string& reason) {
    v1::WithdrawCaseRequest r;
    r.set_case_id(case_.id());
    r.set_withdrawn_by(by);
    r.set_reason(reason);
    v1::WithdrawCaseResponse out;
    return server_.cases().WithdrawCase(WithToken(token).get(), r, &out);
  }
  std::vector<v1::CaseHistoryEntry> History(const std::string& token) {
    v1::GetCaseHistoryRequest r;
    r.set_case_id(case_.id());
    v1::GetCaseHistoryResponse out;
    grpc::Status status = server_.cases().GetCaseHistory(WithToken(token).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {out.entries().begin(), out.entries().end()};
  }

  TestServer server_;
  int64_t org_ = 0;
  v1::Case case_;
};

TEST_F(CaseServiceTest, AHeldCaseResumesToTheStateItLeft) {
  server_.MakeSuitable(case_);
  v1::HoldCaseResponse held;
  ASSERT_TRUE(Hold("grievance raised; waiting for it to end", &held).ok());
  EXPECT_EQ(held.state(), v1::CASE_STATE_ON_HOLD);
  EXPECT_EQ(held.held_from_state(), v1::CASE_STATE_SUITABLE);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_ON_HOLD);

  // Holding twice is refused, naming the state.
  grpc::Status again = Hold("again");
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(again.error_message(),
            absl::StrCat("case ", case_.id(),
                         ": cannot put on hold: the case is ON_HOLD; from there it may move only "
                         "to WITHDRAWN, the state it was held from (resume)"));

  v1::ResumeCaseResponse resumed;
  ASSERT_TRUE(Resume(&resumed).ok());
  EXPECT_EQ(resumed.state(), v1::CASE_STATE_SUITABLE);
  EXPECT_EQ(Resume().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CaseServiceTest, IllegalTransitionsAreRefusedAndChangeNothing) {
  ASSERT_TRUE(
      Withdraw(server_.case_support(), v1::WITHDRAWN_BY_SERVICE, "trust asked by phone").ok());
  const size_t history_before = History(server_.case_support()).size();
  const int64_t audit_ok_before = server_.CountRows("audit_events", "outcome = 'OK'");

  EXPECT_EQ(Hold("too late").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  grpc::Status withdraw = Withdraw(server_.case_support(), v1::WITHDRAWN_BY_SERVICE, "twice");
  EXPECT_EQ(withdraw.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(withdraw.error_message(),
            absl::StrCat("case ", case_.id(),
                         ": cannot move to WITHDRAWN: the case is WITHDRAWN, which is final"));
  v1::RecordScreeningAnswerRequest answer;
  answer.set_case_id(case_.id());
  answer.set_criterion(v1::CRITERION_NOT_CONTRACTUAL);
  answer.set_answer(v1::CRITERION_ANSWER_MET);
  v1::RecordScreeningAnswerResponse answered;
  EXPECT_EQ(server_.screening()
                .RecordScreeningAnswer(WithToken(server_.case_support()).get(), answer, &answered)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(History(server_.case_support()).size(), history_before);
  EXPECT_EQ(server_.CountRows("audit_events", "outcome = 'OK'"), audit_ok_before);
  EXPECT_EQ(server_.CountRows("audit_events", "outcome = 'FAILED_PRECONDITION'"), 3);
}

TEST_F(CaseServiceTest, HistoryShowsEveryTransitionWithWhoAndWhen) {
  server_.MakeSuitable(case_);
  ASSERT_TRUE(Hold("party on leave").ok());
  ASSERT_TRUE(Resume().ok());
  const std::vector<v1::CaseHistoryEntry> h = History(server_.case_support());
  ASSERT_EQ(h.size(), 5u);
  auto state = [](const v1::CaseHistoryEntry& e) {
    return std::make_pair(e.state_change().from_state(), e.state_change().to_state());
  };
  EXPECT_EQ(state(h[0]), std::make_pair(v1::CASE_STATE_UNSPECIFIED, v1::CASE_STATE_REFERRED));
  EXPECT_EQ(state(h[1]), std::make_pair(v1::CASE_STATE_REFERRED, v1::CASE_STATE_SCREENING));
  EXPECT_EQ(state(h[2]), std::make_pair(v1::CASE_STATE_SCREENING, v1::CASE_STATE_SUITABLE));
  EXPECT_EQ(state(h[3]), std::make_pair(v1::CASE_STATE_SUITABLE, v1::CASE_STATE_ON_HOLD));
  EXPECT_EQ(state(h[4]), std::make_pair(v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_SUITABLE));
  EXPECT_EQ(h[2].role(), v1::ROLE_SENIOR_ADVISER);
  EXPECT_EQ(h[2].state_change().reason(), "Senior Adviser confirmed SUITABLE");
  EXPECT_EQ(h[3].role(), v1::ROLE_CASE_SUPPORT);
  EXPECT_EQ(h[3].actor(), "test ROLE_CASE_SUPPORT");
  EXPECT_EQ(h[3].state_change().reason(), "party on leave");
  for (size_t i = 1; i < h.size(); ++i) {
    EXPECT_GE(h[i].at().seconds(), h[i - 1].at().seconds());
    EXPECT_GT(h[i].token_id(), 0);
  }
}

TEST_F(CaseServiceTest, TheOrganisationSeesTransitionsButNotReasonsOrNames) {
  ASSERT_TRUE(Hold("Dr Reed is signed off sick").ok());
  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  const std::vector<v1::CaseHistoryEntry> h = History(org_token);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].state_change().to_state(), v1::CASE_STATE_ON_HOLD);
  EXPECT_EQ(h[1].state_change().reason(), "");
  EXPECT_EQ(h[1].actor(), "");

  v1::GetCaseRequest get;
  get.set_case_id(case_.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(org_token).get(), get, &got).ok());
  EXPECT_EQ(got.case_().state(), v1::CASE_STATE_ON_HOLD);
  EXPECT_EQ(got.case_().hold_reason(), "");
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), get, &got).ok());
  EXPECT_EQ(got.case_().hold_reason(), "Dr Reed is signed off sick");
}

TEST_F(CaseServiceTest, APartyWithdrawsAndTheOrganisationLearnsOnlyThatMediationEnded) {
  const std::string party =
      server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(1).id());
  ASSERT_TRUE(Withdraw(party, v1::WITHDRAWN_BY_UNSPECIFIED, "I no longer wish to take part").ok());

  v1::GetCaseRequest get;
  get.set_case_id(case_.id());
  v1::GetCaseResponse support_view, org_view, party_view;
  ASSERT_TRUE(server_.referrals()
                  .GetCase(WithToken(server_.case_support()).get(), get, &support_view)
                  .ok());
  EXPECT_EQ(support_view.case_().withdrawn_by(), v1::WITHDRAWN_BY_PARTY);
  EXPECT_EQ(support_view.case_().withdrawal_reason(), "I no longer wish to take part");

  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(org_token).get(), get, &org_view).ok());
  EXPECT_EQ(org_view.case_().state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(org_view.case_().withdrawn_by(), v1::WITHDRAWN_BY_UNSPECIFIED);
  EXPECT_EQ(org_view.case_().withdrawal_reason(), "");
  // Nor does the history say who withdrew, even by role.
  const std::vector<v1::CaseHistoryEntry> history = History(org_token);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].state_change().to_state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(history[1].role(), v1::ROLE_UNSPECIFIED);
  EXPECT_EQ(history[1].token_id(), 0);

  // A party sees only the reference and the state of its own case.
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(party).get(), get, &party_view).ok());
  EXPECT_EQ(party_view.case_().state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(party_view.case_().reference(), case_.reference());
  EXPECT_EQ(party_view.case_().parties_size(), 0);
  EXPECT_EQ(party_view.case_().summary(), "");
}

TEST_F(CaseServiceTest, APartyMayWithdrawWithoutSayingWhyButStaffMustRecordWhy) {
  EXPECT_EQ(Withdraw(server_.case_support(), v1::WITHDRAWN_BY_PARTY, "").error_message(),
            "reason: required");
  const std::string party =
      server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(0).id());
  ASSERT_TRUE(Withdraw(party, v1::WITHDRAWN_BY_UNSPECIFIED, "").ok());

  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_WITHDRAWN);
  const std::vector<v1::CaseHistoryEntry> history = History(server_.case_support());
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].state_change().reason(),
            absl::StrCat("withdrawn by party ", case_.parties(0).id(), " (no reason given)"));
}

TEST_F(CaseServiceTest, WithdrawalValidatesWhoWithdrew) {
  grpc::Status status = Withdraw(server_.case_support(), v1::WITHDRAWN_BY_UNSPECIFIED, "asked");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "withdrawn_by: required: say who asked for the withdrawal");
  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  status = Withdraw(org_token, v1::WITHDRAWN_BY_PARTY, "asked");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "withdrawn_by: a ROLE_ORGANISATION token withdraws as WITHDRAWN_BY_ORGANISATION");
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_REFERRED);
}

TEST_F(CaseServiceTest, AnotherPartysTokenCannotWithdrawThisCase) {
  const v1::Case other = server_.CreateReferral(org_);
  const std::string stranger =
      server_.IssueToken(v1::ROLE_PARTY, 0, 0, other.id(), other.parties(0).id());
  grpc::Status status = Withdraw(stranger, v1::WITHDRAWN_BY_UNSPECIFIED, "not mine");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_REFERRED);
}

grpc::Status Reopen(TestServer& server, int64_t case_id, const std::string& token,
                    const std::string& reason, v1::ReopenCaseResponse* out = nullptr) {
  v1::ReopenCaseRequest r;
  r.set_case_id(case_id);
  r.set_reason(reason);
  v1::ReopenCaseResponse ignored;
  return server.cases().ReopenCase(WithToken(token).get(), r, out != nullptr ? out : &ignored);
}

TEST_F(CaseServiceTest, AWithdrawnCaseReopensToScreeningKeepingItsHistory) {
  server_.MakeSuitable(case_);
  ASSERT_TRUE(
      Withdraw(server_.case_support(), v1::WITHDRAWN_BY_ORGANISATION, "trust withdrew").ok());
  const size_t before = History(server_.case_support()).size();
  v1::ReopenCaseResponse reopened;
  grpc::Status s = Reopen(server_, case_.id(), server_.senior_adviser(),
                          "both doctors asked to try mediation again", &reopened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reopened.state(), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(reopened.reopened_from(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(
      server_.CountRows("cases", absl::StrCat("id = ", case_.id(), " AND finished_at IS NULL")), 1);
  const std::vector<v1::CaseHistoryEntry> history = History(server_.case_support());
  ASSERT_EQ(history.size(), before + 1);
  EXPECT_EQ(history.back().state_change().from_state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(history.back().state_change().to_state(), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(history.back().state_change().reason(),
            "reopened: both doctors asked to try mediation again");
  // It is screened again from there: a new decision is recorded.
  server_.MakeSuitable(case_);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SUITABLE);
  EXPECT_EQ(server_.CountRows("screening_decisions", absl::StrCat("case_id = ", case_.id())), 2);
}

TEST_F(CaseServiceTest, ANotSuitableCaseReopensToScreening) {
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_NOT_MET);
  v1::RecordScreeningDecisionRequest decide;
  decide.set_case_id(case_.id());
  v1::RecordScreeningDecisionResponse decided;
  ASSERT_TRUE(
      server_.screening()
          .RecordScreeningDecision(WithToken(server_.senior_adviser()).get(), decide, &decided)
          .ok());
  ASSERT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_NOT_SUITABLE);
  v1::ReopenCaseResponse reopened;
  ASSERT_TRUE(Reopen(server_, case_.id(), server_.case_support(),
                     "the grievance has been withdrawn, so criterion 4 may be met now", &reopened)
                  .ok());
  EXPECT_EQ(reopened.state(), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(reopened.reopened_from(), v1::CASE_STATE_NOT_SUITABLE);
}

TEST_F(CaseServiceTest, ReopeningIsRefusedForOpenCasesWithoutAReasonAndForOtherRoles) {
  grpc::Status s = Reopen(server_, case_.id(), server_.case_support(), "try again");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("case ", case_.id(),
                         ": cannot reopen: the case is REFERRED; only CLOSED, NOT_SUITABLE and "
                         "WITHDRAWN cases can be reopened"));
  ASSERT_TRUE(Withdraw(server_.case_support(), v1::WITHDRAWN_BY_SERVICE, "asked by phone").ok());
  s = Reopen(server_, case_.id(), server_.case_support(), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "reason:")) << s.error_message();
  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  EXPECT_EQ(Reopen(server_, case_.id(), org_token, "we want it back").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_WITHDRAWN);
}

// The reopening period, on a clock the test moves.
TEST(ReopenPeriodTest, ACaseFinishedLongerAgoThanThePeriodStaysFinished) {
  auto now = std::make_shared<std::atomic<int64_t>>(1803859200);
  TestServer server([now](ServerOptions& o) {
    o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
    o.settings.reopen_period = absl::Hours(24 * 30);
  });
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server.CreateReferral(org);
  v1::WithdrawCaseRequest w;
  w.set_case_id(c.id());
  w.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
  w.set_reason("asked by phone");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(
      server.cases().WithdrawCase(WithToken(server.case_support()).get(), w, &withdrawn).ok());
  now->fetch_add(31 * 86400);
  const int64_t history = server.CountRows("case_state_history");
  grpc::Status s = Reopen(server, c.id(), server.case_support(), "they changed their minds");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("case ", c.id(),
                         " finished more than 30 days ago (the reopening period); refer it again "
                         "as a new case"));
  EXPECT_EQ(server.CountRows("case_state_history"), history);
  // Within the period it reopens.
  now->fetch_sub(2 * 86400);
  EXPECT_TRUE(Reopen(server, c.id(), server.case_support(), "they changed their minds").ok());
}

}  // namespace
}  // namespace mediation

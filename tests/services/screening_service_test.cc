// The screening flow through the real server: referral -> answers -> evaluation -> Senior
// Adviser decision -> state, with the domain file's table row by row.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

class ScreeningServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    case_ = server_.CreateReferral(org_);
  }

  grpc::Status Answer(v1::Criterion criterion, int64_t party_id, v1::CriterionAnswer answer,
                      const std::string& note = "", v1::ScreeningAnswer* out = nullptr) {
    v1::RecordScreeningAnswerRequest r;
    r.set_case_id(case_.id());
    r.set_criterion(criterion);
    r.set_party_id(party_id);
    r.set_answer(answer);
    r.set_note(note);
    v1::RecordScreeningAnswerResponse response;
    grpc::Status status = server_.screening().RecordScreeningAnswer(
        WithToken(server_.case_support()).get(), r, &response);
    if (out != nullptr) *out = response.answer();
    return status;
  }

  v1::ScreeningEvaluation Evaluate() {
    v1::EvaluateScreeningRequest r;
    r.set_case_id(case_.id());
    v1::EvaluateScreeningResponse out;
    grpc::Status status =
        server_.screening().EvaluateScreening(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out.evaluation();
  }

  grpc::Status Decide(v1::Suitability override_decision, const std::string& justification,
                      bool confirm_high, v1::RecordScreeningDecisionResponse* out) {
    v1::RecordScreeningDecisionRequest r;
    r.set_case_id(case_.id());
    r.set_override_decision(override_decision);
    r.set_justification(justification);
    r.set_confirm_high_concern(confirm_high);
    return server_.screening().RecordScreeningDecision(WithToken(server_.senior_adviser()).get(), r,
                                                       out);
  }

  int64_t party(int i) const { return case_.parties(i).id(); }

  TestServer server_;
  int64_t org_ = 0;
  v1::Case case_;
};

TEST_F(ScreeningServiceTest, TheFirstAnswerMovesAReferredCaseToScreening) {
  ASSERT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_REFERRED);
  v1::ScreeningAnswer stored;
  ASSERT_TRUE(Answer(v1::CRITERION_NOT_CONTRACTUAL, 0, v1::CRITERION_ANSWER_MET, "", &stored).ok());
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);
  EXPECT_GT(stored.id(), 0);
  EXPECT_GT(stored.recorded_by_token_id(), 0);
  EXPECT_TRUE(stored.has_recorded_at());
}

TEST_F(ScreeningServiceTest, ALaterAnswerSupersedesAndBothAreKept) {
  v1::ScreeningAnswer first, second;
  ASSERT_TRUE(
      Answer(v1::CRITERION_WILLING, party(0), v1::CRITERION_ANSWER_UNKNOWN, "not yet asked", &first)
          .ok());
  ASSERT_TRUE(Answer(v1::CRITERION_WILLING, party(0), v1::CRITERION_ANSWER_MET, "", &second).ok());

  v1::ListScreeningAnswersRequest r;
  r.set_case_id(case_.id());
  v1::ListScreeningAnswersResponse in_force, all;
  ASSERT_TRUE(server_.screening()
                  .ListScreeningAnswers(WithToken(server_.case_support()).get(), r, &in_force)
                  .ok());
  ASSERT_EQ(in_force.answers_size(), 1);
  EXPECT_EQ(in_force.answers(0).id(), second.id());
  r.set_include_superseded(true);
  ASSERT_TRUE(server_.screening()
                  .ListScreeningAnswers(WithToken(server_.case_support()).get(), r, &all)
                  .ok());
  ASSERT_EQ(all.answers_size(), 2);
  EXPECT_EQ(all.answers(1).id(), first.id());
  EXPECT_EQ(all.answers(1).superseded_by(), second.id());
  EXPECT_EQ(all.answers(1).note(), "not yet asked");
}

TEST_F(ScreeningServiceTest, AllMetConfirmedMakesTheCaseSuitable) {
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  const v1::ScreeningEvaluation e = Evaluate();
  EXPECT_EQ(e.decision(), v1::SUITABILITY_SUITABLE);
  EXPECT_EQ(e.statuses_size(), 9);
  v1::RecordScreeningDecisionResponse out;
  ASSERT_TRUE(Decide(v1::SUITABILITY_UNSPECIFIED, "", false, &out).ok());
  EXPECT_EQ(out.state(), v1::CASE_STATE_SUITABLE);
  EXPECT_EQ(out.decision().decision(), v1::SUITABILITY_SUITABLE);
  EXPECT_FALSE(out.decision().overridden());
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SUITABLE);
}

struct TableRow {
  v1::Criterion criterion;
  int party_index;  // -1 for per-case criteria.
  const char* signposting;
};

class ScreeningTableTest : public ScreeningServiceTest,
                           public ::testing::WithParamInterface<TableRow> {};

TEST_P(ScreeningTableTest, EachUnmetCriterionClosesTheCaseWithItsSignposting) {
  const TableRow row = GetParam();
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  const int64_t party_id = row.party_index < 0 ? 0 : party(row.party_index);
  ASSERT_TRUE(Answer(row.criterion, party_id, v1::CRITERION_ANSWER_NOT_MET, "reason given").ok());

  const v1::ScreeningEvaluation e = Evaluate();
  EXPECT_EQ(e.decision(), v1::SUITABILITY_NOT_SUITABLE);
  ASSERT_EQ(e.failures_size(), 1);
  EXPECT_EQ(e.failures(0).criterion(), row.criterion);
  EXPECT_EQ(e.failures(0).party_id(), party_id);
  EXPECT_EQ(e.failures(0).signposting(), row.signposting);

  v1::RecordScreeningDecisionResponse out;
  ASSERT_TRUE(Decide(v1::SUITABILITY_UNSPECIFIED, "", false, &out).ok());
  EXPECT_EQ(out.state(), v1::CASE_STATE_NOT_SUITABLE);

  // The organisation sees the decision, the criterion's id and the signposting.
  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  v1::GetCaseRequest get;
  get.set_case_id(case_.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(org_token).get(), get, &got).ok());
  EXPECT_EQ(got.case_().state(), v1::CASE_STATE_NOT_SUITABLE);
  EXPECT_EQ(got.case_().screening().decision(), v1::SUITABILITY_NOT_SUITABLE);
  ASSERT_EQ(got.case_().screening().failed_criteria_size(), 1);
  EXPECT_EQ(got.case_().screening().failed_criteria(0), row.criterion);
  EXPECT_EQ(got.case_().screening().signposting(0), row.signposting);
}

INSTANTIATE_TEST_SUITE_P(
    DomainTable, ScreeningTableTest,
    ::testing::Values(
        TableRow{v1::CRITERION_JOINT_PROBLEM, 0,
                 "behavioural assessment, a team review or a facilitated conversation"},
        TableRow{v1::CRITERION_WILLING, 1,
                 "revisit later; mediation is voluntary, so never pressure a party"},
        TableRow{v1::CRITERION_NOT_CONTRACTUAL, -1, "the organisation's HR or contractual route"},
        TableRow{v1::CRITERION_NO_FORMAL_PROCESS, -1,
                 "hold until the formal process ends; the formal Dignity at Work policy"},
        TableRow{v1::CRITERION_NO_RELATIONSHIP, -1,
                 "an external provider or the organisation's own policy"},
        TableRow{v1::CRITERION_FIT_TO_ATTEND, 1,
                 "occupational health; hold until the party is fit to attend"}),
    [](const ::testing::TestParamInfo<TableRow>& info) {
      return v1::Criterion_Name(info.param.criterion);
    });

TEST_F(ScreeningServiceTest, UnknownAnswersNeedInformationAndCannotBeConfirmed) {
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  ASSERT_TRUE(
      Answer(v1::CRITERION_NO_FORMAL_PROCESS, 0, v1::CRITERION_ANSWER_UNKNOWN, "HR to confirm")
          .ok());
  const v1::ScreeningEvaluation e = Evaluate();
  EXPECT_EQ(e.decision(), v1::SUITABILITY_NEEDS_INFORMATION);
  ASSERT_EQ(e.open_size(), 1);
  EXPECT_EQ(e.open(0).criterion(), v1::CRITERION_NO_FORMAL_PROCESS);

  v1::RecordScreeningDecisionResponse out;
  grpc::Status status = Decide(v1::SUITABILITY_UNSPECIFIED, "", false, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            "the answers give NEEDS_INFORMATION (open: CRITERION_NO_FORMAL_PROCESS); record the "
            "missing answers, or override with a justification");
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(server_.CountRows("screening_decisions"), 0);
}

TEST_F(ScreeningServiceTest, MissingAnswersAreCautions) {
  ASSERT_TRUE(Answer(v1::CRITERION_NOT_CONTRACTUAL, 0, v1::CRITERION_ANSWER_MET).ok());
  const v1::ScreeningEvaluation e = Evaluate();
  EXPECT_EQ(e.decision(), v1::SUITABILITY_NEEDS_INFORMATION);
  EXPECT_EQ(e.open_size(), 8);
  EXPECT_EQ(e.cautions_size(), 8);
  EXPECT_EQ(e.cautions(0),
            absl::StrCat("CRITERION_JOINT_PROBLEM for party ", party(0), " has no answer yet"));
}

TEST_F(ScreeningServiceTest, AnOverrideNeedsAJustificationAndIsKeptWithIt) {
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  ASSERT_TRUE(Answer(v1::CRITERION_JOINT_PROBLEM, party(1), v1::CRITERION_ANSWER_NOT_MET,
                     "does not see a problem")
                  .ok());
  v1::RecordScreeningDecisionResponse out;
  grpc::Status status = Decide(v1::SUITABILITY_SUITABLE, "too short", false, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "justification: overriding NOT_SUITABLE with SUITABLE needs a written justification "
            "of at least 20 characters");
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);

  const std::string why = "Spoke to both parties on 20 Nov; both now accept a joint problem.";
  ASSERT_TRUE(Decide(v1::SUITABILITY_SUITABLE, why, false, &out).ok());
  EXPECT_EQ(out.state(), v1::CASE_STATE_SUITABLE);
  EXPECT_TRUE(out.decision().overridden());
  EXPECT_EQ(out.decision().evaluated(), v1::SUITABILITY_NOT_SUITABLE);

  v1::ListScreeningDecisionsRequest list;
  list.set_case_id(case_.id());
  v1::ListScreeningDecisionsResponse decisions;
  ASSERT_TRUE(server_.screening()
                  .ListScreeningDecisions(WithToken(server_.case_support()).get(), list, &decisions)
                  .ok());
  ASSERT_EQ(decisions.decisions_size(), 1);
  EXPECT_EQ(decisions.decisions(0).justification(), why);
}

TEST_F(ScreeningServiceTest, AnOverrideToNotSuitableNamesTheCriteriaItRestsOn) {
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  v1::RecordScreeningDecisionRequest r;
  r.set_case_id(case_.id());
  r.set_override_decision(v1::SUITABILITY_NOT_SUITABLE);
  r.set_justification("The trust has since started a formal grievance process.");
  v1::RecordScreeningDecisionResponse out;
  grpc::Status status = server_.screening().RecordScreeningDecision(
      WithToken(server_.senior_adviser()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "override_criteria: an override to NOT_SUITABLE must name the criteria it rests on");
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);

  r.add_override_criteria(v1::CRITERION_NO_FORMAL_PROCESS);
  ASSERT_TRUE(server_.screening()
                  .RecordScreeningDecision(WithToken(server_.senior_adviser()).get(), r, &out)
                  .ok());
  EXPECT_EQ(out.state(), v1::CASE_STATE_NOT_SUITABLE);
  ASSERT_EQ(out.decision().failed_criteria_size(), 1);
  EXPECT_EQ(out.decision().failed_criteria(0), v1::CRITERION_NO_FORMAL_PROCESS);
  EXPECT_EQ(out.decision().signposting(0),
            "hold until the formal process ends; the formal Dignity at Work policy");
}

TEST_F(ScreeningServiceTest, ADecisionOnAStaleEvaluationIsAborted) {
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  const v1::ScreeningEvaluation seen = Evaluate();
  ASSERT_EQ(seen.decision(), v1::SUITABILITY_SUITABLE);
  ASSERT_GT(seen.answers_version(), 0);
  // Case support records a failure after the Senior Adviser looked.
  ASSERT_TRUE(Answer(v1::CRITERION_WILLING, party(1), v1::CRITERION_ANSWER_NOT_MET,
                     "has refused to take part")
                  .ok());
  v1::RecordScreeningDecisionRequest r;
  r.set_case_id(case_.id());
  r.set_expected_answers_version(seen.answers_version());
  v1::RecordScreeningDecisionResponse out;
  grpc::Status status = server_.screening().RecordScreeningDecision(
      WithToken(server_.senior_adviser()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(server_.CountRows("screening_decisions"), 0);
}

TEST_F(ScreeningServiceTest, AHighConcernNeedsExplicitConfirmationToProceed) {
  v1::UpdateReferralRequest update;
  update.set_case_id(case_.id());
  update.set_expected_revision(case_.revision());
  update.mutable_update_mask()->add_paths("concern_level");  // The rest stays as stored.
  update.set_concern_level(v1::CONCERN_LEVEL_HIGH);
  update.set_reason("persistent behaviour reported");
  v1::UpdateReferralResponse updated;
  ASSERT_TRUE(server_.referrals()
                  .UpdateReferral(WithToken(server_.case_support()).get(), update, &updated)
                  .ok());
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  EXPECT_TRUE(Evaluate().high_concern());

  v1::RecordScreeningDecisionResponse out;
  grpc::Status status = Decide(v1::SUITABILITY_UNSPECIFIED, "", false, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "the concern level is HIGH"));
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SCREENING);

  ASSERT_TRUE(Decide(v1::SUITABILITY_UNSPECIFIED, "", true, &out).ok());
  EXPECT_TRUE(out.decision().high_concern_confirmed());
  EXPECT_EQ(out.state(), v1::CASE_STATE_SUITABLE);
}

TEST_F(ScreeningServiceTest, AnswersAfterTheDecisionAreRefusedAndChangeNothing) {
  server_.MakeSuitable(case_);
  const int64_t answers = server_.CountRows("screening_answers");
  grpc::Status status =
      Answer(v1::CRITERION_WILLING, party(0), v1::CRITERION_ANSWER_NOT_MET, "changed their mind");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("case ", case_.id(),
                         " is CASE_STATE_SUITABLE; screening answers can be recorded only while "
                         "it is REFERRED or SCREENING"));
  EXPECT_EQ(server_.CountRows("screening_answers"), answers);

  v1::RecordScreeningDecisionResponse out;
  EXPECT_EQ(Decide(v1::SUITABILITY_UNSPECIFIED, "", false, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("screening_decisions"), 1);
}

TEST_F(ScreeningServiceTest, AnswersAreValidatedAgainstTheCriterionsScope) {
  struct Bad {
    v1::Criterion criterion;
    int64_t party_id;
    v1::CriterionAnswer answer;
    std::string note;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {v1::CRITERION_WILLING, 0, v1::CRITERION_ANSWER_MET, "",
       "party_id: CRITERION_WILLING is answered for each party: give the party's id"},
      {v1::CRITERION_NO_RELATIONSHIP, party(0), v1::CRITERION_ANSWER_MET, "",
       "party_id: CRITERION_NO_RELATIONSHIP is answered once for the case: leave party_id 0"},
      {v1::CRITERION_FIT_TO_ATTEND, party(0), v1::CRITERION_ANSWER_NOT_MET, "",
       "note: required for NOT_MET and UNKNOWN: say what is wrong or missing"},
      {v1::CRITERION_UNSPECIFIED, 0, v1::CRITERION_ANSWER_MET, "", "criterion: required"},
      {v1::CRITERION_WILLING, 99999, v1::CRITERION_ANSWER_MET, "",
       absl::StrCat("party_id: party 99999 is not a party of case ", case_.id())},
  };
  for (const Bad& b : bad) {
    grpc::Status status = Answer(b.criterion, b.party_id, b.answer, b.note);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << b.message;
    EXPECT_EQ(status.error_message(), b.message);
  }
  EXPECT_EQ(server_.CountRows("screening_answers"), 0);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_REFERRED);
}

TEST_F(ScreeningServiceTest, TheOrganisationNeverSeesScreeningNotesOrJustifications) {
  const std::string health_note = "Party is off sick with stress until January (OH report)";
  server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
  ASSERT_TRUE(
      Answer(v1::CRITERION_FIT_TO_ATTEND, party(0), v1::CRITERION_ANSWER_NOT_MET, health_note)
          .ok());
  const std::string justification = "Confirmed with occupational health by telephone today.";
  v1::RecordScreeningDecisionResponse out;
  ASSERT_TRUE(Decide(v1::SUITABILITY_UNSPECIFIED, justification, false, &out).ok());

  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  std::string everything;
  v1::GetCaseRequest get;
  get.set_case_id(case_.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(org_token).get(), get, &got).ok());
  everything += got.SerializeAsString();
  v1::ListCasesResponse listed;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(org_token).get(), {}, &listed).ok());
  everything += listed.SerializeAsString();
  v1::GetCaseHistoryRequest history;
  history.set_case_id(case_.id());
  v1::GetCaseHistoryResponse hist;
  ASSERT_TRUE(server_.cases().GetCaseHistory(WithToken(org_token).get(), history, &hist).ok());
  everything += hist.SerializeAsString();

  EXPECT_EQ(everything.find("off sick"), std::string::npos);
  EXPECT_EQ(everything.find("occupational health by telephone"), std::string::npos);
  EXPECT_EQ(got.case_().screening().failed_criteria(0), v1::CRITERION_FIT_TO_ATTEND);

  // And the organisation cannot reach the screening detail directly.
  v1::ListScreeningAnswersRequest answers;
  answers.set_case_id(case_.id());
  v1::ListScreeningAnswersResponse a;
  EXPECT_EQ(server_.screening()
                .ListScreeningAnswers(WithToken(org_token).get(), answers, &a)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace mediation
